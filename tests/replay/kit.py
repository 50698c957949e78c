"""Shared set-up for replay tests: a migrated database (SQLite or PostgreSQL), real
stores, broadcasts."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite

from db import Database, Executor
from livechat import CommentStore
from replay import ReplayStore
from schedule import Broadcast
from tests.support import database_url, migrated
from web.database import connect, migrate

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 10:00 in Seoul
_ids = itertools.count(1000)
_INSERT = (
    "INSERT INTO broadcasts (id, title, description, category, starts_at, ends_at,"
    " status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'ended', ?, ?)"
)


def _ended(
    title: str,
    starts_at: datetime,
    minutes: int,
    category: str,
    description: str,
    staff: tuple[str, ...],
) -> tuple[Broadcast, tuple[object, ...]]:
    broadcast = Broadcast(
        next(_ids),
        title,
        description,
        category,
        starts_at,
        starts_at + timedelta(minutes=minutes),
        status="ended",
        staff=staff,
    )
    return broadcast, (
        broadcast.id,
        title,
        description,
        category,
        starts_at.isoformat(),
        broadcast.ends_at.isoformat(),
        starts_at.isoformat(),
        starts_at.isoformat(),
    )


def add_broadcast(
    path: Path,
    title: str,
    *,
    starts_at: datetime = T0,
    minutes: int = 60,
    category: str = "시정",
    description: str = "",
    staff: tuple[str, ...] = (),
) -> Broadcast:
    """Insert an ended broadcast row into the SQLite file (replays refer to it)."""
    broadcast, row = _ended(title, starts_at, minutes, category, description, staff)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(_INSERT, row)
    conn.close()
    return broadcast


async def insert_broadcast(
    db: Executor,
    title: str,
    *,
    starts_at: datetime = T0,
    minutes: int = 60,
    category: str = "시정",
    description: str = "",
    staff: tuple[str, ...] = (),
) -> Broadcast:
    """Insert an ended broadcast row on either engine (replays refer to it)."""
    broadcast, row = _ended(title, starts_at, minutes, category, description, staff)
    await db.execute(_INSERT, row)
    return broadcast


@dataclass
class Stores:
    db: Database
    replays: ReplayStore
    _comments: CommentStore | None = None

    @property
    def comments(self) -> CommentStore:
        """The comment store (SQLite only until the livechat stores move to `Database`)."""
        assert self._comments is not None, "comments need an SQLite file for now"
        return self._comments

    async def add_broadcast(self, title: str, **kwargs: object) -> Broadcast:
        return await insert_broadcast(self.db, title, **kwargs)  # type: ignore[arg-type]

    async def publish(self, title: str, **kwargs: object) -> int:
        """A broadcast that ended and became a replay; returns the replay id."""
        broadcast = await self.add_broadcast(title, **kwargs)
        replay = await self.replays.create_from_broadcast(
            broadcast, recording_url=f"/media/{broadcast.id}.m3u8"
        )
        return replay.id


@asynccontextmanager
async def stores(target: Path | str) -> AsyncIterator[Stores]:
    """Real stores over the database at `target` (an SQLite file path or a URL), migrated
    first."""
    url = database_url(target)
    async with migrated(url) as db:
        if not url.startswith("sqlite:"):
            yield Stores(db, ReplayStore(db))
            return
        path = Path(url.removeprefix("sqlite:///"))
        migrate(path)
        conns: list[aiosqlite.Connection] = [await connect(path), await connect(path)]
        try:
            yield Stores(db, ReplayStore(db), CommentStore(db))
        finally:
            for conn in conns:
                await conn.close()
