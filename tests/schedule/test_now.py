"""Now playing: the slot at an instant, the offset into it, the next slot."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from schedule import SEOUL, Broadcast, ReplayCandidate, build_channel, day_bounds, now_playing

DAY = date(2026, 11, 25)
START, END = day_bounds(DAY)


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2026, 11, 25, hour, minute, second, tzinfo=SEOUL)


def test_joining_a_replay_seven_minutes_in() -> None:
    """Joining at 14:07 a replay that began at 14:00 starts 420 s into it."""
    lives = [Broadcast(1, "정례 브리핑", "", "기자설명회", at(13, 0), at(14, 0))]
    replays = [ReplayCandidate(7, "청계천 현장", 3600, START - timedelta(days=1), 50)]
    slots = build_channel(DAY, lives, replays, repeat_window=timedelta(hours=2))
    now = now_playing(slots, at(14, 7))
    assert now.slot is not None
    assert (now.slot.kind, now.slot.replay_id, now.slot.start) == ("replay", 7, at(14, 0))
    assert now.offset_seconds == 420
    assert now.next_slot is not None and now.next_slot.start == at(15, 0)


def test_joining_a_live_that_started_yesterday_counts_from_its_start() -> None:
    """A live from 23:30 the day before, joined at 00:10, is 40 minutes in."""
    b = Broadcast(
        1, "심야 토론", "", "정책토론", START - timedelta(minutes=30), START + timedelta(hours=1)
    )
    slots = build_channel(DAY, [b], [], repeat_window=timedelta(hours=1))
    assert now_playing(slots, at(0, 10)).offset_seconds == 40 * 60


def test_outside_the_day_there_is_no_slot() -> None:
    """Before the first slot nothing plays and the first slot is next; after, nothing."""
    slots = build_channel(DAY, [], [], repeat_window=timedelta(hours=1))
    before = now_playing(slots, START - timedelta(seconds=1))
    assert before.slot is None and before.next_slot == slots[0]
    after = now_playing(slots, END)
    assert after.slot is None and after.next_slot is None


@settings(max_examples=100, deadline=None)
@given(seconds=st.integers(0, 24 * 3600 - 1))
def test_every_instant_of_the_day_has_exactly_one_slot(seconds: int) -> None:
    """Any instant of the day falls in the one slot that covers it; offsets are consistent."""
    lives = [
        Broadcast(1, "a", "", "회의", at(9, 0), at(10, 30)),
        Broadcast(2, "b", "", "회의", at(18, 0), at(19, 0)),
    ]
    replays = [ReplayCandidate(i, f"r{i}", 1500 + 600 * i, START, i) for i in range(1, 6)]
    slots = build_channel(DAY, lives, replays, repeat_window=timedelta(hours=2))
    instant = START + timedelta(seconds=seconds)
    now = now_playing(slots, instant)
    assert now.slot is not None
    assert now.slot.start <= instant < now.slot.end
    assert [s for s in slots if s.start <= instant < s.end] == [now.slot]
    assert now.offset_seconds == now.slot.offset_seconds + int(
        (instant - now.slot.start).total_seconds()
    )
