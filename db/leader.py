"""Run-once jobs: of every process and host on one database, exactly one runs each job.

`elected(database, name, job)` runs in the background for as long as its block is open.
It tries to take the job's *lease* (`Database.lease(name)`); the process that gets it
enters `job()` (an async context manager: retention, the demo director) and keeps it
entered while it holds the lease; every other process tries again every `retry` seconds,
so when the leader stops, crashes or is killed another one takes over within about three
times `retry` (one attempt, then the grace in which a leader that lost its connection
notices and stops: two never run at once).

The leases:
- SQLite (one machine, several worker processes): an exclusive `flock` on a file beside
  the database (`<db>.<name>.lease`). The kernel releases it when the process dies.
- PostgreSQL (several hosts): `pg_try_advisory_xact_lock` inside a transaction the leader
  keeps open on one pooled connection. A killed host's connection closes, its transaction
  aborts and the lock goes with it. Transaction-scoped on purpose: PgBouncer in
  transaction mode keeps the server connection pinned to an open transaction, whereas a
  session lock would stay behind on a server connection another client gets next. The
  leader checks the connection every `retry` seconds; if it broke, the job stops at once
  (another host may already have the lease).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path

from db.database import Database, Lease

log = logging.getLogger("db.leader")

ELECTION_RETRY = 10.0  # seconds between a follower's attempts, and between leader checks
CHECK_TIMEOUT_FLOOR = 1.0  # a leader's check may always take this long

Job = Callable[[], AbstractAsyncContextManager[object]]


class FileLease:
    """An exclusive `flock` on a file: one holder among the processes of one machine
    (separate opens conflict even inside one process, so two `Database`s compete too)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._closed = False

    async def acquire(self) -> bool:
        if self._fd is not None:
            return True
        if self._closed:
            return False
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    async def held(self) -> bool:
        return self._fd is not None

    async def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the only descriptor drops the flock

    async def close(self) -> None:
        """Release for good (the database closed): never acquire again."""
        self._closed = True
        await self.release()


@dataclass
class Election:
    """What `elected` reports: whether this process leads now, and events for tests and
    the status page (`leading` set while the job runs, `following` while it does not)."""

    name: str
    leading: asyncio.Event = field(default_factory=asyncio.Event)
    following: asyncio.Event = field(default_factory=asyncio.Event)
    terms: int = 0  # how many times this process became leader
    attempts: int = 0  # how many times it tried to take the lease

    @property
    def is_leader(self) -> bool:
        return self.leading.is_set()


async def _lead(lease: Lease, job: Job, election: Election, retry: float) -> None:
    """Run `job` while the lease stays held; return when it is lost.

    A new leader first waits one check interval plus the check's timeout: a previous
    leader whose connection broke (its lock already gone) notices within that time and
    stops its job, so the two never run at once."""
    await asyncio.sleep(retry + _check_timeout(retry))
    if not await _still_held(lease, retry):
        return
    election.terms += 1
    election.following.clear()
    election.leading.set()
    log.info("elected to run %s", election.name)
    try:
        async with job():
            while True:  # a periodic check: a broken connection tells nobody
                await asyncio.sleep(retry)
                if not await _still_held(lease, retry):
                    break
        log.warning("lost the lease of %s; stopping it", election.name)
    finally:
        election.leading.clear()
        election.following.set()


def _check_timeout(retry: float) -> float:
    """How long a leader's check may take before the lease counts as lost: `retry`, but
    never so short that a busy database or event loop ends a healthy term."""
    return max(retry, CHECK_TIMEOUT_FLOOR)


async def _still_held(lease: Lease, retry: float) -> bool:
    """Whether the lease is held, answered in time (a silent network is a loss)."""
    try:
        async with asyncio.timeout(_check_timeout(retry)):
            return await lease.held()
    except TimeoutError:
        return False


async def _campaign(lease: Lease, job: Job, election: Election, retry: float) -> None:
    election.following.set()
    while True:
        try:
            election.attempts += 1
            if await lease.acquire():
                try:
                    await _lead(lease, job, election, retry)
                finally:
                    await lease.release()
        except asyncio.CancelledError:
            raise
        except Exception:  # the database is away: try again later, never run twice
            log.exception("election for %s failed; retrying", election.name)
        await asyncio.sleep(retry)


@contextlib.asynccontextmanager
async def elected(
    database: Database, name: str, job: Job, *, retry: float = ELECTION_RETRY
) -> AsyncIterator[Election]:
    """Run `job()` in this process while it is the one leader for `name` among every
    process on `database`; until the block ends. On exit the job stops and the lease is
    released, so another process takes over within its `retry`."""
    lease = database.lease(name)
    election = Election(name)
    task = asyncio.create_task(_campaign(lease, job, election, retry), name=f"elect-{name}")
    try:
        yield election
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await lease.release()
