"""`db backup` / `db restore` on PostgreSQL: pg_dump's custom format, a real round trip."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from db import ConfigurationError, migrate, open_database
from db.postgres_backup import (
    PostgresBackupError,
    PostgresInUse,
    backup_postgres,
    restore_postgres,
)
from tests import postgres
from tests.db.test_database import NOTES


async def _create(name: str) -> str:
    admin = await asyncpg.connect(postgres.ADMIN_URL)
    try:
        await admin.execute(
            f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' LC_COLLATE"
            " 'C.UTF-8' LC_CTYPE 'C.UTF-8' TEMPLATE template0"
        )
    finally:
        await admin.close()
    return postgres.ADMIN_URL.rsplit("/", 1)[0] + "/" + name


async def _drop(*names: str) -> None:
    admin = await asyncpg.connect(postgres.ADMIN_URL)
    try:
        for name in names:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def databases() -> AsyncIterator[tuple[str, str]]:
    """Two fresh databases (pg_dump takes a whole database, not a test's schema)."""
    if not postgres.ADMIN_URL:
        pytest.skip(postgres.NO_POSTGRES)
    names = [f"live_seoul_dump_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    urls = (await _create(names[0]), await _create(names[1]))
    try:
        yield urls
    finally:
        await _drop(*names)


async def _notes(url: str) -> list[tuple[int, str, str]]:
    conn = await asyncpg.connect(url)
    try:
        return [tuple(r) for r in await conn.fetch("SELECT id, slug, body FROM notes ORDER BY id")]
    finally:
        await conn.close()


async def test_backup_and_restore_round_trip(databases: tuple[str, str], tmp_path: Path) -> None:
    """A backup taken while the database is open restores in place (later changes gone)
    and into a new empty database; ids continue after the restored ones."""
    url, other = databases
    await migrate(url, [NOTES])
    database = await open_database(url)
    try:
        await database.executemany(
            "INSERT INTO notes (slug, body) VALUES (?, ?)",
            [("a", "보신각 타종"), ("b", "줄\n바꿈 \\ 탭\t")],
        )
        report = backup_postgres(url, tmp_path / "backup.dump")  # served while it runs
        await database.execute("INSERT INTO notes (slug, body) VALUES ('c', '나중')")
        await database.execute("DELETE FROM notes WHERE slug = 'a'")
    finally:
        await database.close()
    assert report.path == tmp_path / "backup.dump" and report.tables == 2
    assert report.size_bytes > 0 and not (tmp_path / "backup.dump.partial").exists()
    expected = [(1, "a", "보신각 타종"), (2, "b", "줄\n바꿈 \\ 탭\t")]

    assert await restore_postgres(report.path, url) == 2
    assert await _notes(url) == expected
    assert await restore_postgres(report.path, other) == 2
    assert await _notes(other) == expected
    database = await open_database(other)
    try:
        assert (
            await database.fetchval(
                "INSERT INTO notes (slug, body) VALUES ('d', '다음') RETURNING id"
            )
            == 3
        )
        assert await migrate(other, [NOTES]) == []  # schema_migrations came along
    finally:
        await database.close()


async def test_restore_refuses_a_served_database_and_a_damaged_archive(
    databases: tuple[str, str], tmp_path: Path
) -> None:
    """While a client is connected restore changes nothing; a truncated archive is
    refused before anything happens."""
    url, _ = databases
    await migrate(url, [NOTES])
    report = backup_postgres(url, tmp_path / "backup.dump")
    database = await open_database(url)
    try:
        await database.execute("INSERT INTO notes (slug, body) VALUES ('kept', '그대로')")
        with pytest.raises(PostgresInUse, match="stop the service on every host"):
            await restore_postgres(report.path, url)
    finally:
        await database.close()
    damaged = tmp_path / "damaged.dump"
    damaged.write_bytes(report.path.read_bytes()[:200])
    with pytest.raises(PostgresBackupError, match="pg_restore failed"):
        await restore_postgres(damaged, url)
    assert [row[1] for row in await _notes(url)] == ["kept"]


async def test_missing_tools_are_named(
    databases: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without pg_dump on PATH the error says what to install."""
    url, _ = databases
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ConfigurationError, match=r"pg_dump is not installed.*postgresql-client"):
        backup_postgres(url, tmp_path / "backup.dump")
