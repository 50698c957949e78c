"""Real hubs for the tests: a real SQLite file, a real broker (memory or Redis)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

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
from web.database import connect, migrate

BROADCAST = 7


@contextlib.asynccontextmanager
async def open_hub(db: Path, broker_url: str = "", *, broker: Broker | None = None,
                   **limits: Any) -> AsyncIterator[CommentHub]:
    """A hub on `db`; on its own broker from `broker_url`, or on `broker` (connected, kept
    open: several hubs on one in-process broker stand for several processes)."""
    migrate(db)
    writer, reader = await connect(db), await connect(db)
    own = broker is None
    if broker is None:
        broker = broker_from_url(broker_url)
        await broker.connect()
    hub = CommentHub(CommentStore(writer, reader), broker, HubLimits(**limits))
    await hub.start()
    try:
        yield hub
    finally:
        await hub.stop()
        if own:
            await broker.disconnect()
        await writer.close()
        await reader.close()


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
