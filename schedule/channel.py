"""The linear channel: one Seoul day, 00:00–24:00, as a gapless list of slots.

`build_channel` is a pure function of its arguments. Every process computes the same
channel from the same broadcasts and replay catalog, so no coordination is needed; ties
are broken by id and by a content hash (never Python's salted `hash()`).

Rules, in order:

* Lives (broadcasts not cancelled) stand at their times, clipped to the day. A live that
  began the evening before starts the day with `offset_seconds` into it. Should lives
  overlap (validation prevents it; rows written by hand might not), the later one starts
  when the earlier ends.
* Each gap is filled greedily from the replay catalog, best first (recent and popular; see
  `rank`). A replay never starts twice within `repeat_window` (start to start), across
  midnight too: each day splits the catalog in two halves by a content hash (`evening`);
  within `repeat_window` before midnight only that day's evening half may start, and
  within `repeat_window` after it only the previous day's other half. So every day is
  still computed alone, and neighbouring days agree.
  A replay that fits whole is preferred; when none fits but at least `min_cut` remains,
  the best one plays until the next live and is marked `cut`.
* No back-to-back episodes: a replay never directly follows (or, when it would run to the
  end of a gap, directly precedes) another replay with the same title; a short card
  (`SHOW_BREAK`) separates them when nothing else is allowed.
* What is left (a gap shorter than any usable replay, or nothing eligible) becomes a
  "card" slot: the channel shows what comes next.

`replan` keeps a published day stable: it starts from the stored slots and changes only
what a live (added, moved, extended, ended early, cancelled) or a withdrawn replay
touches, filling the freed time with the same rules.
"""

from __future__ import annotations

import bisect
import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from schedule.broadcast import Broadcast
from schedule.wall_clock import SEOUL as SEOUL

CARD_TITLE = "다음 방송 안내"
# Between two episodes of the same show when nothing else may play.
SHOW_BREAK = timedelta(minutes=5)
SlotKind = Literal["live", "replay", "card"]


@dataclass(frozen=True, slots=True)
class ReplayCandidate:
    """A replay as the channel sees it (plain data; `schedule` never imports `replay`)."""

    id: int
    title: str
    duration_seconds: int
    published_at: datetime
    popularity: int


@dataclass(frozen=True, slots=True)
class ChannelSlot:
    """One stretch of the channel, `[start, end)`, aware datetimes.

    `offset_seconds` is where playback of the item starts (0 unless the slot continues a
    live that began before midnight). `cut` marks a replay stopped early for a live.
    """

    kind: SlotKind
    title: str
    start: datetime
    end: datetime
    broadcast_id: int | None = None
    replay_id: int | None = None
    cut: bool = False
    offset_seconds: int = 0

    @property
    def duration_seconds(self) -> int:
        return int((self.end - self.start).total_seconds())


def day_bounds(day: date, tz: ZoneInfo = SEOUL) -> tuple[datetime, datetime]:
    """`[00:00, 24:00)` of `day` in `tz`, as aware UTC datetimes."""
    start = datetime.combine(day, time(0), tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tz).astimezone(UTC)
    return start, end


