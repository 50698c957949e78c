"""Real hubs for the tests: a real database (an SQLite file, or PostgreSQL through the
`database_url` fixture), a real broker (memory or Redis)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from db import Database, migrate, open_database
from livechat import (
    CLOSE,
    Broker,
    CommentHub,
    CommentStore,
    HubLimits,
    Identity,
    Viewer,
    broker_from_url,
)
from tests.support import TIMEOUT
from web.database import PACKAGES

BROADCAST = 7
# livechat's own tables (its tests need nothing else, on either engine).
LIVECHAT_PACKAGES = tuple(p for p in PACKAGES if p.package.split(".")[0] == "livechat")


def url_of(db: Path | str) -> str:
    """A database URL from a URL or an SQLite file path."""
    return db if isinstance(db, str) else f"sqlite:///{db}"


@contextlib.asynccontextmanager
async def open_livechat_database(db: Path | str) -> AsyncIterator[Database]:
    """Migrate livechat's tables and open one process's `Database` on them."""
    url = url_of(db)
    await migrate(url, LIVECHAT_PACKAGES)
    database = await open_database(url)
    try:
        yield database
    finally:
        await database.close()


@contextlib.asynccontextmanager
async def open_hub(
    db: Path | str, broker_url: str = "", *, broker: Broker | None = None, **limits: Any
) -> AsyncIterator[CommentHub]:
    """One process's hub: its own `Database` (as a process has); its own broker client from
    `broker_url`, or `broker` (connected, kept open: several hubs on one in-process broker
    stand for several processes)."""
    async with open_livechat_database(db) as database:
        own = broker is None
        if broker is None:
            broker = broker_from_url(broker_url)
            await broker.connect()
        hub = CommentHub(CommentStore(database), broker, HubLimits(**limits))
        await hub.start()
        try:
            yield hub
        finally:
            await hub.stop()
            if own:
                await broker.disconnect()


def citizen(n: int) -> Identity:
    return Identity(key=f"g:citizen-{n}", name=f"시민{n}")


async def frames_until(
    viewer: Viewer, predicate: Any, timeout: float = TIMEOUT
) -> list[dict[str, Any]]:
    """Collect decoded frames until `predicate(collected)` holds."""
    got: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while not predicate(got):
            frame = await viewer.next_frame()
            if frame is CLOSE:
                got.append({"type": "__closed__"})
                continue
            got.append(json.loads(frame.text))
    return got


def comment_ids(frames: list[dict[str, Any]]) -> list[int]:
    return [item["id"] for f in frames if f["type"] == "comments" for item in f["items"]]


def has_ids(n: int) -> Any:
    return lambda frames: len(comment_ids(frames)) >= n
