"""ScheduleStore over a real database (SQLite and PostgreSQL): overlaps, status moves,
batches, markers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest

from schedule import (
    BatchError,
    BroadcastDraft,
    BroadcastError,
    OverlapError,
    ScheduleStore,
    TransitionError,
)
from tests.support import migrated

T = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)


def draft(
    title: str = "확대간부회의", start: datetime = T, minutes: int = 60, status: str = "planned"
) -> BroadcastDraft:
    return BroadcastDraft(
        title=title,
        category="회의",
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
        staff=("서울시장",),
        status=status,
    )


@asynccontextmanager
async def store(url: str) -> AsyncIterator[ScheduleStore]:
    """A store on its own `Database` (as one process or host would have)."""
    async with migrated(url) as db:
        yield ScheduleStore(db)


async def test_create_get_between(database_url: str) -> None:
    """A created broadcast reads back identically and is found by any overlapping range."""
    async with store(database_url) as s:
        b = await s.create(draft())
        assert await s.get(b.id) == b
        assert b.staff == ("서울시장",) and b.starts_at == T
        assert await s.between(T + timedelta(minutes=59), T + timedelta(hours=2)) == [b]
        assert await s.between(T + timedelta(hours=1), T + timedelta(hours=2)) == []
        assert await s.get(999) is None


async def test_overlap_is_refused_naming_the_other(database_url: str) -> None:
    """A second broadcast in the same hour fails with OverlapError naming the first."""
    async with store(database_url) as s:
        first = await s.create(draft("첫 방송"))
        with pytest.raises(OverlapError) as caught:
            await s.create(draft("겹치는 방송", T + timedelta(minutes=30)))
        assert caught.value.other == first
        assert f"broadcast {first.id}" in caught.value.message and "첫 방송" in caught.value.message
        assert len(await s.between(T, T + timedelta(days=1))) == 1


async def test_rows_written_without_microseconds_still_collide(database_url: str) -> None:
    """Rows written by other tools (`...:00+00:00`) are compared by time, not by text."""
    async with migrated(database_url) as db, store(database_url) as s:
        await db.execute(
            "INSERT INTO broadcasts (title, category, starts_at, ends_at,"
            " created_at, updated_at) VALUES ('외부', '회의', ?, ?, 'x', 'x')",
            (T.isoformat(), (T + timedelta(hours=1)).isoformat()),
        )
        with pytest.raises(OverlapError):
            await s.create(draft(start=T + timedelta(minutes=59, seconds=59)))
        assert (await s.create(draft(start=T + timedelta(hours=1)))).starts_at == T + timedelta(
            hours=1
        )


async def test_concurrent_creates_book_an_hour_once(database_url: str) -> None:
    """Two processes' stores racing for the same hour: exactly one wins."""
    async with store(database_url) as a, store(database_url) as b:
        results = await asyncio.gather(
            a.create(draft("A")), b.create(draft("B")), return_exceptions=True
        )
    assert sorted(type(r).__name__ for r in results) == ["Broadcast", "OverlapError"]


async def test_hosts_racing_for_overlapping_hours_book_one(database_url: str) -> None:
    """Three hosts (a `Database` each), four operators on each, all booking overlapping
    hours at once: exactly one booking is stored, every other one is refused."""
    async with store(database_url) as a, store(database_url) as b, store(database_url) as c:
        attempts = [
            host.create(draft(f"{n}-{i}", T + timedelta(minutes=10 * i)))
            for n, host in enumerate((a, b, c))
            for i in range(4)
        ]
        results = await asyncio.gather(*attempts, return_exceptions=True)
        assert sorted(type(r).__name__ for r in results) == ["Broadcast"] + ["OverlapError"] * 11
        assert len(await a.between(T - timedelta(hours=1), T + timedelta(hours=3))) == 1


async def test_status_moves(database_url: str) -> None:
    """planned → live → ended; early start and early end move the times; others refused."""
    async with store(database_url) as s:
        b = await s.create(draft())
        early = T - timedelta(minutes=5)
        live = await s.set_status(b.id, "live", now=early)
        assert live is not None and live.status == "live" and live.starts_at == early
        with pytest.raises(TransitionError):
            await s.set_status(b.id, "cancelled", now=T)
        ended = await s.set_status(b.id, "ended", now=T + timedelta(minutes=20))
        assert ended is not None and ended.ends_at == T + timedelta(minutes=20)
        with pytest.raises(TransitionError) as caught:
            await s.set_status(b.id, "live", now=T)
        assert caught.value.field == "status"
        assert await s.set_status(424242, "live") is None


async def test_update_checks_overlap_and_keeps_ended_times(database_url: str) -> None:
    """Rescheduling into another broadcast fails; an ended broadcast cannot move."""
    async with store(database_url) as s:
        a = await s.create(draft("A"))
        b = await s.create(draft("B", T + timedelta(hours=2)))
        with pytest.raises(OverlapError) as caught:
            await s.update(b.id, draft("B", T + timedelta(minutes=30)))
        assert caught.value.other.id == a.id
        moved = await s.update(b.id, draft("B2", T + timedelta(hours=3)))
        assert moved is not None and moved.title == "B2"
        await s.set_status(a.id, "live", now=T)
        await s.set_status(a.id, "ended", now=T + timedelta(hours=1))
        with pytest.raises(BroadcastError):
            await s.update(a.id, draft("A", T + timedelta(hours=5)))
        assert await s.update(999, draft()) is None


async def test_batch_is_all_or_nothing(database_url: str) -> None:
    """One overlapping draft in a batch writes none of it and names its index."""
    async with store(database_url) as s:
        existing = await s.create(draft("기존", T + timedelta(hours=5)))
        with pytest.raises(BatchError) as caught:
            await s.create_many(
                [
                    draft("1"),
                    draft("2", T + timedelta(hours=5, minutes=30)),
                    draft("3", T + timedelta(minutes=30)),
                ]
            )
        problems = {i: e.message for i, e in caught.value.problems}
        assert set(problems) == {1, 2}
        assert f"broadcast {existing.id}" in problems[1]
        assert "item 1" in problems[2]
        assert await s.between(T - timedelta(days=1), T + timedelta(days=1)) == [existing]


async def test_marker_writes_a_batch_once_across_processes(database_url: str) -> None:
    """Workers loading the same marked batch at once: one writes it, the rest get None."""
    async with store(database_url) as a, store(database_url) as b, store(database_url) as c:
        batch = [draft("1"), draft("2", T + timedelta(hours=1))]
        results = await asyncio.gather(
            *(x.create_many(batch, marker="demo:day") for x in (a, b, c))
        )
        assert sorted(r is None for r in results) == [False, True, True]
        assert len(await a.between(T, T + timedelta(hours=3))) == 2
        assert await a.marker_exists("demo:day")
