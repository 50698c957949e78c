"""The demo channel: a plausible week, ~40 replays, idempotent across workers, and one
broadcast live at any hour as time passes."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from starlette.testclient import TestClient

from livechat import CommentStore
from replay import ReplayStore
from schedule import SEOUL, ScheduleStore
from tests.support import migrated
from web.demo import ensure_demo_live, load_demo

NOW = datetime(2026, 11, 25, 13, 7, tzinfo=SEOUL).astimezone(UTC)


@asynccontextmanager
async def worker(path: Path) -> AsyncIterator[tuple[ScheduleStore, ReplayStore, CommentStore]]:
    """One process's stores: its own `Database`."""
    async with migrated(path) as db:
        yield (ScheduleStore(db), ReplayStore(db), CommentStore(db))


def counts(path: Path) -> tuple[int, int, int]:
    with sqlite3.connect(path) as con:
        found = tuple(
            con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("broadcasts", "replays", "comments")
        )
    con.close()
    return found  # type: ignore[return-value]


def live_at(path: Path, instant: datetime) -> list[tuple[int, str]]:
    with sqlite3.connect(path) as con:
        rows = con.execute(
            "SELECT id, starts_at, ends_at, title FROM broadcasts WHERE status = 'live'"
        ).fetchall()
    con.close()
    return [
        (r[0], r[3])
        for r in rows
        if datetime.fromisoformat(r[1]) <= instant < datetime.fromisoformat(r[2])
    ]


async def test_demo_is_a_plausible_week_loaded_once_by_racing_workers(tmp_path: Path) -> None:
    """Three workers loading the demo at once write it once; a later load adds nothing."""
    path = tmp_path / "demo.db"
    async with worker(path) as a, worker(path) as b, worker(path) as c:
        await asyncio.gather(*(load_demo(*w, now=NOW) for w in (a, b, c)))
        first = counts(path)
        await load_demo(*a, now=NOW)
    assert counts(path) == first
    broadcasts, replays, comments = first
    assert broadcasts > replays
    assert 30 <= replays <= 50
    assert comments > 0
    with sqlite3.connect(path) as con:
        categories = {r[0] for r in con.execute("SELECT DISTINCT category FROM broadcasts")}
        days = {
            r[0][:10]
            for r in con.execute(
                "SELECT starts_at FROM broadcasts WHERE starts_at >= ?",
                ((NOW - timedelta(days=4)).isoformat(),),
            )
        }
    con.close()
    assert {"시정현장", "회의", "기자설명회", "시민참여"} <= categories
    assert len(days) >= 7
    assert len(live_at(path, NOW)) == 1


async def test_one_broadcast_is_live_at_any_hour(tmp_path: Path) -> None:
    """Stepping the director through two days (every 23 minutes): after each tick exactly
    one broadcast is live, and broadcasts on the channel never overlap."""
    path = tmp_path / "demo.db"
    async with worker(path) as (schedule, replays, comments):
        await load_demo(schedule, replays, comments, now=NOW)
        for step in range(0, 2 * 24 * 60, 23):
            instant = NOW + timedelta(minutes=step, seconds=step % 60)
            await ensure_demo_live(schedule, replays, now=instant)
            assert len(live_at(path, instant)) == 1, instant
        everything = await schedule.between(NOW - timedelta(days=30), NOW + timedelta(days=5))
    for x, y in itertools.pairwise(sorted(everything, key=lambda b: b.starts_at)):
        assert x.ends_at <= y.starts_at, (x, y)


def test_api_now_names_the_demo_live(demo_client: TestClient) -> None:
    """With --demo, /api/now names a live broadcast whose page opens."""
    body = demo_client.get("/api/now").json()
    assert len(body["live"]) == 1
    live_id = body["live"][0]["id"]
    assert demo_client.get(f"/broadcasts/{live_id}").status_code == 200
    assert demo_client.get(f"/live/{live_id}").status_code == 200
    assert body["on_now"]["kind"] in ("live", "replay", "card")
