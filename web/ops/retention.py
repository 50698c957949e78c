"""Comment retention: delete visible comments older than COMMENT_RETENTION_DAYS.

The audit trail stays (see `livechat.ops_store.OpsStore.prune`). `live-seoul db prune`
runs it once; with the setting above 0 every worker also runs it in its lifespan, shortly
after start and then daily (running it twice at once is harmless: the second finds
nothing to delete).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

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
    """Delete what the retention allows now; return how many comments went."""
    deleted = await ops.prune(cutoff(now or datetime.now(UTC), days))
    log.info("retention: deleted %d comment(s) older than %d day(s)", deleted, days)
    return deleted


async def _daily(ops: OpsStore, days: int, first_delay: float, interval: float) -> None:
    await asyncio.sleep(first_delay)
    while True:
        try:
            await prune_once(ops, days)
        except Exception:
            log.exception("retention run failed; retrying at the next interval")
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def retention(ops: OpsStore, days: int, *, first_delay: float | None = None,
                    interval: float = DAY) -> AsyncIterator[None]:
    """Run pruning in the background while the context is open (nothing if `days` <= 0)."""
    if days <= 0:
        yield
        return
    delay = random.uniform(*FIRST_RUN_DELAY) if first_delay is None else first_delay
    task = asyncio.create_task(_daily(ops, days, delay, interval), name="retention")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
