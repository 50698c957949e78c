"""The naive baseline a typical tutorial chat builds, for the benchmark to compare against.

Every WebSocket connection opens its own Redis subscription, and every comment is sent to
every connection with its own `await send_text()`. Comments are still stored first (same
SQLite write as the real hub), so the comparison isolates the fan-out design.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiosqlite
import redis.asyncio as aioredis
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
DB = os.environ.get("NAIVE_DB", "/tmp/naive.db")
state: dict[str, object] = {}


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    db = await aiosqlite.connect(DB)
    await db.execute("PRAGMA journal_mode=WAL")
    await db.execute("CREATE TABLE IF NOT EXISTS c (id INTEGER PRIMARY KEY, text TEXT)")
    state["db"] = db
    state["redis"] = aioredis.from_url(REDIS_URL, max_connections=100_000)
    yield
    await db.close()


async def chat(ws: WebSocket) -> None:
    await ws.accept()
    await ws.send_text('{"type":"hello"}')
    redis: aioredis.Redis = state["redis"]  # type: ignore[assignment]
    pubsub = redis.pubsub()
    await pubsub.subscribe("naive")  # one subscription per connection
    import asyncio

    async def forward() -> None:
        async for message in pubsub.listen():
            if message["type"] == "message":
                await ws.send_text(message["data"].decode())  # one send per comment

    task = asyncio.create_task(forward())
    try:
        while True:
            data = json.loads(await ws.receive_text())
            if data.get("type") == "post":
                db: aiosqlite.Connection = state["db"]  # type: ignore[assignment]
                cursor = await db.execute("INSERT INTO c (text) VALUES (?)", (data["text"],))
                await db.commit()
                item = {
                    "id": cursor.lastrowid,
                    "text": data["text"],
                    "client_id": data["client_id"],
                    "created_at": datetime.now(UTC).isoformat(),
                }
                await ws.send_text(
                    json.dumps(
                        {"type": "ack", "client_id": data["client_id"], "id": cursor.lastrowid}
                    )
                )
                frame = {"type": "comments", "items": [item]}
                await redis.publish(
                    "naive", json.dumps(frame, ensure_ascii=False, separators=(",", ":"))
                )
    except (WebSocketDisconnect, RuntimeError):
        pass  # the client left; the benchmark gives up on the baseline mid-send
    finally:
        task.cancel()
        await pubsub.aclose()  # type: ignore[no-untyped-call]


app = Starlette(
    routes=[WebSocketRoute("/ws/broadcasts/{broadcast_id:int}", chat)], lifespan=lifespan
)
