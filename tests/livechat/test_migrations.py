"""livechat's migrations: replies leave the flags column in place; both engines end with
the same tables and columns."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import asyncpg
import pytest

import livechat.migrations
import livechat.questions.question_migrations
from db import PackageMigrations, migrate
from db.connect import DatabaseURL
from tests import postgres
from tests.livechat.hubkit import LIVECHAT_PACKAGES

_INSERT = (
    "INSERT INTO comments (broadcast_id, author_key, author_name, role, client_id,"
    " text, created_at, flags) VALUES (1, ?, 'n', 'official', ?, 't',"
    " '2026-11-25T05:00:00.000000+00:00', ?)"
)


async def test_reply_links_move_from_the_flags_to_their_column(tmp_path: Path) -> None:
    """A database written before the reply column keeps every answer's question: `re:<id>`
    leaves the flags for `reply_to`, and the other flags stay as they were."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    before = PackageMigrations("livechat", livechat.migrations.MIGRATIONS[:4], ())
    await migrate(url, [before])
    conn = sqlite3.connect(tmp_path / "old.db")
    with conn:
        conn.executemany(
            _INSERT,
            [
                ("a", "1", "answer,re:12"),
                ("a", "2", "masked,question"),
                ("a", "3", "re:5"),
                ("a", "4", ""),
                ("a", "5", "answer,masked,re:7"),
            ],
        )
    conn.close()
    assert await migrate(url, LIVECHAT_PACKAGES[:1]) == [("livechat", 5)]
    conn = sqlite3.connect(tmp_path / "old.db")
    rows = conn.execute("SELECT client_id, flags, reply_to FROM comments ORDER BY id").fetchall()
    conn.close()
    assert rows == [
        ("1", "answer", 12),
        ("2", "masked,question", None),
        ("3", "", 5),
        ("4", "", None),
        ("5", "answer,masked", 7),
    ]


def _sqlite_columns(path: Path) -> dict[str, list[str]]:
    conn = sqlite3.connect(path)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' AND name != 'schema_migrations'"
            )
        ]
        return {t: sorted(r[1] for r in conn.execute(f"PRAGMA table_info({t})")) for t in tables}
    finally:
        conn.close()


async def test_postgresql_schema_matches_sqlite(tmp_path: Path) -> None:
    """The one PostgreSQL migration of each package creates the tables and columns that
    the SQLite migrations end with."""
    if not postgres.ADMIN_URL:
        pytest.skip(postgres.NO_POSTGRES)
    path = tmp_path / "schema.db"
    await migrate(f"sqlite:///{path}", LIVECHAT_PACKAGES)
    url, schema = await asyncio.to_thread(postgres.fresh_schema)  # it runs its own loop
    try:
        await migrate(url, LIVECHAT_PACKAGES)
        conn = await asyncpg.connect(DatabaseURL(url).dsn)
        try:
            rows = await conn.fetch(
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE table_schema = $1 AND table_name != 'schema_migrations'",
                schema,
            )
        finally:
            await conn.close()
    finally:
        await asyncio.to_thread(postgres.drop_schema, schema)
    on_postgres: dict[str, list[str]] = {}
    for row in rows:
        on_postgres.setdefault(row["table_name"], []).append(row["column_name"])
    assert {t: sorted(c) for t, c in on_postgres.items()} == _sqlite_columns(path)
    assert len(livechat.migrations.POSTGRES_MIGRATIONS) == 1
    assert len(livechat.questions.question_migrations.POSTGRES_MIGRATIONS) == 1
