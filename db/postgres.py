"""PostgreSQL through asyncpg: a connection pool per process.

Every connection of the pool may write; `transaction(lock=key)` takes a transaction-scoped
advisory lock on the key, so writers of every host serialise where order matters (comment
ids of one broadcast become visible in id order, a broadcast slot is booked once).
`statement_cache_size=0` makes it work behind PgBouncer in transaction mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Any, cast

import asyncpg

from db.database import Engine, Lease, Params, Row, Transaction
from db.errors import ConfigurationError, IntegrityError, UniqueViolation

# The database's clock as the stores' text: `2026-12-01T10:00:00.123456+00:00`.
# clock_timestamp(), not now(): now() is the transaction's start, the same for every row
# of a transaction and older than rows other hosts committed meanwhile.
NOW_SQL = (
    "(to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || '+00:00')"
)


@functools.lru_cache(maxsize=4096)
def placeholders(sql: str) -> str:
    """`?` → `$1, $2, …`, leaving quoted strings, quoted identifiers and comments alone."""
    out: list[str] = []
    number = 0
    i, n = 0, len(sql)
    while i < n:
        char = sql[i]
        if char in "'\"":
            end = i + 1
            while end < n:
                if sql[end] == char:
                    if end + 1 < n and sql[end + 1] == char:  # doubled quote
                        end += 2
                        continue
                    break
                end += 1
            out.append(sql[i : end + 1])
            i = end + 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            out.append(sql[i:end])
            i = end
        elif char == "?":
            number += 1
            out.append(f"${number}")
            i += 1
        else:
            out.append(char)
            i += 1
    return "".join(out)


def lock_id(key: str) -> int:
    """A stable signed 64-bit advisory-lock id for a key (the same on every host)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


