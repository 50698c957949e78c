"""SQLite serves one machine: refuse a second host on the same Redis.

Several hosts can share Redis but not a SQLite file (its locks do not cross machines,
and on separate files their comment ids would collide on the shared stream). With
`REDIS_URL` set and a SQLite database, each process holds the lease `sqlite-host` in
Redis under its `HOST_ID` (default: the hostname) and renews it every `RENEW` seconds;
a process whose host id differs from the lease's holder does not start, and one that
finds another holder later logs an error on every renewal. A lease outlives its host by
at most `TTL` seconds (a renamed host waits that long). Without Redis there is one
process, and nothing to check.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from livechat import Broker

log = logging.getLogger("web.ops.single_host")
LEASE = "sqlite-host"
TTL = 30.0
RENEW = 10.0


class SecondHostError(RuntimeError):
    """Another host already serves this SQLite installation through the same Redis."""


def _refusal(host: str, holder: str) -> str:
    return (
        f"host {host!r} refused to start: host {holder!r} already serves this "
        "SQLite database through the same Redis. SQLite serves one machine: run "
        "several hosts on PostgreSQL (DATABASE_URL=postgresql://…), or give every "
        f"process on one machine the same HOST_ID (a stale holder expires in {TTL:.0f} s)."
    )


@contextlib.asynccontextmanager
async def single_host(broker: Broker, host: str) -> AsyncIterator[None]:
    """Hold the SQLite host lease for `host` while the context is open; raise
    `SecondHostError` on entry if another host holds it."""
    holder = await broker.lease(LEASE, host, TTL)
    if holder is not None and holder != host:
        raise SecondHostError(_refusal(host, holder))

    async def renew() -> None:
        while True:
            await asyncio.sleep(RENEW)
            now = await broker.lease(LEASE, host, TTL)
            if now is not None and now != host:
                log.error("%s", _refusal(host, now))

    task = asyncio.create_task(renew(), name="sqlite-host-lease")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
