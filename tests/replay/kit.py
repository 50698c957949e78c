"""Shared set-up for replay tests: a migrated SQLite file, real stores, broadcasts."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from db import open_database
from livechat import CommentStore
from replay import ReplayStore
from schedule import Broadcast
from web.database import connect, migrate

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 10:00 in Seoul
_ids = itertools.count(1000)


def add_broadcast(path: Path, title: str, *, starts_at: datetime = T0,
                  minutes: int = 60, category: str = "시정", description: str = "",
                  staff: tuple[str, ...] = ()) -> Broadcast:
    """Insert an ended broadcast row (replays refer to it) and return it."""
    broadcast = Broadcast(next(_ids), title, description, category, starts_at,
                          starts_at + timedelta(minutes=minutes), status="ended", staff=staff)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "INSERT INTO broadcasts (id, title, description, category, starts_at, ends_at,"
            " status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'ended', ?, ?)",
            (broadcast.id, title, description, category, starts_at.isoformat(),
             broadcast.ends_at.isoformat(), starts_at.isoformat(), starts_at.isoformat()),
        )
    conn.close()
    return broadcast


@dataclass
class Stores:
    path: Path
    replays: ReplayStore
    comments: CommentStore

    async def publish(self, title: str, **kwargs: object) -> int:
        """A broadcast that ended and became a replay; returns the replay id."""
        broadcast = add_broadcast(self.path, title, **kwargs)  # type: ignore[arg-type]
        replay = await self.replays.create_from_broadcast(
            broadcast, recording_url=f"/media/{broadcast.id}.m3u8")
        return replay.id


@asynccontextmanager
async def stores(path: Path) -> AsyncIterator[Stores]:
    """Real stores over the SQLite file at `path` (migrated first)."""
    migrate(path)
    writer, reader = await connect(path), await connect(path)
    database = await open_database(f"sqlite:///{path}")
    try:
        yield Stores(path, ReplayStore(writer, reader), CommentStore(database))
    finally:
        for conn in (writer, reader):
            await conn.close()
        await database.close()
