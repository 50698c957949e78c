"""The linear channel builder: properties under hypothesis, and the rules by example."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from schedule import (
    CARD_TITLE,
    Broadcast,
    ChannelSlot,
    ReplayCandidate,
    build_channel,
    day_bounds,
    replan,
)
from schedule.channel import SHOW_BREAK, evening

DAY = date(2026, 11, 25)
START, END = day_bounds(DAY)
WINDOW = timedelta(hours=6)


def live(bid: int, start: datetime, minutes: int, status: str = "planned") -> Broadcast:
    return Broadcast(
        bid, f"생방송 {bid}", "", "회의", start, start + timedelta(minutes=minutes), status
    )


def replay(rid: int, minutes: float, popularity: int = 10, age_days: int = 1) -> ReplayCandidate:
    return ReplayCandidate(
        rid, f"다시보기 {rid}", int(minutes * 60), START - timedelta(days=age_days), popularity
    )


@st.composite
def lives_strategy(draw: st.DrawFn) -> list[Broadcast]:
    """Non-overlapping lives around the day (some cross midnight at either end)."""
    count = draw(st.integers(0, 8))
    cursor = START - timedelta(hours=3)
    found = []
    for bid in range(1, count + 1):
        cursor += timedelta(seconds=draw(st.integers(0, 5 * 3600)))
        length = timedelta(seconds=draw(st.integers(60, 3 * 3600)))
        status = draw(st.sampled_from(["planned", "live", "ended", "cancelled"]))
        found.append(Broadcast(bid, f"생방송 {bid}", "", "회의", cursor, cursor + length, status))
        cursor += length
    return found


replays_strategy = st.lists(
    st.builds(
        ReplayCandidate,
        id=st.integers(1, 60),
        title=st.sampled_from(["다시보기", "청책토론회", "시장 브리핑"]),
        duration_seconds=st.integers(0, 3 * 3600),
        published_at=st.datetimes(
            min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
        ),
        popularity=st.integers(0, 10_000),
    ),
    max_size=25,
    unique_by=lambda r: r.id,
)
window_strategy = st.integers(0, 12 * 60).map(lambda m: timedelta(minutes=m))


def assert_gapless(slots: list[ChannelSlot]) -> None:
    assert slots[0].start == START
    assert slots[-1].end == END
    for a, b in itertools.pairwise(slots):
        assert a.end == b.start, (a, b)
    assert all(s.start < s.end for s in slots)
    assert sum(s.duration_seconds for s in slots) == 24 * 3600


def assert_no_repeat(slots: list[ChannelSlot], window: timedelta) -> None:
    """No replay starts twice within `window` (start to start)."""
    last: dict[int, datetime] = {}
    for s in slots:
        if s.replay_id is None:
            continue
        if s.replay_id in last:
            assert s.start - last[s.replay_id] >= window, (s, last[s.replay_id])
        last[s.replay_id] = s.start


def assert_no_back_to_back(slots: list[ChannelSlot]) -> None:
    """No two different replays with the same title play one right after the other."""
    for a, b in itertools.pairwise(slots):
        if a.kind == b.kind == "replay":
            assert a.title != b.title, (a, b)


@settings(max_examples=150, deadline=None)
@given(lives=lives_strategy(), replays=replays_strategy, window=window_strategy)
def test_channel_properties(
    lives: list[Broadcast], replays: list[ReplayCandidate], window: timedelta
) -> None:
    """Exactly 24 h, no gap, no overlap, lives untouched, no repeat in the window, cut
    replays marked, stable under recomputation and input order."""
    slots = build_channel(DAY, lives, replays, repeat_window=window)
    assert_gapless(slots)
    # lives untouched: every live on the channel today has exactly its (clipped) times
    for b in lives:
        mine = [s for s in slots if s.broadcast_id == b.id]
        if b.status == "cancelled" or b.ends_at <= START or b.starts_at >= END:
            assert mine == []
            continue
        assert len(mine) == 1
        assert (mine[0].start, mine[0].end) == (max(b.starts_at, START), min(b.ends_at, END))
        assert mine[0].kind == "live" and mine[0].title == b.title
        assert mine[0].offset_seconds == int((mine[0].start - b.starts_at).total_seconds())
    assert_no_repeat(slots, window)
    durations = {r.id: r.duration_seconds for r in replays}
    for s in slots:
        if s.kind != "replay":
            continue
        assert s.replay_id is not None
        # a replay slot is its whole duration, or shorter and marked cut
        assert s.duration_seconds <= durations[s.replay_id]
        assert s.cut == (s.duration_seconds < durations[s.replay_id])
        if s.cut:
            following = slots[slots.index(s) + 1] if s.end < END else None
            assert following is None or following.kind == "live"
    assert_no_back_to_back(slots)
    # cards never follow cards
    for a, b in itertools.pairwise(slots):
        assert not (a.kind == "card" and b.kind == "card")
    # deterministic, whatever the input order
    shuffled_lives, shuffled_replays = list(lives), list(replays)
    random.Random(7).shuffle(shuffled_lives)
    random.Random(8).shuffle(shuffled_replays)
    assert build_channel(DAY, shuffled_lives, shuffled_replays, repeat_window=window) == slots


@settings(max_examples=150, deadline=None)
@given(lives=lives_strategy(), replays=replays_strategy, window=window_strategy)
def test_no_repeat_across_midnight(
    lives: list[Broadcast], replays: list[ReplayCandidate], window: timedelta
) -> None:
    """Two days computed separately, laid end to end: still no replay starts twice inside
    the window."""
    today = build_channel(DAY, lives, replays, repeat_window=window)
    tomorrow = build_channel(DAY + timedelta(days=1), lives, replays, repeat_window=window)
    assert today[-1].end == tomorrow[0].start
    assert_no_repeat(today + tomorrow, window)


def test_midnight_halves_the_catalog_only_near_midnight() -> None:
    """One 1-hour replay, a 5-hour window: it starts in the last 5 hours of a day only on
    days whose evening half holds it, in the first 5 hours only when the previous day's
    did not, and at 05:00, 10:00 and 15:00 every day (nothing held back away from midnight)."""
    window = timedelta(hours=5)
    days = [DAY + timedelta(days=k) for k in range(8)]
    for d in days:
        start, end = day_bounds(d)
        plays = [
            s.start
            for s in build_channel(d, [], [replay(1, 60)], repeat_window=window)
            if s.replay_id == 1
        ]
        assert all(b - a >= window for a, b in itertools.pairwise(plays))
        assert bool([t for t in plays if t > end - window]) == evening(d, 1)
        assert bool([t for t in plays if t < start + window]) == (
            not evening(d - timedelta(days=1), 1)
        )
        assert {start + timedelta(hours=h) for h in (5, 10, 15)} <= set(plays)
    # the halves differ over these days, so both branches of the rule were exercised
    assert len({evening(d, 1) for d in days}) == 2


@settings(max_examples=60, deadline=None)
@given(gap_seconds=st.integers(1, 20 * 60 - 1), shortest_minutes=st.integers(21, 90))
def test_short_gaps_become_cards(gap_seconds: int, shortest_minutes: int) -> None:
    """A gap shorter than every replay (and than the minimum cut) is one 'card' slot."""
    first = live(1, START + timedelta(hours=10), 60)
    second = live(2, first.ends_at + timedelta(seconds=gap_seconds), 60)
    slots = build_channel(
        DAY,
        [first, second],
        [replay(9, shortest_minutes)],
        repeat_window=WINDOW,
        min_cut=timedelta(minutes=20),
    )
    between = [s for s in slots if first.ends_at <= s.start < second.starts_at]
    assert [(s.kind, s.title, s.start, s.end) for s in between] == [
        ("card", CARD_TITLE, first.ends_at, second.starts_at)
    ]


def test_replay_running_into_a_live_is_cut() -> None:
    """A 45-minute gap with only 60-minute replays: the best one plays 45 minutes, cut."""
    first = live(1, START, 60)
    second = live(2, first.ends_at + timedelta(minutes=45), 30)
    slots = build_channel(DAY, [first, second], [replay(5, 60)], repeat_window=WINDOW)
    between = [s for s in slots if first.ends_at <= s.start < second.starts_at]
    assert len(between) == 1
    assert (between[0].kind, between[0].replay_id, between[0].cut) == ("replay", 5, True)
    assert between[0].end == second.starts_at


def test_recent_and_popular_come_first() -> None:
    """With room for one, the channel picks the popular recent replay over old or unwatched."""
    candidates = [
        replay(1, 30, popularity=5000, age_days=60),
        replay(2, 30, popularity=3, age_days=1),
        replay(3, 30, popularity=4000, age_days=1),
    ]
    slots = build_channel(DAY, [], candidates, repeat_window=timedelta(hours=24))
    assert slots[0].replay_id == 3


def test_empty_catalog_is_one_card_around_lives() -> None:
    """No replays at all: everything but the lives is a card."""
    b = live(1, START + timedelta(hours=12), 90)
    slots = build_channel(DAY, [b], [], repeat_window=WINDOW)
    assert [s.kind for s in slots] == ["card", "live", "card"]


def test_live_from_the_evening_before_starts_with_an_offset() -> None:
    """A live that began at 23:00 the day before fills 00:00–01:00 with a 1-hour offset."""
    b = live(1, START - timedelta(hours=1), 120)
    slots = build_channel(DAY, [b], [replay(2, 30)], repeat_window=WINDOW)
    assert (slots[0].kind, slots[0].offset_seconds, slots[0].end) == (
        "live",
        3600,
        START + timedelta(hours=1),
    )


def test_episodes_of_one_show_are_separated() -> None:
    """Two episodes of the same show and nothing else: a short card between them, never
    one straight after the other."""
    episodes = [
        ReplayCandidate(rid, "청책토론회", 1800, START - timedelta(days=1), 10) for rid in (1, 2)
    ]
    slots = build_channel(DAY, [], episodes, repeat_window=timedelta(0))
    assert_no_back_to_back(slots)
    assert [s.kind for s in slots[:3]] == ["replay", "card", "replay"]
    assert slots[1].duration_seconds == SHOW_BREAK.total_seconds()


def unchanged_outside(
    before: list[ChannelSlot], after: list[ChannelSlot], lives: list[Broadcast]
) -> None:
    """Every published replay or card slot that no live touches is still there."""
    spans = [(b.starts_at, b.ends_at) for b in lives if b.on_channel]
    for slot in before:
        if slot.kind == "live" or any(a < slot.end and slot.start < b for a, b in spans):
            continue
        if slot.kind == "replay":
            assert slot in after, slot
        else:  # cards may merge with a neighbouring card, never shrink
            assert any(
                c.kind == "card" and c.start <= slot.start and slot.end <= c.end for c in after
            ), slot


@settings(max_examples=120, deadline=None)
@given(
    lives=lives_strategy(),
    replays=replays_strategy,
    window=window_strategy,
    changed=lives_strategy(),
    newcomers=replays_strategy,
)
def test_replan_keeps_what_no_live_touches(
    lives: list[Broadcast],
    replays: list[ReplayCandidate],
    window: timedelta,
    changed: list[Broadcast],
    newcomers: list[ReplayCandidate],
) -> None:
    """A published day replanned after lives were added, moved, cut short or cancelled and
    new replays joined the catalog: the same day rules hold (gapless, lives at their times,
    no repeat in the window, no back-to-back), slots no new live touches are unchanged, and
    replanning again changes nothing."""
    published = build_channel(DAY, lives, replays, repeat_window=window)
    assert replan(DAY, published, lives, replays, repeat_window=window) == published
    known = {r.id for r in replays}
    catalog = replays + [replace(r, id=r.id + 100) for r in newcomers if r.id + 100 not in known]
    after = replan(DAY, published, changed, catalog, repeat_window=window)
    assert_gapless(after)
    assert_no_repeat(after, window)
    assert_no_back_to_back(after)
    for b in changed:
        mine = [s for s in after if s.broadcast_id == b.id]
        if b.on_channel and b.starts_at < END and b.ends_at > START:
            assert [(s.start, s.end) for s in mine] == [
                (max(b.starts_at, START), min(b.ends_at, END))
            ]
    unchanged_outside(published, after, changed)
    assert replan(DAY, after, changed, catalog, repeat_window=window) == after


def test_a_new_replay_does_not_move_published_slots() -> None:
    """The complaint: a live ends, its replay (recent, so ranked first) joins the catalog;
    a fresh build would put it in the next slot, the published day keeps its slots."""
    catalog = [replay(rid, 50, age_days=20) for rid in range(1, 8)]
    published = build_channel(DAY, [], catalog, repeat_window=WINDOW)
    newcomer = replay(99, 50, popularity=500, age_days=0)
    assert build_channel(DAY, [], [*catalog, newcomer], repeat_window=WINDOW) != published
    assert replan(DAY, published, [], [*catalog, newcomer], repeat_window=WINDOW) == published


def test_a_withdrawn_replay_is_replaced_where_it_stood() -> None:
    """A replay taken out of the catalog leaves its slots to others; the rest stay."""
    catalog = [replay(rid, 50, age_days=3) for rid in range(1, 8)]
    published = build_channel(DAY, [], catalog, repeat_window=WINDOW)
    gone = published[0].replay_id
    after = replan(DAY, published, [], [r for r in catalog if r.id != gone], repeat_window=WINDOW)
    assert all(s.replay_id != gone for s in after)
    assert [s for s in published if s.replay_id != gone] == [s for s in after if s in published]


@settings(max_examples=100, deadline=None)
@given(replays=replays_strategy, window=window_strategy)
def test_no_back_to_back_across_midnight(replays: list[ReplayCandidate], window: timedelta) -> None:
    """A day built knowing the replay that ends the day before at midnight does not open
    with another episode of it (nothing else about the day's rules changes)."""
    today = build_channel(DAY, [], replays, repeat_window=window)
    last = today[-1]
    after = last.title if last.kind == "replay" else None
    tomorrow = build_channel(
        DAY + timedelta(days=1), [], replays, repeat_window=window, after_title=after
    )
    assert_no_back_to_back(today + tomorrow)
    assert_no_repeat(today + tomorrow, window)
