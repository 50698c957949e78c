"""Run-once jobs on both engines: of several processes on one database exactly one runs a
job, and when it stops, is killed or loses its connection, another takes over."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable

import asyncpg

from db import open_database
from db.leader import Election, elected
from db.postgres import lock_id
from tests.support import ROOT, TIMEOUT

RETRY = 0.02


async def until(predicate: Callable[[], bool], what: str) -> None:
    """Wait (bounded by TIMEOUT) until `predicate()` holds."""
    async with asyncio.timeout(TIMEOUT):
        while not predicate():
            await asyncio.sleep(0.005)


async def wait(event: asyncio.Event) -> None:
    await asyncio.wait_for(event.wait(), TIMEOUT)


class Job:
    """A run-once job that records who runs it."""

    def __init__(self) -> None:
        self.running: list[str] = []
        self.log: list[str] = []

    def __call__(self, who: str) -> Callable[[], contextlib.AbstractAsyncContextManager[None]]:
        @contextlib.asynccontextmanager
        async def run() -> AsyncIterator[None]:
            self.running.append(who)
            self.log.append(f"{who} starts")
            try:
                yield
            finally:
                self.running.remove(who)
                self.log.append(f"{who} stops")

        return run


async def test_exactly_one_process_runs_the_job_and_another_takes_over(database_url: str) -> None:
    """Two databases compete: one runs the job, the other keeps trying and never runs it
    alongside; when the leader leaves, the other takes over."""
    job = Job()
    first, second = await open_database(database_url), await open_database(database_url)
    try:
        async with elected(first, "job", job("first"), retry=RETRY) as a:
            await wait(a.leading)
            async with elected(second, "job", job("second"), retry=RETRY) as b:
                await until(lambda: b.attempts >= 5, "the follower tried several times")
                assert job.running == ["first"] and not b.is_leader and a.is_leader
                assert b.following.is_set()
            # the follower left first: the leader is undisturbed
            assert job.running == ["first"]
        assert job.running == []
        async with elected(second, "job", job("second"), retry=RETRY) as b:
            await wait(b.leading)
            async with elected(first, "job", job("first"), retry=RETRY) as a:
                await until(lambda: a.attempts >= 3, "the other tried")
                assert job.running == ["second"]
                await second.close()  # the leader's database goes away mid-term
                await wait(a.leading)
                assert job.running == ["first"] and not b.is_leader
        assert job.log == [
            "first starts",
            "first stops",
            "second starts",
            "second stops",
            "first starts",
            "first stops",
        ]
    finally:
        await first.close()
        with contextlib.suppress(Exception):
            await second.close()


async def test_different_jobs_have_different_leaders(database_url: str) -> None:
    """The lease is per job name: one process may lead one job while another leads a
    second."""
    job = Job()
    first, second = await open_database(database_url), await open_database(database_url)
    try:
        async with elected(first, "retention", job("first"), retry=RETRY) as a:
            await wait(a.leading)
            async with elected(second, "demo-director", job("second"), retry=RETRY) as b:
                await wait(b.leading)
                assert sorted(job.running) == ["first", "second"]
    finally:
        await first.close()
        await second.close()


LEADER = """
import asyncio, contextlib, sys
from db import open_database
from db.leader import elected

@contextlib.asynccontextmanager
async def job():
    print("leading", flush=True)
    yield

async def main():
    database = await open_database(sys.argv[1])
    async with elected(database, "job", job, retry=0.02):
        await asyncio.Event().wait()

asyncio.run(main())
"""


async def test_a_killed_leader_is_replaced(database_url: str) -> None:
    """SIGKILL the leading process: its lock dies with it and the other process leads."""
    child = subprocess.Popen(
        [sys.executable, "-c", LEADER, database_url],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    job = Job()
    database = await open_database(database_url)
    try:
        assert child.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(child.stdout.readline), TIMEOUT)
        assert line == "leading\n"
        async with elected(database, "job", job("here"), retry=RETRY) as here:
            await until(lambda: here.attempts >= 5, "this process tried several times")
            assert job.running == [] and not here.is_leader
            child.send_signal(signal.SIGKILL)
            child.wait(TIMEOUT)
            await wait(here.leading)
            assert job.running == ["here"]
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(TIMEOUT)
        if child.stdout is not None:
            child.stdout.close()
        await database.close()


async def test_a_leader_whose_connection_breaks_stops_the_job(database_url: str) -> None:
    """PostgreSQL: when the server ends the leader's connection (failover, network), the
    lock is gone, so the leader must stop its job before another host starts it."""
    if not database_url.startswith("postgresql"):
        return  # an SQLite lease is a file lock: no connection to lose
    job = Job()
    retry = 0.25  # the grace that keeps the two apart must outlast this machine's jitter
    first, second = await open_database(database_url), await open_database(database_url)
    try:
        async with elected(first, "job", job("first"), retry=retry) as a:
            await wait(a.leading)
            async with elected(second, "job", job("second"), retry=retry) as b:
                await _terminate_lease_holder(database_url)
                await wait(b.leading)
                assert not a.is_leader
                assert job.log[:3] == ["first starts", "first stops", "second starts"]
                assert _one_leader(a, b)
    finally:
        await first.close()
        await second.close()


def _one_leader(*elections: Election) -> bool:
    return sum(e.is_leader for e in elections) == 1


async def _terminate_lease_holder(url: str) -> None:
    key = lock_id("lease:job") & 0xFFFFFFFFFFFFFFFF  # pg_locks shows it as two halves
    conn = await asyncpg.connect(url)
    try:
        killed = await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_locks"
            " WHERE locktype = 'advisory' AND granted AND objsubid = 1"
            " AND classid::bigint = $1 AND objid::bigint = $2"
            " AND database = (SELECT oid FROM pg_database"
            "                 WHERE datname = current_database())",
            key >> 32,
            key & 0xFFFFFFFF,
        )
        assert killed == 1
    finally:
        await conn.close()
