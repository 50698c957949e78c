"""Broadcast persistence (SQLite through aiosqlite)."""

from __future__ import annotations

import asyncio

import aiosqlite


class ScheduleStore:
    """Reads and writes broadcasts. Writes go through `writer` under `BEGIN IMMEDIATE`."""

    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self._writer = writer
        self._reader = reader
        self._lock = asyncio.Lock()

    async def exists(self, broadcast_id: int) -> bool:
        rows = await self._reader.execute_fetchall(
            "SELECT 1 FROM broadcasts WHERE id = ?", (broadcast_id,)
        )
        return bool(rows)
