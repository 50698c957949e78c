"""Time arithmetic of a replay, pure: deep-link timestamps and comment windows.

Comment windows are `[start, end)` in seconds into the recording. The rules for bad times:
negative or non-finite times are rejected; `end` must be after `start`; a window longer
than `MAX_WINDOW_SECONDS` is rejected; a window reaching past the end of the recording is
clamped to the recording's duration (a window starting at or after the end is empty).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from replay.models import Replay

MAX_WINDOW_SECONDS = 600.0
MAX_OFFSET_SECONDS = 7 * 86400.0  # no recording is longer than a week
# ASCII digits only (`\d` would take ٣); the seconds' `s` may be left off (`1m30`).
_CLOCK = re.compile(r"(?:([0-9]{1,3})h)?(?:([0-9]{1,5})m)?(?:([0-9]{1,6})s?)?")


class TimeError(ValueError):
    """A time that cannot be used; `field` names the parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def parse_timestamp(raw: str) -> int | None:
    """`3723`, `1h2m3s`, `62m`, `45s`, `1m30` -> seconds; anything else -> None. The one
    parser of `?t=` (replay pages, share links, embeds)."""
    raw = raw.strip().lower()
    if not raw:
        return None
    if raw.isascii() and raw.isdigit():
        return int(raw) if len(raw) <= 7 else None
    match = _CLOCK.fullmatch(raw)
    if match is None or not any(match.groups()):
        return None
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def format_timestamp(seconds: int) -> str:
    """Seconds -> the `1h2m3s` form used in share links (`0s` for zero)."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    out = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    return out + (f"{secs}s" if secs or not out else "")


def format_clock(seconds: float) -> str:
    """Seconds -> `1:02:03` or `2:03`, as players show positions."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def start_position(raw: str | None, duration_seconds: int) -> int:
    """Where a deep link starts playback: the `t` parameter if it parses and falls inside
    the recording, else 0 (a link past the end plays from the start, as a typo would)."""
    if raw is None:
        return 0
    seconds = parse_timestamp(raw)
    if seconds is None:
        return 0
    if duration_seconds and seconds >= duration_seconds:
        return 0
    return seconds


def utc_iso(moment: datetime) -> str:
    """The text form `livechat` stores `created_at` in (microseconds, `+00:00`)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True, slots=True)
class CommentWindow:
    """One window, in both the forms `CommentStore.window` takes."""

    start: float  # seconds into the recording
    end: float
    start_utc: str  # live comments written in [start_utc, end_utc)
    end_utc: str
    offset_from: float  # replay comments stored with a broadcast-timeline offset in range
    offset_to: float

    @property
    def empty(self) -> bool:
        return self.end <= self.start


def window(replay: Replay, start: float, end: float | None) -> CommentWindow:
    """The window `[start, end)` of `replay` (default end: start + 60 s). Raises TimeError."""
    if not math.isfinite(start) or start < 0:
        raise TimeError("from", "must be a number of seconds, 0 or more")
    if start > MAX_OFFSET_SECONDS:
        raise TimeError("from", f"must be at most {MAX_OFFSET_SECONDS:g} seconds")
    if end is None:
        end = start + 60.0
    if not math.isfinite(end) or end < 0:
        raise TimeError("to", "must be a number of seconds, 0 or more")
    if end <= start:
        raise TimeError("to", "must be greater than from")
    if end - start > MAX_WINDOW_SECONDS:
        raise TimeError("to", f"a window is at most {MAX_WINDOW_SECONDS:g} seconds long")
    if replay.duration_seconds > 0:
        start = min(start, float(replay.duration_seconds))
        end = min(end, float(replay.duration_seconds))
    origin = replay.recording_started_at
    return CommentWindow(
        start=start,
        end=end,
        start_utc=utc_iso(origin + timedelta(seconds=start)),
        end_utc=utc_iso(origin + timedelta(seconds=end)),
        offset_from=start + replay.shift,
        offset_to=end + replay.shift,
    )


def recording_offset(replay: Replay, created_at: str, video_offset: float | None) -> float:
    """Where a stored comment falls in the recording, in seconds."""
    if video_offset is not None:
        return video_offset - replay.shift
    written = datetime.fromisoformat(created_at)
    return (written - replay.recording_started_at).total_seconds()


def stored_offset(replay: Replay, offset: float) -> float:
    """The offset a comment written `offset` seconds into the recording is stored with."""
    return offset + replay.shift
