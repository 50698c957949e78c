"""SQLite connections and the migration runner.

Each package owns its tables and a numbered tuple of migrations (`<pkg>.migrations.MIGRATIONS`,
migration *n* at index *n-1*). This module applies them in place and opens connections the
way every store expects them: WAL, foreign keys on, autocommit (stores issue
`BEGIN IMMEDIATE` themselves), a generous busy timeout because several worker processes
write to the same file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import aiosqlite

import livechat.migrations
import livechat.questions.question_migrations
import replay.migrations
import schedule.migrations
import web.migrations

# Order matters only for foreign keys between packages (replay refers to schedule).
PACKAGE_MIGRATIONS: tuple[tuple[str, Sequence[str]], ...] = (
    ("web", web.migrations.MIGRATIONS),
    ("schedule", schedule.migrations.MIGRATIONS),
    ("replay", replay.migrations.MIGRATIONS),
    ("livechat", livechat.migrations.MIGRATIONS),
    ("livechat.questions", livechat.questions.question_migrations.MIGRATIONS),
)

BUSY_TIMEOUT_MS = 15_000


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")


def migrate(
    path: Path,
    packages: Sequence[tuple[str, Sequence[str]]] = PACKAGE_MIGRATIONS,
) -> list[tuple[str, int]]:
    """Bring the database at `path` up to date; return the (package, number) pairs applied.

    Each migration runs in its own `BEGIN IMMEDIATE` transaction together with its row in
    `schema_migrations`, so a failure leaves the file at the previous number and concurrent
    workers starting at once apply each migration exactly once.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    applied: list[tuple[str, int]] = []
    try:
        _configure(conn)
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " package TEXT NOT NULL, number INTEGER NOT NULL,"
            " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),"
            " PRIMARY KEY (package, number))"
        )
        for package, migrations in packages:
            for number, sql in enumerate(migrations, start=1):
                conn.execute("BEGIN IMMEDIATE")
                try:
                    done = conn.execute(
                        "SELECT 1 FROM schema_migrations WHERE package = ? AND number = ?",
                        (package, number),
                    ).fetchone()
                    if done:
                        conn.execute("COMMIT")
                        continue
                    for statement in _statements(sql):
                        conn.execute(statement)
                    conn.execute(
                        "INSERT INTO schema_migrations (package, number) VALUES (?, ?)",
                        (package, number),
                    )
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                applied.append((package, number))
    finally:
        conn.close()
    return applied


def _statements(sql: str) -> list[str]:
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


async def connect(path: Path) -> aiosqlite.Connection:
    """Open an aiosqlite connection configured like every other one."""
    conn = await aiosqlite.connect(path, isolation_level=None)
    conn.row_factory = aiosqlite.Row
    await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    await conn.execute("PRAGMA journal_mode = WAL")
    await conn.execute("PRAGMA synchronous = NORMAL")
    await conn.execute("PRAGMA foreign_keys = ON")
    return conn
