"""Replay catalog persistence (SQLite through aiosqlite)."""

from __future__ import annotations

import asyncio

import aiosqlite


class ReplayStore:
    """Reads and writes replays. Writes go through `writer` under `BEGIN IMMEDIATE`."""

    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self._writer = writer
        self._reader = reader
        self._lock = asyncio.Lock()
