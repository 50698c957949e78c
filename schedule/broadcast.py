"""What a broadcast is, and how raw input becomes one: plain data, no I/O.

Validation never stops at the first problem: `parse_draft` collects every `FieldError`
of its input, so an API answer or an import report can name them all. A time without a
UTC offset is Seoul time (the channel's clock, `schedule.wall_clock`); all are kept as
aware UTC datetimes.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from schedule.wall_clock import EXAMPLE, SEOUL, parse_wall_time

Status = Literal["planned", "live", "ended", "cancelled"]
STATUSES: tuple[Status, ...] = ("planned", "live", "ended", "cancelled")
# Suggested categories (the operator page offers them); any short label is accepted.
CATEGORIES: tuple[str, ...] = ("시정현장", "회의", "기자설명회", "시민참여", "정책토론")

TITLE_MAX = 120
DESCRIPTION_MAX = 2000
CATEGORY_MAX = 30
URL_MAX = 500
STAFF_MAX = 20
STAFF_NAME_MAX = 40
MIN_DURATION = timedelta(minutes=1)
MAX_DURATION = timedelta(hours=12)

# Allowed moves of `status`; anything else is a 409 naming `status`.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "planned": ("live", "cancelled"),
    "live": ("ended",),
    "ended": (),
    "cancelled": (),
}


@dataclass(frozen=True, slots=True)
class Broadcast:
    """A scheduled broadcast. Times are aware UTC; `[starts_at, ends_at)` is half-open."""

    id: int
    title: str
    description: str
    category: str
    starts_at: datetime
    ends_at: datetime
    status: str = "planned"
    stream_url: str = ""
    thumbnail_url: str = ""
    staff: tuple[str, ...] = field(default=())

    @property
    def duration_seconds(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds())

    @property
    def on_channel(self) -> bool:
        """Occupies its time on the channel (everything but a cancelled broadcast)."""
        return self.status != "cancelled"

    @property
    def chat_open(self) -> bool:
        """Live comments are taken only while the broadcast is on air: not before (planned),
        not after (ended) and never for a cancelled one; replay comments are another path."""
        return self.status == "live"

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.starts_at < end and start < self.ends_at


@dataclass(frozen=True, slots=True)
class BroadcastDraft:
    """Validated input for a new broadcast (or the full new state of an edited one)."""

    title: str
    category: str
    starts_at: datetime
    ends_at: datetime
    description: str = ""
    stream_url: str = ""
    thumbnail_url: str = ""
    staff: tuple[str, ...] = ()
    status: str = "planned"


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


class BroadcastError(ValueError):
    """One or more problems with a broadcast; `errors[0]` is the one to show first."""

    code = "invalid"  # stable; `overlap` and `conflict` below (web.http.errors maps to HTTP)

    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors = tuple(errors)
        assert self.errors, "a BroadcastError names at least one field"
        first = self.errors[0]
        super().__init__(f"{first.field}: {first.message}")

    @property
    def field(self) -> str:
        return self.errors[0].field

    @property
    def message(self) -> str:
        return self.errors[0].message


class OverlapError(BroadcastError):
    """The times collide with another broadcast on the channel (`other`)."""

    code = "overlap"

    def __init__(self, other: Broadcast, field_name: str = "starts_at") -> None:
        self.other = other
        super().__init__([FieldError(field_name, overlap_message(other))])


class TransitionError(BroadcastError):
    code = "conflict"

    def __init__(self, current: str, wanted: str) -> None:
        super().__init__([FieldError("status", f"cannot change a {current} broadcast to {wanted}")])


def overlap_message(other: Broadcast) -> str:
    start, end = other.starts_at.astimezone(SEOUL), other.ends_at.astimezone(SEOUL)
    until = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M}"
    return (
        f'overlaps broadcast {other.id} "{other.title}" ({start:%Y-%m-%d %H:%M}–{until} Seoul time)'
    )


def find_overlap(
    start: datetime, end: datetime, others: Iterable[Broadcast], exclude_id: int | None = None
) -> Broadcast | None:
    """The earliest broadcast on the channel whose time intersects `[start, end)`."""
    hits = [b for b in others if b.on_channel and b.id != exclude_id and b.overlaps(start, end)]
    return min(hits, key=lambda b: (b.starts_at, b.id)) if hits else None


# ---- parsing raw input ------------------------------------------------------------------


def clean_line(value: str) -> str:
    """Text without control characters, trimmed (newlines are not allowed)."""
    return "".join(ch for ch in value if unicodedata.category(ch)[0] != "C").strip()


def clean_block(value: str) -> str:
    """Text that may span lines: control characters dropped except newlines."""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch)[0] != "C").strip()


def parse_time(value: object) -> datetime:
    """An aware datetime as UTC; ValueError saying what is wrong. Text without an offset
    is Seoul wall-clock time, in the spellings `parse_wall_time` reads."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=SEOUL)
    elif isinstance(value, str) and value.strip():
        moment = parse_wall_time(value)
    else:
        raise ValueError(f"required: a date and time such as {EXAMPLE}")
    if not 2000 <= moment.year <= 2099:
        raise ValueError("must be in the years 2000–2099")
    return moment.astimezone(UTC)


