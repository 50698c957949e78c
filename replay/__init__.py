"""The replay (VOD) catalog: search, chapters, captions, comments replayed in sync."""

from replay.cursor import CursorError
from replay.models import (
    SORTS,
    Caption,
    Chapter,
    Replay,
    ReplayEdit,
    ReplayPage,
    ReplayQuery,
    Sort,
    Status,
)
from replay.search import QueryError
from replay.store import ReplayStore, clean_chapters
from replay.timeline import (
    MAX_WINDOW_SECONDS,
    CommentWindow,
    TimeError,
    format_clock,
    format_timestamp,
    parse_timestamp,
    recording_offset,
    start_position,
    stored_offset,
    window,
)

__all__ = [
    "MAX_WINDOW_SECONDS",
    "SORTS",
    "Caption",
    "Chapter",
    "CommentWindow",
    "CursorError",
    "QueryError",
    "Replay",
    "ReplayEdit",
    "ReplayPage",
    "ReplayQuery",
    "ReplayStore",
    "Sort",
    "Status",
    "TimeError",
    "clean_chapters",
    "format_clock",
    "format_timestamp",
    "parse_timestamp",
    "recording_offset",
    "start_position",
    "stored_offset",
    "window",
]
