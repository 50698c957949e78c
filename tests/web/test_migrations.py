from __future__ import annotations

import sqlite3
from pathlib import Path

from db import migrate as migrate_database
from db.migrate import migrate_sqlite
from replay import ReplayQuery, ReplayStore
from tests.support import migrated, packages_for
from web.database import PACKAGE_MIGRATIONS, migrate


def test_file_from_first_migrations_upgrades_with_rows_intact(tmp_path: Path) -> None:
    """A database made by each package's first migration upgrades in place, keeping its rows."""
    db = tmp_path / "old.db"
    first_only = [(package, migrations[:1]) for package, migrations in PACKAGE_MIGRATIONS]
    migrate(db, first_only)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            "INSERT INTO broadcasts (id, title, category, starts_at, ends_at, created_at,"
            " updated_at) VALUES (5, '옛 방송', '회의', '2026-01-01T00:00:00+00:00',"
            " '2026-01-01T01:00:00+00:00', 'x', 'x')"
        )
        conn.execute(
            "INSERT INTO comments (broadcast_id, author_key, author_name, role, client_id,"
            " text, created_at) VALUES (5, 'g:1', '시민', 'viewer', 'c', '옛 댓글',"
            " '2026-01-01T00:10:00+00:00')"
        )
    conn.close()
    applied = migrate(db)
    expected = sum(max(0, len(m) - 1) for _, m in PACKAGE_MIGRATIONS)
    assert len(applied) == expected
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT title FROM broadcasts WHERE id = 5").fetchone() == ("옛 방송",)
    assert conn.execute("SELECT text FROM comments").fetchall() == [("옛 댓글",)]
    conn.close()


def test_migrate_is_idempotent(tmp_path: Path) -> None:
    """Running migrations twice applies nothing the second time."""
    db = tmp_path / "db.sqlite"
    assert migrate(db)
    assert migrate(db) == []


def test_wal_and_foreign_keys(tmp_path: Path) -> None:
    """The database file is in WAL mode."""
    db = tmp_path / "db.sqlite"
    migrate(db)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


async def test_replays_indexed_before_spacing_blind_search_are_found(tmp_path: Path) -> None:
    """A replay indexed by replay migration 1's form is found without its title's spaces
    once the file is upgraded ("보행친화" finds "보행 친화")."""
    db = tmp_path / "old.db"
    first_only = [(package, migrations[:1]) for package, migrations in PACKAGE_MIGRATIONS]
    migrate(db, first_only)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            "INSERT INTO replays (id, title, recording_url, aired_at, recording_started_at,"
            " published_at, created_at, updated_at) VALUES (7, '보행 친화 도시 서울',"
            " '/r.m3u8', ?, ?, ?, ?, ?)",
            ["2026-01-01T00:00:00.000000+00:00"] * 5,
        )
        conn.execute("INSERT INTO replay_fts (rowid, document) VALUES (7, '보행 친화 도시 서울')")
    conn.close()
    migrate(db)
    async with migrated(db) as database:
        found = await ReplayStore(database).search(ReplayQuery(text="보행친화"))
        assert [r.id for r in found.items] == [7]


# The tables of the packages on PostgreSQL; SQLite's FTS5 tables (and their shadow
# tables) become `replay_search` there (see replay.migrations).
SQLITE_ONLY = ("replay_fts", "replay_grams")
POSTGRES_ONLY = {"replay_search"}


def sqlite_columns(db: Path) -> dict[str, list[str]]:
    conn = sqlite3.connect(db)
    try:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_schema WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' AND name != 'schema_migrations'"
            )
        ]
        return {
            t: [r[1] for r in conn.execute(f"PRAGMA table_info({t})")]
            for t in tables
            if not t.startswith(SQLITE_ONLY)
        }
    finally:
        conn.close()


async def test_postgres_migrations_apply_once_and_match_the_sqlite_schema(
    tmp_path: Path, postgres_schema: tuple[str, str]
) -> None:
    """On an empty PostgreSQL schema every ported package's migrations apply, a second run
    applies nothing, and the tables and their columns (in order) are SQLite's."""
    url, schema = postgres_schema
    ported = packages_for(url)
    assert {p.package for p in ported} >= {"web", "schedule", "replay"}
    applied = await migrate_database(url, ported)
    assert applied == [(p.package, n) for p in ported for n in range(1, len(p.postgresql) + 1)]
    assert await migrate_database(url, ported) == []
    async with migrated(url) as db:
        rows = await db.fetch(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = ? AND table_name != 'schema_migrations'"
            " ORDER BY table_name, ordinal_position",
            (schema,),
        )
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row[0], []).append(row[1])
    sqlite_file = tmp_path / "same.db"
    migrate_sqlite(sqlite_file, ported)
    expected = sqlite_columns(sqlite_file)
    assert set(found) - POSTGRES_ONLY == set(expected)
    for table, columns in expected.items():
        assert found[table] == columns, table
