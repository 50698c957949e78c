"""The replay (VOD) catalog: search, chapters, captions, comments replayed in sync."""

from replay.store import ReplayStore

__all__ = ["ReplayStore"]
