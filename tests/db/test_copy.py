"""`db copy`: an SQLite installation into a migrated, empty PostgreSQL database, with
nothing lost (row counts and checksums per table) and sequences that continue."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from db import PackageMigrations, migrate
from db.copy import CopyError, compare, copy_database, copy_text, report, source_tables

SQLITE = (
    """
    CREATE TABLE zones (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
    CREATE TABLE authors (id INTEGER PRIMARY KEY AUTOINCREMENT,
        zone_id INTEGER REFERENCES zones(id), name TEXT NOT NULL, bio TEXT,
        active INTEGER NOT NULL DEFAULT 1, joined_at TEXT NOT NULL, avatar BLOB, score REAL);
    CREATE TABLE posts (id INTEGER PRIMARY KEY AUTOINCREMENT,
        author_id INTEGER NOT NULL REFERENCES authors(id),
        reply_to INTEGER REFERENCES posts(id), body TEXT NOT NULL, meta TEXT);
    CREATE TABLE tags (post_id INTEGER NOT NULL REFERENCES posts(id), tag TEXT NOT NULL,
        PRIMARY KEY (post_id, tag)) WITHOUT ROWID;
    CREATE VIRTUAL TABLE posts_fts USING fts5 (body, tokenize = 'trigram');
    """,
)
POSTGRES = (
    """
    CREATE TABLE zones (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE);
    CREATE TABLE authors (id BIGSERIAL PRIMARY KEY, zone_id BIGINT REFERENCES zones(id),
        name TEXT NOT NULL, bio TEXT, active BOOLEAN NOT NULL DEFAULT true,
        joined_at TIMESTAMPTZ NOT NULL, avatar BYTEA, score DOUBLE PRECISION);
    CREATE TABLE posts (id BIGSERIAL PRIMARY KEY,
        author_id BIGINT NOT NULL REFERENCES authors(id),
        reply_to BIGINT REFERENCES posts(id), body TEXT NOT NULL, meta JSONB);
    CREATE TABLE tags (post_id BIGINT NOT NULL REFERENCES posts(id), tag TEXT NOT NULL,
        PRIMARY KEY (post_id, tag));
    CREATE INDEX posts_body ON posts (body);
    """,
)
BOARD = PackageMigrations("board", SQLITE, POSTGRES)
BODIES = {
    1: "첫 댓글입니다 — 3번 글에 답합니다",
    2: "줄바꿈\n탭\t역슬래시 \\ 그리고 따옴표 '\"",
    3: "서울 광화문 🎆 신년 타종",
    4: "",  # empty is not NULL
}


async def _source(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'single.db'}"
    await migrate(url, [BOARD])
    conn = sqlite3.connect(tmp_path / "single.db")
    with conn:
        conn.executemany("INSERT INTO zones VALUES (?, ?)", [(1, "종로구"), (7, "중구")])
        conn.executemany(
            "INSERT INTO authors (id, zone_id, name, bio, active, joined_at, avatar, score)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (1, 1, "김서울", None, 1, "2026-12-01T10:00:00.123456+00:00", b"\x00\xff\x10", 0.1),
                (
                    2,
                    None,
                    "이한강",
                    "시민 기자\n두 줄",
                    0,
                    "2026-11-30T23:59:59.000001+00:00",
                    None,
                    None,
                ),
                (5, 7, "박남산", "", 1, "2026-01-01T00:00:00.000000+00:00", b"", -2.5),
            ],
        )
        conn.execute("DELETE FROM authors WHERE id = 5")  # AUTOINCREMENT keeps 5 used
        conn.executemany(
            "INSERT INTO posts (id, author_id, reply_to, body, meta) VALUES (?, ?, ?, ?, ?)",
            [
                (1, 1, 3, BODIES[1], '{"b": [1, 2], "a": "가"}'),
                (2, 2, None, BODIES[2], None),
                (3, 1, None, BODIES[3], "{}"),
                (4, 2, 1, BODIES[4], None),
            ],
        )
        conn.executemany(
            "INSERT INTO tags VALUES (?, ?)", [(1, "타종"), (1, "보신각"), (3, "불꽃")]
        )
        conn.execute("INSERT INTO posts_fts (body) VALUES ('검색 색인은 옮기지 않는다')")
    conn.close()
    return url


def test_copy_text_escapes_what_copy_would_misread() -> None:
    """NULL, backslash, tab, newline and bytes survive COPY's text format."""
    assert copy_text(None) == "\\N"
    assert copy_text("a\\b\tc\nd\re") == "a\\\\b\\tc\\nd\\re"
    assert copy_text(b"\x00\xff") == "\\\\x00ff"
    assert copy_text(0.1) == "0.1" and copy_text(42) == "42"


async def test_tables_come_in_foreign_key_order_without_search_indexes(tmp_path: Path) -> None:
    """Referenced tables come first; FTS tables and their shadows are left out."""
    await _source(tmp_path)
    conn = sqlite3.connect(tmp_path / "single.db")
    try:
        tables = source_tables(conn)
    finally:
        conn.close()
    names = [t.name for t in tables]
    assert names == ["zones", "authors", "posts", "tags"]
    assert tables[1].columns == (
        "id",
        "zone_id",
        "name",
        "bio",
        "active",
        "joined_at",
        "avatar",
        "score",
    )


async def test_copy_moves_every_row_and_sequences_continue(
    tmp_path: Path, postgres_url: str
) -> None:
    """Korean text, NULLs, bytes, booleans and timestamps arrive as they were; the
    comparison says identical; new ids continue past the highest id ever handed out."""
    source = await _source(tmp_path)
    await migrate(postgres_url, [BOARD])
    checks = await copy_database(source, postgres_url)
    assert [(c.table, c.source_rows, c.target_rows, c.ok) for c in checks] == [
        ("zones", 2, 2, True),
        ("authors", 2, 2, True),
        ("posts", 4, 4, True),
        ("tags", 3, 3, True),
    ]
    assert report(checks).endswith("4 table(s), 11 row(s): identical")
    conn = await asyncpg.connect(postgres_url)
    try:
        bodies = dict(await conn.fetch("SELECT id, body FROM posts"))
        assert bodies == BODIES
        first = await conn.fetchrow("SELECT * FROM authors WHERE id = 1")
        assert first["joined_at"] == datetime(2026, 12, 1, 10, 0, 0, 123456, tzinfo=UTC)
        assert (first["active"], first["avatar"], first["bio"]) == (True, b"\x00\xff\x10", None)
        second = await conn.fetchrow("SELECT active, avatar, score FROM authors WHERE id = 2")
        assert tuple(second) == (False, None, None)
        assert await conn.fetchval("SELECT meta->>'a' FROM posts WHERE id = 1") == "가"
        # AUTOINCREMENT had handed out 5 (deleted): never again
        assert (
            await conn.fetchval(
                "INSERT INTO authors (name, joined_at) VALUES ('새 사람', now()) RETURNING id"
            )
            == 6
        )
        assert (
            await conn.fetchval(
                "INSERT INTO posts (author_id, body) VALUES (1, '다음') RETURNING id"
            )
            == 5
        )
        assert await conn.fetchval("INSERT INTO zones (name) VALUES ('마포구') RETURNING id") == 8
    finally:
        await conn.close()


async def test_a_corrupted_row_is_reported(tmp_path: Path, postgres_url: str) -> None:
    """One changed character or one missing row makes that table's line a MISMATCH."""
    source = await _source(tmp_path)
    await migrate(postgres_url, [BOARD])
    await copy_database(source, postgres_url)
    conn = await asyncpg.connect(postgres_url)
    try:
        await conn.execute("UPDATE posts SET body = '서울 광화문 🎆 신년 타중' WHERE id = 3")
        await conn.execute("DELETE FROM tags WHERE tag = '불꽃'")
    finally:
        await conn.close()
    checks = {c.table: c for c in await compare(source, postgres_url)}
    assert checks["posts"].source_rows == checks["posts"].target_rows == 4
    assert not checks["posts"].ok and not checks["tags"].ok
    assert (checks["tags"].source_rows, checks["tags"].target_rows) == (3, 2)
    assert checks["zones"].ok and checks["authors"].ok
    assert "MISMATCH in posts, tags" in report(list(checks.values()))


async def test_a_target_with_rows_is_refused(tmp_path: Path, postgres_url: str) -> None:
    """Copying into a database that already holds rows is refused and changes nothing;
    so is a target that was never migrated."""
    source = await _source(tmp_path)
    with pytest.raises(CopyError, match=r"no table zones.*migrate"):
        await copy_database(source, postgres_url)
    await migrate(postgres_url, [BOARD])
    conn = await asyncpg.connect(postgres_url)
    try:
        await conn.execute("INSERT INTO zones (name) VALUES ('강남구')")
        with pytest.raises(CopyError, match="not empty"):
            await copy_database(source, postgres_url)
        assert await conn.fetchval("SELECT count(*) FROM zones") == 1
        assert await conn.fetchval("SELECT count(*) FROM posts") == 0
    finally:
        await conn.close()


def test_the_command_copies_and_prints_the_comparison(
    tmp_path: Path,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`live-seoul db copy SOURCE TARGET` migrates both, copies, prints one line per table
    and exits 0 when identical; a missing source is refused without creating it."""
    import asyncio

    from web import cli

    source = asyncio.run(_source(tmp_path))
    monkeypatch.setattr("web.cli.PACKAGES", (BOARD,))  # the synthetic schema
    assert cli.main(["db", "copy", source, postgres_url]) == 0
    out = capsys.readouterr().out
    assert "posts" in out and out.rstrip().endswith("4 table(s), 11 row(s): identical")
    assert cli.main(["db", "copy", source, postgres_url]) == 1
    assert "not empty" in capsys.readouterr().err
    missing = tmp_path / "missing.db"
    assert cli.main(["db", "copy", f"sqlite:///{missing}", postgres_url]) == 1
    assert "no such database" in capsys.readouterr().err and not missing.exists()
