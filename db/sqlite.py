"""SQLite through aiosqlite: one reader connection and one serialised writer per process.

Datasette's model: every write of the process goes through one connection, one at a time
(an `asyncio.Lock`), so no two stores of one process ever contend for SQLite's file lock;
transactions start with `BEGIN IMMEDIATE`, which also serialises writers of *other*
processes on the same file. Because the whole file has a single writer, ids are handed out
in commit order, which is what `transaction(lock=...)` has to guarantee on PostgreSQL:
here the key needs no extra lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import aiosqlite

from db.database import Engine, Lease, Params, Row, Transaction
from db.errors import IntegrityError, UniqueViolation
from db.leader import FileLease

# The database's clock as the stores' text: `2026-12-01T10:00:00.123000+00:00`. SQLite's
# clock has millisecond resolution; the file has one machine, so `now()` is its clock.
NOW_SQL = "(strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000+00:00')"

BUSY_TIMEOUT_MS = 15_000
PRAGMAS = (
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
)


# Switching a new file to WAL needs its exclusive lock, and SQLite answers "database is
# locked" at once, without its busy handler, when another connection is switching too (two
# processes starting on a fresh file). Such a pragma is retried until the busy timeout.
PRAGMA_RETRY_S = 0.005


def _contended(error: sqlite3.OperationalError, deadline: float) -> bool:
    return "database is locked" in str(error) and time.monotonic() < deadline


def configure(conn: sqlite3.Connection) -> None:
    """Apply the pragmas every connection to the file uses (synchronous connections)."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    for pragma in PRAGMAS:
        while True:
            try:
                conn.execute(pragma)
                break
            except sqlite3.OperationalError as error:
                if not _contended(error, deadline):
                    raise
                time.sleep(PRAGMA_RETRY_S)


async def connect(path: Path) -> aiosqlite.Connection:
    """One aiosqlite connection in autocommit mode, configured like every other one."""
    conn = await aiosqlite.connect(path, isolation_level=None)
    conn.row_factory = aiosqlite.Row
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    for pragma in PRAGMAS:
        while True:
            try:
                await conn.execute(pragma)
                break
            except sqlite3.OperationalError as error:
                if not _contended(error, deadline):
                    await conn.close()
                    raise
                await asyncio.sleep(PRAGMA_RETRY_S)
    return conn


def translate_error(error: sqlite3.IntegrityError) -> IntegrityError:
    message = str(error)
    if message.startswith("UNIQUE constraint failed") or "PRIMARY KEY" in message:
        return UniqueViolation(message)
    return IntegrityError(message)


class _Statements:
    """fetch/execute on one connection, SQLite errors translated."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        try:
            rows = await self._conn.execute_fetchall(sql, tuple(params))
        except sqlite3.IntegrityError as error:  # INSERT … RETURNING
            raise translate_error(error) from error
        return cast("list[Row]", list(rows))

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetch(sql, params)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def execute(self, sql: str, params: Params = ()) -> int:
        try:
            cursor = await self._conn.execute(sql, tuple(params))
        except sqlite3.IntegrityError as error:
            raise translate_error(error) from error
        count = cursor.rowcount
        await cursor.close()
        return count

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        try:
            await self._conn.executemany(sql, [tuple(row) for row in rows])
        except sqlite3.IntegrityError as error:
            raise translate_error(error) from error


class SqliteDatabase:
    engine: Engine = "sqlite"
    now_sql: str = NOW_SQL

    def __init__(
        self, path: Path, reader: aiosqlite.Connection, writer: aiosqlite.Connection
    ) -> None:
        self.path = path
        self._reader = _Statements(reader)
        self._writer = _Statements(writer)
        self._connections = (reader, writer)
        self._write_lock = asyncio.Lock()
        self._leases: list[FileLease] = []

    @classmethod
    async def open(cls, path: Path) -> SqliteDatabase:
        path.parent.mkdir(parents=True, exist_ok=True)
        reader = await connect(path)
        try:
            writer = await connect(path)
        except BaseException:
            await reader.close()
            raise
        return cls(path, reader, writer)

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        return await self._reader.fetch(sql, params)

    async def fetch_primary(self, sql: str, params: Params = ()) -> list[Row]:
        return await self._reader.fetch(sql, params)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        return await self._reader.fetchone(sql, params)

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        return await self._reader.fetchval(sql, params)

    async def execute(self, sql: str, params: Params = ()) -> int:
        async with self._write_lock:
            return await self._writer.execute(sql, params)

    async def write_returning(
        self, sql: str, params: Params = (), lock: str | None = None
    ) -> list[Row]:
        del lock  # the file's single writer: see `transaction`
        async with self._write_lock:
            # Autocommit: one statement is its own transaction, begun (waiting on
            # busy_timeout for other processes' writers) and committed by SQLite itself.
            return await self._writer.fetch(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        async with self.transaction() as tx:
            await tx.executemany(sql, rows)

    @contextlib.asynccontextmanager
    async def transaction(self, lock: str | None = None) -> AsyncIterator[Transaction]:
        del lock  # BEGIN IMMEDIATE already makes the file's writers take turns
        async with self._write_lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            await self._writer.execute("COMMIT")

    def lease(self, name: str) -> Lease:
        lease = FileLease(self.path.with_name(f"{self.path.name}.{name}.lease"))
        self._leases.append(lease)
        return lease

    async def now(self) -> datetime:
        return datetime.now(UTC)

    async def close(self) -> None:
        for lease in self._leases:
            await lease.close()
        for conn in self._connections:
            await conn.close()
