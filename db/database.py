"""The interface every store talks to.

Stores write SQL with `?` placeholders, portable between SQLite and PostgreSQL wherever the
two agree (`ON CONFLICT`, `RETURNING`, `COUNT(*) FILTER`, qualified columns); the engine
translates placeholders. Reads outside a transaction go to the readers; every write goes
through the process's one serialised writer: `execute` (one statement, committed on its
own) or `transaction()` (several statements, all or nothing).

`transaction(lock=key)` serialises the block with every other transaction holding the same
key *across processes and hosts* (SQLite: the single file writer already does;
PostgreSQL: a transaction-scoped advisory lock). Comment inserts take the broadcast's key so
ids become visible in id order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Literal, Protocol

Engine = Literal["sqlite", "postgresql"]
Params = Sequence[object]


class Row(Protocol):
    """A result row: by position or by column name (aiosqlite.Row, asyncpg.Record)."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[Any]:
        """The values, in column order (both engines' rows iterate values)."""

    def keys(self) -> Iterable[str]: ...


class Lease(Protocol):
    """A named lock at most one process of the installation holds."""

    async def acquire(self) -> bool:
        """Take the lease if nobody holds it; True when this process now holds it."""

    async def held(self) -> bool:
        """Whether the lease is still this process's (False once its connection broke)."""

    async def release(self) -> None:
        """Give the lease up (nothing if not held)."""


class Executor(Protocol):
    """What runs statements: the database itself or an open transaction."""

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        """All rows of a query."""

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """The first row, or None."""

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, or None."""

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; return the number of rows it changed."""

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement once per parameter row."""


class Transaction(Executor, Protocol):
    """Statements inside one open transaction on the writer."""


class Database(Executor, Protocol):
    """One database per process: readers, one serialised writer, transactions."""

    engine: Engine
    now_sql: str
    """A SQL expression for the database's clock as text in the stores' format,
    `2026-12-01T10:00:00.123456+00:00` (`datetime.isoformat(timespec="microseconds")` of
    an aware UTC time): what rows stamped by several hosts use (`created_at`), so one
    clock orders them. Compares as text in time order on both engines."""

    def transaction(self, lock: str | None = None) -> AbstractAsyncContextManager[Transaction]:
        """A transaction on the writer, committed when the block ends, rolled back if it
        raises; with `lock`, serialised with every other transaction on the same key."""

    async def write_returning(
        self, sql: str, params: Params = (), lock: str | None = None
    ) -> list[Row]:
        """One writing statement committed on its own, with the rows it returns (`INSERT …
        RETURNING`); with `lock`, serialised like `transaction(lock=…)`. What a
        one-statement transaction does, in one trip to SQLite's writer thread instead of
        five (`BEGIN`, the statement, `COMMIT`, each cursor closed)."""

    async def fetch_primary(self, sql: str, params: Params = ()) -> list[Row]:
        """Like `fetch`, but read from the primary (what the comment pump and backfill
        use: a replica could be behind the ids the broker announces)."""

    async def now(self) -> datetime:
        """The database's clock now, an aware UTC datetime (`isoformat(timespec=
        "microseconds")` of it is the text `now_sql` yields)."""

    def lease(self, name: str) -> Lease:
        """The lease of a run-once job (`db.leader.elected` takes it)."""

    async def close(self) -> None:
        """Close every connection."""


async def now_text(db: Database) -> str:
    """`db.now()` as the stores' text: for a store that needs the stamp before it writes
    it (one moment shared by several rows); a stamp only written uses `db.now_sql`."""
    return (await db.now()).isoformat(timespec="microseconds")