def _count(status: str) -> int:
    """Rows changed, from a command status such as `INSERT 0 3` or `UPDATE 2`."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


def translate_error(error: asyncpg.IntegrityConstraintViolationError) -> IntegrityError:
    if isinstance(error, asyncpg.UniqueViolationError):
        return UniqueViolation(str(error))
    return IntegrityError(str(error))


class _Statements:
    """fetch/execute on one connection (or the pool), errors translated."""

    def __init__(self, target: asyncpg.Pool | asyncpg.Connection) -> None:
        self._target = target

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        try:
            rows = await self._target.fetch(placeholders(sql), *params)
        except asyncpg.IntegrityConstraintViolationError as error:
            raise translate_error(error) from error
        return cast("list[Row]", rows)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetch(sql, params)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def execute(self, sql: str, params: Params = ()) -> int:
        try:
            status = await self._target.execute(placeholders(sql), *params)
        except asyncpg.IntegrityConstraintViolationError as error:
            raise translate_error(error) from error
        return _count(status)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        try:
            await self._target.executemany(placeholders(sql), [tuple(r) for r in rows])
        except asyncpg.IntegrityConstraintViolationError as error:
            raise translate_error(error) from error


# Plan every execution of a cached statement with its parameters. After five runs
# PostgreSQL may switch a prepared statement to a generic plan; for the replay window (a
# `video_offset` range of one broadcast) that plan took 10–40 ms against 0.3 ms planned per
# call (measured, bench.replay_catalog). Without a statement cache (PgBouncer in
# transaction mode, which also refuses unknown startup parameters) statements are unnamed
# and planned per call anyway, so nothing is sent then.
CUSTOM_PLANS = {"plan_cache_mode": "force_custom_plan"}


async def _keep_session(conn: asyncpg.Connection) -> None:
    """What the pool runs when a connection comes back: nothing. asyncpg's default costs a
    round trip per statement (`RESET ALL`, `UNLISTEN *`, unlock all …) for state this
    layer never leaves behind: transactions always end, no LISTEN, no session SET, and
    every advisory lock is transaction-scoped."""
    del conn


class AdvisoryLease:
    """A run-once job's lease: `pg_try_advisory_xact_lock` in a transaction held open on
    one pooled connection (works through PgBouncer in transaction mode; see db.leader)."""

    def __init__(self, pool: asyncpg.Pool, key: str) -> None:
        self._pool = pool
        self._id = lock_id("lease:" + key)
        self._conn: asyncpg.pool.PoolConnectionProxy | None = None
        self._transaction: asyncpg.transaction.Transaction | None = None
        self._closed = False
        self._lock = asyncio.Lock()  # one statement at a time on the lease's connection

    async def acquire(self) -> bool:
        async with self._lock:
            if self._conn is not None:
                return True
            if self._closed:
                return False
            conn = await self._pool.acquire()
            try:
                transaction = conn.transaction()
                await transaction.start()
                got = await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", self._id)
                if not got:
                    await transaction.rollback()
            except BaseException:
                await self._discard(conn)  # interrupted mid-statement: not reusable
                raise
            if not got:
                await self._pool.release(conn)
                return False
            self._conn, self._transaction = conn, transaction
            return True

    async def held(self) -> bool:
        async with self._lock:
            if self._conn is None:
                return False
            try:
                return bool(await self._conn.fetchval("SELECT 1"))
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                return False

    async def release(self) -> None:
        async with self._lock:
            conn, transaction = self._conn, self._transaction
            self._conn = self._transaction = None
            if conn is None or transaction is None:
                return
            try:
                await transaction.rollback()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                await self._discard(conn)
                return
            except BaseException:
                await self._discard(conn)
                raise
            await self._pool.release(conn)

    async def _discard(self, conn: asyncpg.pool.PoolConnectionProxy) -> None:
        """Close a connection in an unknown state (the server rolls back, the lock goes)
        and give its slot back to the pool."""
        conn.terminate()
        await self._pool.release(conn)

    async def close(self) -> None:
        """Release for good (the database closes): never acquire again."""
        self._closed = True
        await self.release()


class PostgresDatabase(_Statements):
    engine: Engine = "postgresql"
    now_sql: str = NOW_SQL

    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__(pool)
        self._pool = pool
        self._leases: list[AdvisoryLease] = []

    @classmethod
    async def open(
        cls, dsn: str, *, min_size: int = 2, max_size: int = 10, statement_cache_size: int = 100
    ) -> PostgresDatabase:
        try:
            pool = await asyncpg.create_pool(
                dsn,
                min_size=min_size,
                max_size=max_size,
                statement_cache_size=statement_cache_size,
                reset=_keep_session,
                # The session default, which survives RESET ALL (see `_keep_session`).
                server_settings=CUSTOM_PLANS if statement_cache_size else None,
            )
        except (OSError, asyncpg.PostgresError) as error:
            raise ConfigurationError(f"cannot connect to PostgreSQL: {error}") from error
        assert pool is not None
        return cls(pool)

    async def fetch_primary(self, sql: str, params: Params = ()) -> list[Row]:
        return await self.fetch(sql, params)

    async def write_returning(
        self, sql: str, params: Params = (), lock: str | None = None
    ) -> list[Row]:
        if lock is None:
            return await self.fetch(sql, params)  # one statement: its own transaction
        async with self.transaction(lock) as tx:
            return await tx.fetch(sql, params)

    @contextlib.asynccontextmanager
    async def transaction(self, lock: str | None = None) -> AsyncIterator[Transaction]:
        async with self._pool.acquire() as conn:
            try:
                async with conn.transaction():
                    if lock is not None:
                        await conn.execute("SELECT pg_advisory_xact_lock($1)", lock_id(lock))
                    yield _Statements(conn)
            except asyncpg.IntegrityConstraintViolationError as error:
                raise translate_error(error) from error

    @contextlib.asynccontextmanager
    async def try_lock(self, key: str) -> AsyncIterator[bool]:
        """Hold an advisory lock on `key` while the block runs if no other process or host
        holds it; yields whether this process got it (the holder runs, others skip). The
        lock is transaction-scoped, in a transaction kept open on one pooled connection
        until the block ends, so it is safe through PgBouncer in transaction mode (a
        session lock would stay on a server connection another client gets next)."""
        async with self._pool.acquire() as conn, conn.transaction():
            yield bool(await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", lock_id(key)))

    def lease(self, name: str) -> Lease:
        lease = AdvisoryLease(self._pool, name)
        self._leases.append(lease)
        return lease

    async def now(self) -> datetime:
        moment: datetime = await self.fetchval("SELECT clock_timestamp()")
        return moment.astimezone(UTC)

    async def close(self) -> None:
        for lease in self._leases:  # the pool waits for every connection to come back
            await lease.close()
        await self._pool.close()
