"""Keyset cursors for the catalog, pure.

A cursor is the sort key of the last item of a page (`aired_at` or `view_count`, then
`id`), so the next page starts strictly after it: items inserted meanwhile never shift the
pages, and no item of the catalog as it was appears twice.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from replay.models import SORTS, Replay, Sort

MAX_CURSOR_CHARS = 200  # ours are under 100; a longer one was not made here


class CursorError(ValueError):
    """A cursor that this server did not make, or made for another sort."""


@dataclass(frozen=True, slots=True)
class Cursor:
    sort: Sort
    key: str | int  # aired_at (ISO UTC text) for newest, view_count for most_viewed
    id: int


def after(replay: Replay, sort: Sort, aired_at_text: str) -> Cursor:
    key: str | int = aired_at_text if sort == "newest" else replay.view_count
    return Cursor(sort, key, replay.id)


def encode(cursor: Cursor) -> str:
    raw = json.dumps([cursor.sort, cursor.key, cursor.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(text: str, sort: Sort) -> Cursor:
    """The cursor in `text`; raises CursorError unless it is well formed and for `sort`."""
    if len(text) > MAX_CURSOR_CHARS:
        raise CursorError("not a cursor from this catalog")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise CursorError("not a cursor from this catalog") from None
    if not (isinstance(data, list) and len(data) == 3 and data[0] in SORTS):
        raise CursorError("not a cursor from this catalog")
    found_sort, key, ident = data
    if found_sort != sort:
        raise CursorError(f"cursor was made for sort={found_sort}")
    valid_key = _is_time(key) if sort == "newest" else _is_count(key)
    if not valid_key or not _is_count(ident):
        raise CursorError("not a cursor from this catalog")
    return Cursor(sort, key, ident)


def _is_count(value: object) -> bool:
    """An id or a view count: an int SQLite can hold (never a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63


def _is_time(value: object) -> bool:
    """An aware ISO-8601 time, as the catalog writes `aired_at`."""
    if not isinstance(value, str) or len(value) > 40:
        return False
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False