def _text(
    data: Mapping[str, Any],
    name: str,
    limit: int,
    errors: list[FieldError],
    *,
    required: bool = False,
    block: bool = False,
) -> str:
    raw = data.get(name)
    if raw is None or raw == "":
        if required:
            errors.append(FieldError(name, "required"))
        return ""
    if not isinstance(raw, str):
        errors.append(FieldError(name, "must be a string"))
        return ""
    value = clean_block(raw) if block else clean_line(raw)
    if required and not value:
        errors.append(FieldError(name, "must not be empty"))
    elif len(value) > limit:
        errors.append(FieldError(name, f"at most {limit} characters (got {len(value)})"))
    return value


def _url(data: Mapping[str, Any], name: str, errors: list[FieldError]) -> str:
    value = _text(data, name, URL_MAX, errors)
    if value and not (
        value.startswith(("https://", "http://"))
        or (value.startswith("/") and not value.startswith("//"))
    ):
        errors.append(FieldError(name, "must be an http(s) URL or a path starting with /"))
    return value


def _staff(data: Mapping[str, Any], errors: list[FieldError]) -> tuple[str, ...]:
    raw = data.get("staff")
    if raw is None or raw == "":
        return ()
    if isinstance(raw, str):
        raw = [part for part in raw.replace(";", ",").split(",")]
    if not isinstance(raw, list | tuple) or not all(isinstance(x, str) for x in raw):
        errors.append(FieldError("staff", "must be a list of names"))
        return ()
    names: list[str] = []
    for item in raw:
        name = clean_line(item)
        if not name or name in names:
            continue
        if len(name) > STAFF_NAME_MAX:
            errors.append(FieldError("staff", f"each name at most {STAFF_NAME_MAX} characters"))
            return ()
        names.append(name)
    if len(names) > STAFF_MAX:
        errors.append(FieldError("staff", f"at most {STAFF_MAX} names"))
        return ()
    return tuple(names)


def _time(data: Mapping[str, Any], name: str, errors: list[FieldError]) -> datetime | None:
    try:
        return parse_time(data.get(name))
    except ValueError as exc:
        errors.append(FieldError(name, str(exc)))
        return None


def check_times(starts_at: datetime, ends_at: datetime) -> list[FieldError]:
    """Problems with a start/end pair: order, shortest and longest length."""
    if ends_at <= starts_at:
        return [FieldError("ends_at", "must be after starts_at")]
    length = ends_at - starts_at
    if length < MIN_DURATION:
        return [FieldError("ends_at", f"a broadcast lasts at least {MIN_DURATION}")]
    if length > MAX_DURATION:
        hours = int(MAX_DURATION.total_seconds() // 3600)
        return [FieldError("ends_at", f"a broadcast lasts at most {hours} hours")]
    return []


KNOWN_FIELDS = frozenset(
    {
        "title",
        "description",
        "category",
        "starts_at",
        "ends_at",
        "stream_url",
        "thumbnail_url",
        "staff",
    }
)


def parse_draft(data: Mapping[str, Any], *, base: Broadcast | None = None) -> BroadcastDraft:
    """A validated draft from raw input; raises `BroadcastError` listing every problem.

    With `base`, fields missing from `data` keep the base broadcast's values (an edit).
    """
    errors: list[FieldError] = [
        FieldError(name, "unknown field") for name in sorted(data) if name not in KNOWN_FIELDS
    ]
    if base is not None:
        data = {**_as_input(base), **data}
    title = _text(data, "title", TITLE_MAX, errors, required=True)
    category = _text(data, "category", CATEGORY_MAX, errors, required=True)
    description = _text(data, "description", DESCRIPTION_MAX, errors, block=True)
    starts_at = _time(data, "starts_at", errors)
    ends_at = _time(data, "ends_at", errors)
    stream_url = _url(data, "stream_url", errors)
    thumbnail_url = _url(data, "thumbnail_url", errors)
    staff = _staff(data, errors)
    if starts_at is not None and ends_at is not None:
        errors.extend(check_times(starts_at, ends_at))
    if errors:
        raise BroadcastError(errors)
    assert starts_at is not None and ends_at is not None
    return BroadcastDraft(
        title=title,
        category=category,
        starts_at=starts_at,
        ends_at=ends_at,
        description=description,
        stream_url=stream_url,
        thumbnail_url=thumbnail_url,
        staff=staff,
        status=base.status if base else "planned",
    )


def _as_input(b: Broadcast) -> dict[str, Any]:
    return {
        "title": b.title,
        "description": b.description,
        "category": b.category,
        "starts_at": b.starts_at,
        "ends_at": b.ends_at,
        "stream_url": b.stream_url,
        "thumbnail_url": b.thumbnail_url,
        "staff": list(b.staff),
    }
