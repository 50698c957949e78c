"""Numbered migrations per package and per engine, applied in place, each exactly once.

Each package owns its tables and two tuples of migrations, `MIGRATIONS` (SQLite) and
`POSTGRES_MIGRATIONS` (migration *n* at index *n-1*); the application passes them in
dependency order (replay refers to schedule). Each migration runs in one transaction
together with its `schema_migrations` row, so a failure leaves the database at the previous
number. Several processes or hosts starting at once apply each migration once: SQLite's
`BEGIN IMMEDIATE`; on PostgreSQL a transaction-scoped advisory lock taken in each
migration's transaction (safe through PgBouncer in transaction mode). A PostgreSQL
migration must therefore be able to run inside a transaction: one that cannot (`CREATE
INDEX CONCURRENTLY`, `VACUUM`) is refused with `MigrationError` and nothing is recorded.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from db.connect import DatabaseURL
from db.errors import ConfigurationError, MigrationError
from db.postgres import lock_id
from db.sqlite import configure


@dataclass(frozen=True, slots=True)
class PackageMigrations:
    package: str
    sqlite: Sequence[str]
    postgresql: Sequence[str]


SCHEMA_MIGRATIONS_SQLITE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " package TEXT NOT NULL, number INTEGER NOT NULL,"
    " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),"
    " PRIMARY KEY (package, number))"
)
SCHEMA_MIGRATIONS_POSTGRES = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " package TEXT NOT NULL, number INTEGER NOT NULL,"
    " applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),"
    " PRIMARY KEY (package, number))"
)


async def migrate(
    url: str | DatabaseURL, packages: Sequence[PackageMigrations]
) -> list[tuple[str, int]]:
    """Bring the database up to date; return the (package, number) pairs applied."""
    parsed = url if isinstance(url, DatabaseURL) else DatabaseURL(url)
    if parsed.engine == "sqlite":
        return await asyncio.to_thread(migrate_sqlite, parsed.path, packages)
    return await migrate_postgres(parsed.dsn, packages)


def migrate_sqlite(path: Path, packages: Sequence[PackageMigrations]) -> list[tuple[str, int]]:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    applied: list[tuple[str, int]] = []
    try:
        configure(conn)
        conn.execute(SCHEMA_MIGRATIONS_SQLITE)
        for entry in packages:
            for number, sql in enumerate(entry.sqlite, start=1):
                conn.execute("BEGIN IMMEDIATE")
                try:
                    done = conn.execute(
                        "SELECT 1 FROM schema_migrations WHERE package = ? AND number = ?",
                        (entry.package, number),
                    ).fetchone()
                    if done:
                        conn.execute("COMMIT")
                        continue
                    for statement in sqlite_statements(sql):
                        conn.execute(statement)
                    conn.execute(
                        "INSERT INTO schema_migrations (package, number) VALUES (?, ?)",
                        (entry.package, number),
                    )
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                applied.append((entry.package, number))
    finally:
        conn.close()
    return applied


def sqlite_statements(sql: str) -> list[str]:
    """Split a migration script into complete statements (triggers included)."""
    statements, buffer = [], ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


async def check_postgres(conn: asyncpg.Connection) -> None:
    """Refuse a database whose character type would break Korean search: with a non-UTF-8
    `LC_CTYPE`, pg_trgm extracts no trigrams from Hangul and every search finds nothing."""
    encoding, ctype = await conn.fetchrow(
        "SELECT pg_encoding_to_char(encoding), datctype FROM pg_database"
        " WHERE datname = current_database()"
    )
    normal = ctype.lower().replace("-", "")
    if encoding != "UTF8" or not normal.endswith("utf8"):
        raise ConfigurationError(
            f"PostgreSQL database has ENCODING {encoding} and LC_CTYPE {ctype}; Korean search"
            " needs UTF8 and a UTF-8 LC_CTYPE. Create it with: CREATE DATABASE … ENCODING"
            " 'UTF8' LC_CTYPE 'C.UTF-8' LC_COLLATE 'C.UTF-8' TEMPLATE template0"
        )


MIGRATION_LOCK = lock_id("schema_migrations")


async def migrate_postgres(
    dsn: str, packages: Sequence[PackageMigrations]
) -> list[tuple[str, int]]:
    """Each pending migration in a transaction of its own that first takes the
    transaction-scoped advisory lock `MIGRATION_LOCK`, then checks `schema_migrations`
    again (read committed: it sees what a host that held the lock before committed), then
    applies the migration with its row. Several hosts starting at once therefore apply each
    migration once, and no lock outlives its transaction: the connection may go through
    PgBouncer in transaction mode. A migration that cannot run inside a transaction
    (`CREATE INDEX CONCURRENTLY`, `VACUUM`, …) is refused with `MigrationError`."""
    try:
        conn = await asyncpg.connect(dsn)
    except (OSError, asyncpg.PostgresError) as error:
        raise ConfigurationError(f"cannot connect to PostgreSQL: {error}") from error
    applied: list[tuple[str, int]] = []
    try:
        await check_postgres(conn)
        for entry in packages:
            if len(entry.postgresql) < 1 and entry.sqlite:
                raise MigrationError(f"{entry.package} has no PostgreSQL migrations")
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            await conn.execute(SCHEMA_MIGRATIONS_POSTGRES)
            done = {
                (row["package"], row["number"])
                for row in await conn.fetch("SELECT package, number FROM schema_migrations")
            }
        for entry in packages:
            for number, sql in enumerate(entry.postgresql, start=1):
                if (entry.package, number) not in done and await _apply(
                    conn, entry.package, number, sql
                ):
                    applied.append((entry.package, number))
    finally:
        await conn.close()
    return applied


async def _apply(conn: asyncpg.Connection, package: str, number: int, sql: str) -> bool:
    """Apply one migration under the lock unless another host has meanwhile; whether
    this call applied it."""
    try:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            if await conn.fetchval(
                "SELECT 1 FROM schema_migrations WHERE package = $1 AND number = $2",
                package,
                number,
            ):
                return False
            await conn.execute(sql)
            await conn.execute(
                "INSERT INTO schema_migrations (package, number) VALUES ($1, $2)",
                package,
                number,
            )
    except asyncpg.ActiveSQLTransactionError as error:
        raise MigrationError(
            f"PostgreSQL migration {package} {number:04d} cannot run inside a transaction"
            f" ({error}). Migrations run in a transaction under a transaction-scoped lock,"
            " so that each is applied once by one host: use the plain statement (e.g."
            " CREATE INDEX IF NOT EXISTS), and build a large index beforehand by hand with"
            " CREATE INDEX CONCURRENTLY IF NOT EXISTS under the same name (docs/deploy.md)"
        ) from error
    return True
