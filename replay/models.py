"""What a replay is: plain data, no I/O.

Two timelines meet in a replay. The *recording* timeline is what the player shows
(`currentTime`, seconds from the first frame of the recording). The *broadcast* timeline
starts when the broadcast went on air (`aired_at`). A replay trimmed at the start has a
recording that begins later than the broadcast did: `recording_started_at > aired_at`, and
`shift` is the difference in seconds. Live comments are placed by wall clock
(`created_at - recording_started_at`); comments written on a replay are stored with their
offset on the broadcast timeline (`recording offset + shift`), so trimming the replay again
later keeps every comment where it was said.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Status = Literal["published", "unpublished"]
Sort = Literal["newest", "most_viewed"]
SORTS: tuple[Sort, ...] = ("newest", "most_viewed")


@dataclass(frozen=True, slots=True)
class Chapter:
    """An operator's marker: a title starting `start_seconds` into the recording."""

    start_seconds: int
    title: str


@dataclass(frozen=True, slots=True)
class Caption:
    """A WebVTT caption track (`language` is a BCP 47 tag such as `ko`, `en`, `ja`)."""

    language: str
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Replay:
    """A recorded broadcast in the catalog.

    `hidden` keeps the replay out of the catalog, search, related lists and the channel,
    but its page still opens by URL; `status="unpublished"` takes it away from the public
    altogether (staff still see it). Search results carry no chapters or captions: `get`
    loads them.
    """

    id: int
    broadcast_id: int | None
    title: str
    description: str
    category: str
    staff: tuple[str, ...]
    recording_url: str
    thumbnail_url: str
    duration_seconds: int
    aired_at: datetime  # aware UTC: the broadcast went on air
    recording_started_at: datetime  # aware UTC: wall clock of the recording's first frame
    published_at: datetime
    status: Status = "published"
    hidden: bool = False
    view_count: int = 0
    chapters: tuple[Chapter, ...] = ()
    captions: tuple[Caption, ...] = ()
    thumbnail_seconds: int | None = None  # the frame a generated thumbnail shows

    @property
    def thumbnail_at(self) -> int:
        """The second of the recording a generated thumbnail shows: the chosen one, else
        the first chapter after the opening, else a tenth in (at most a minute), so the
        picture is rarely an opening title or a black frame."""
        if self.thumbnail_seconds is not None:
            return min(self.thumbnail_seconds, max(0, self.duration_seconds - 1))
        later = [c.start_seconds for c in self.chapters if c.start_seconds > 0]
        if later:
            return later[0]
        return min(60, self.duration_seconds // 10)

    @property
    def shift(self) -> float:
        """Seconds of broadcast cut from the start of the recording (0 if untrimmed)."""
        return (self.recording_started_at - self.aired_at).total_seconds()

    @property
    def listed(self) -> bool:
        """Shown in the catalog, search results, related lists and the channel."""
        return self.status == "published" and not self.hidden

    @property
    def public(self) -> bool:
        """Reachable by anyone with the link."""
        return self.status == "published"


@dataclass(frozen=True, slots=True)
class ReplayEdit:
    """An operator's change: only the fields that are not None change."""

    title: str | None = None
    description: str | None = None
    category: str | None = None
    staff: tuple[str, ...] | None = None
    thumbnail_url: str | None = None
    recording_url: str | None = None
    duration_seconds: int | None = None
    recording_started_at: datetime | None = None
    chapters: tuple[Chapter, ...] | None = None
    captions: tuple[Caption, ...] | None = None
    hidden: bool | None = None
    status: Status | None = None
    thumbnail_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class ReplayQuery:
    """A catalog search. `aired_from`/`aired_to` are aware datetimes, `[from, to)`."""

    text: str = ""
    category: str | None = None
    staff: str | None = None
    aired_from: datetime | None = None
    aired_to: datetime | None = None
    sort: Sort = "newest"
    cursor: str | None = None
    limit: int = 20


@dataclass(frozen=True, slots=True)
class ReplayPage:
    items: tuple[Replay, ...]
    next_cursor: str | None = None
    terms: tuple[str, ...] = field(default=())