def _tiebreak(day: date, replay_id: int) -> float:
    digest = hashlib.sha256(f"{day.isoformat()}:{replay_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


def evening(day: date, replay_id: int) -> bool:
    """Whether the replay may start in the last `repeat_window` of `day` (and so not in
    the first `repeat_window` of the next day): half the catalog, a different half daily."""
    digest = hashlib.sha256(f"{day.isoformat()}:evening:{replay_id}".encode()).digest()
    return digest[0] & 1 == 1


def rank(replays: Sequence[ReplayCandidate], day: date) -> list[ReplayCandidate]:
    """Playable replays, best first: log-popularity minus a point per week of age, plus a
    small per-day variation so consecutive days do not look identical."""
    start, _ = day_bounds(day)

    def score(r: ReplayCandidate) -> float:
        age_days = max(0.0, (start - r.published_at).total_seconds() / 86400)
        return math.log1p(max(0, r.popularity)) - age_days / 7 + 0.5 * _tiebreak(day, r.id)

    playable = [r for r in replays if r.duration_seconds > 0]
    return sorted(playable, key=lambda r: (-score(r), r.id))


def _lives(lives: Sequence[Broadcast], start: datetime, end: datetime) -> list[ChannelSlot]:
    slots: list[ChannelSlot] = []
    cursor = start
    for b in sorted(lives, key=lambda b: (b.starts_at, b.id)):
        if not b.on_channel or b.ends_at <= start or b.starts_at >= end:
            continue
        slot_start = max(b.starts_at, cursor)
        slot_end = min(b.ends_at, end)
        if slot_end <= slot_start:
            continue
        offset = int((slot_start - b.starts_at).total_seconds())
        slots.append(
            ChannelSlot(
                "live", b.title, slot_start, slot_end, broadcast_id=b.id, offset_seconds=offset
            )
        )
        cursor = slot_end
    return slots


@dataclass
class _Filler:
    day: date
    bounds: tuple[datetime, datetime]
    ranked: list[ReplayCandidate]
    window: timedelta
    min_cut: timedelta
    starts: dict[int, list[datetime]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        start, end = self.bounds
        self.head_end = start + self.window  # starts before this: not yesterday's evening
        self.tail_start = end - self.window  # starts after this: today's evening only
        self.yesterday = self.day - timedelta(days=1)
        self.shortest = min((r.duration_seconds for r in self.ranked), default=0)

    def add_start(self, replay_id: int, at: datetime) -> None:
        bisect.insort(self.starts.setdefault(replay_id, []), at)

    def allowed(self, r: ReplayCandidate, at: datetime) -> bool:
        # Starts are kept sorted: only the nearest one on each side can be too close.
        starts = self.starts.get(r.id, ())
        i = bisect.bisect_left(starts, at)
        return (
            (i == 0 or at - starts[i - 1] >= self.window)
            and (i == len(starts) or starts[i] - at >= self.window)
            and not (at < self.head_end and evening(self.yesterday, r.id))
            and not (at > self.tail_start and not evening(self.day, r.id))
        )

    def pick(
        self, at: datetime, left: timedelta, before: str | None, after: str | None
    ) -> tuple[ReplayCandidate | None, bool, bool]:
        """The best replay allowed at `at` that fits in `left` (`cut` False); else the
        best allowed one (`cut` True); else None. Skips a replay titled like the replay
        just before (`before`) or, when it would reach the end of the gap, the one just
        after (`after`); the third value says whether a title blocked one. Scans best
        first and stops early."""
        room = left.total_seconds()
        best: ReplayCandidate | None = None
        blocked = False
        for r in self.ranked:
            if not self.allowed(r, at):
                continue
            if r.title == before or (r.title == after and r.duration_seconds >= room):
                blocked = True
                continue
            if r.duration_seconds <= room:
                return r, False, blocked
            if best is None:
                best = r
                if room < self.shortest:  # nothing can fit whole: the best one it is
                    break
        return best, True, blocked

    def next_eligible_time(self, at: datetime) -> datetime | None:
        """The next instant after `at` when the allowed set may grow."""
        times = []
        for starts in self.starts.values():  # each replay's last start up to `at`
            i = bisect.bisect_right(starts, at)
            if i and starts[i - 1] + self.window > at:
                times.append(starts[i - 1] + self.window)
        if self.head_end > at:
            times.append(self.head_end)
        return min(times) if times and self.ranked else None

    def fill(
        self, start: datetime, end: datetime, before: str | None = None, after: str | None = None
    ) -> list[ChannelSlot]:
        """Slots covering `[start, end)`; `before`/`after` are the titles of the replays
        standing right before and after the gap, if any."""
        slots: list[ChannelSlot] = []
        at = start
        while at < end:
            left = end - at
            pick, cut, blocked = self.pick(at, left, before, after)
            if pick is None or (cut and left < self.min_cut):
                # Nothing fits: a card until a replay may play again (or the gap ends).
                wake = self.next_eligible_time(at) if pick is None else None
                stops = [
                    end,
                    *([wake] if wake is not None else []),
                    *([at + SHOW_BREAK] if pick is None and blocked else []),
                ]
                until = min(stops)
                slots.append(ChannelSlot("card", CARD_TITLE, at, until))
                before = None
                at = until
                continue
            stop = end if cut else at + timedelta(seconds=pick.duration_seconds)
            slots.append(ChannelSlot("replay", pick.title, at, stop, replay_id=pick.id, cut=cut))
            self.add_start(pick.id, at)
            before = pick.title
            at = stop
        return slots


def _merge_cards(slots: list[ChannelSlot]) -> list[ChannelSlot]:
    merged: list[ChannelSlot] = []
    for slot in slots:
        if merged and slot.kind == "card" and merged[-1].kind == "card":
            merged[-1] = ChannelSlot("card", CARD_TITLE, merged[-1].start, slot.end)
        else:
            merged.append(slot)
    return merged


def build_channel(
    day: date,
    lives: Sequence[Broadcast],
    replays: Sequence[ReplayCandidate],
    *,
    repeat_window: timedelta,
    min_cut: timedelta = timedelta(minutes=10),
    tz: ZoneInfo = SEOUL,
    after_title: str | None = None,
) -> list[ChannelSlot]:
    """The channel of `day` (in `tz`): slots covering `[00:00, 24:00)` with no gap or
    overlap, lives untouched, gaps filled with replays (see the module docstring).
    `after_title` is the title of the replay that ends the day before at midnight, if
    known, so the day does not open with another episode of it.

    Deterministic: the same arguments give the same slots, whatever their order.
    """
    start, end = day_bounds(day, tz)
    live_slots = _lives(lives, start, end)
    filler = _Filler(day, (start, end), rank(replays, day), repeat_window, min_cut)
    slots: list[ChannelSlot] = []
    cursor = start
    for live in live_slots:
        if live.start > cursor:
            slots.extend(filler.fill(cursor, live.start, after_title if cursor == start else None))
        slots.append(live)
        cursor = live.end
    if cursor < end:
        slots.extend(filler.fill(cursor, end, after_title if cursor == start else None))
    return _merge_cards(slots)


def _outside(
    start: datetime, end: datetime, lives: Sequence[ChannelSlot]
) -> list[tuple[datetime, datetime]]:
    """The parts of `[start, end)` no live covers."""
    pieces: list[tuple[datetime, datetime]] = []
    at = start
    for live in lives:
        if live.end <= at or live.start >= end:
            continue
        if live.start > at:
            pieces.append((at, live.start))
        at = max(at, live.end)
    if at < end:
        pieces.append((at, end))
    return pieces


def replan(
    day: date,
    published: Sequence[ChannelSlot],
    lives: Sequence[Broadcast],
    replays: Sequence[ReplayCandidate],
    *,
    repeat_window: timedelta,
    min_cut: timedelta = timedelta(minutes=10),
    tz: ZoneInfo = SEOUL,
) -> list[ChannelSlot]:
    """The published channel of `day` brought up to date with `lives` and `replays`.

    Every published replay or card slot that no live touches (and whose replay is still
    playable) stays exactly as it was. A replay whose tail a live now covers is cut
    (kept only if `min_cut` of it remains); one whose start a live covers is dropped;
    cards are clipped. The time freed or left uncovered is filled by the rules of
    `build_channel`, respecting the kept slots' repeats and titles on both sides.
    Idempotent: `replan(d, replan(d, p, …), …) == replan(d, p, …)`.
    """
    start, end = day_bounds(day, tz)
    live_slots = _lives(lives, start, end)
    playable = {r.id for r in replays if r.duration_seconds > 0}
    kept: list[ChannelSlot] = []
    for slot in sorted(published, key=lambda s: s.start):
        if slot.kind == "live" or slot.end <= start or slot.start >= end:
            continue
        pieces = _outside(max(slot.start, start), min(slot.end, end), live_slots)
        if slot.kind == "card":
            kept.extend(ChannelSlot("card", CARD_TITLE, a, b) for a, b in pieces)
        elif slot.replay_id in playable and pieces and pieces[0][0] == slot.start:
            a, b = pieces[0]
            if b == slot.end:
                kept.append(slot)
            elif b - a >= min_cut:
                kept.append(replace(slot, end=b, cut=True))
    filler = _Filler(day, (start, end), rank(replays, day), repeat_window, min_cut)
    for slot in kept:
        if slot.replay_id is not None:
            filler.add_start(slot.replay_id, slot.start)
    standing = sorted([*kept, *live_slots], key=lambda s: s.start)
    slots: list[ChannelSlot] = []
    cursor, before = start, None
    for slot in [*standing, ChannelSlot("card", CARD_TITLE, end, end)]:
        if slot.start > cursor:
            after = slot.title if slot.kind == "replay" else None
            slots.extend(filler.fill(cursor, slot.start, before, after))
        if slot.end > slot.start:
            slots.append(slot)
        before = slot.title if slot.kind == "replay" else None
        cursor = max(cursor, slot.end)
    return _merge_cards(slots)
