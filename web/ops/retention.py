"""Comment retention: delete visible comments older than COMMENT_RETENTION_DAYS.

The audit trail stays (see `livechat.ops_store.OpsStore.prune`). `live-seoul db prune`
runs it once; with the setting above 0 every worker also runs it in its lifespan, shortly
after start and then daily. On PostgreSQL each run is elected: the worker that takes the
`retention` advisory lock prunes, the others (on every host) skip that run (`run_once`);
on SQLite running it twice at once is harmless (the second finds nothing to delete).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from db import Database
from db.postgres import PostgresDatabase
from livechat import OpsStore

log = logging.getLogger("web.ops.retention")

DAY = 86400.0
FIRST_RUN_DELAY = (60.0, 600.0)  # jittered, so several workers do not start at once


def cutoff(now: datetime, days: int) -> str:
    """The `created_at` bound (ISO UTC, same format as stored) for a retention of `days`."""
    if days <= 0:
        raise ValueError("retention must be a positive number of days")
    moment = now.astimezone(UTC) - timedelta(days=days)
    return moment.isoformat(timespec="microseconds")


async def prune_once(ops: OpsStore, days: int, now: datetime | None = None) -> int:
    """Delete what the retention allows now (by the database's clock, unless `now` is
    given); return how many comments went."""
    deleted = await ops.prune(cutoff(now or await ops.db.now(), days))
    log.info("retention: deleted %d comment(s) older than %d day(s)", deleted, days)
    return deleted


@contextlib.asynccontextmanager
async def run_once(database: Database | None, key: str) -> AsyncIterator[bool]:
    """Whether this process runs the job named `key` now: on PostgreSQL only the one
    holding the advisory lock on `key` (every other process and host gets False while it
    runs; `PostgresDatabase.try_lock`); otherwise always True."""
    if isinstance(database, PostgresDatabase):
        async with database.try_lock(key) as elected:
            yield elected
    else:
        yield True


async def _daily(
    ops: OpsStore, days: int, first_delay: float, interval: float, database: Database | None
) -> None:
    await asyncio.sleep(first_delay)
    while True:
        try:
            async with run_once(database, "retention") as elected:
                if elected:
                    await prune_once(ops, days)
        except Exception:
            log.exception("retention run failed; retrying at the next interval")
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def retention(
    ops: OpsStore,
    days: int,
    *,
    first_delay: float | None = None,
    interval: float = DAY,
    database: Database | None = None,
) -> AsyncIterator[None]:
    """Run pruning in the background while the context is open (nothing if `days` <= 0)."""
    if days <= 0:
        yield
        return
    delay = random.uniform(*FIRST_RUN_DELAY) if first_delay is None else first_delay
    task = asyncio.create_task(_daily(ops, days, delay, interval, database), name="retention")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
