"""The storage layer on both engines: the same statements, the same answers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from db import (
    ConfigurationError,
    DatabaseURL,
    IntegrityError,
    PackageMigrations,
    UniqueViolation,
    migrate,
    open_database,
)
from db.errors import MigrationError
from db.migrate import MIGRATION_LOCK
from db.postgres import lock_id, placeholders
from db.sqlite import connect
from tests import postgres

NOTES = PackageMigrations(
    "notes",
    sqlite=(
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, slug TEXT NOT NULL UNIQUE,"
        " body TEXT NOT NULL CHECK (length(body) > 0))",
        "ALTER TABLE notes ADD COLUMN stars INTEGER NOT NULL DEFAULT 0",
    ),
    postgresql=(
        "CREATE TABLE notes (id BIGSERIAL PRIMARY KEY, slug TEXT NOT NULL UNIQUE,"
        " body TEXT NOT NULL CHECK (length(body) > 0))",
        "ALTER TABLE notes ADD COLUMN stars INTEGER NOT NULL DEFAULT 0",
    ),
)


def test_placeholders_leave_literals_identifiers_and_comments_alone() -> None:
    sql = "SELECT '?', \"a?\", x -- what?\n FROM t WHERE a = ? AND b = 'it''s ?' AND c = ?"
    assert placeholders(sql) == (
        "SELECT '?', \"a?\", x -- what?\n FROM t WHERE a = $1 AND b = 'it''s ?' AND c = $2"
    )


def test_lock_ids_are_stable_signed_64_bit() -> None:
    assert lock_id("comments:1") == lock_id("comments:1") != lock_id("comments:2")
    assert -(2**63) <= lock_id("x") < 2**63


def test_urls_name_their_engine() -> None:
    assert DatabaseURL("sqlite:///./a.db").engine == "sqlite"
    assert str(DatabaseURL("sqlite:////tmp/a.db").path) == "/tmp/a.db"
    assert DatabaseURL("postgres://u@h/d").dsn == "postgresql://u@h/d"
    with pytest.raises(ConfigurationError, match="must start with"):
        DatabaseURL("mysql://u@h/d")


async def test_statements_rowcounts_and_transactions(database_url: str) -> None:
    assert await migrate(database_url, [NOTES]) == [("notes", 1), ("notes", 2)]
    assert await migrate(database_url, [NOTES]) == []
    db = await open_database(database_url)
    try:
        new_id = await db.fetchval(
            "INSERT INTO notes (slug, body) VALUES (?, ?) RETURNING id", ("a", "하나")
        )
        assert isinstance(new_id, int)
        await db.executemany(
            "INSERT INTO notes (slug, body) VALUES (?, ?)", [("b", "둘"), ("c", "셋")]
        )
        assert await db.execute("UPDATE notes SET stars = stars + 1 WHERE slug <> ?", ("a",)) == 2
        row = await db.fetchone("SELECT slug, body, stars FROM notes WHERE id = ?", (new_id,))
        assert row is not None and (row["slug"], row[1], row["stars"]) == ("a", "하나", 0)
        with pytest.raises(UniqueViolation):
            await db.execute("INSERT INTO notes (slug, body) VALUES (?, ?)", ("a", "again"))
        with pytest.raises(IntegrityError) as refused:
            await db.execute("INSERT INTO notes (slug, body) VALUES (?, ?)", ("d", ""))
        assert not isinstance(refused.value, UniqueViolation)

        with pytest.raises(RuntimeError):
            async with db.transaction() as tx:
                await tx.execute("DELETE FROM notes")
                assert await tx.fetchval("SELECT COUNT(*) FROM notes") == 0
                raise RuntimeError("roll back")
        assert await db.fetchval("SELECT COUNT(*) FROM notes") == 3
        async with db.transaction(lock="notes") as tx:
            await tx.execute("DELETE FROM notes WHERE slug = ?", ("c",))
        assert [r["slug"] for r in await db.fetch("SELECT slug FROM notes ORDER BY id")] == [
            "a",
            "b",
        ]
        assert await db.fetchval("SELECT COUNT(*) FILTER (WHERE stars > 0) FROM notes") == 1
    finally:
        await db.close()


async def test_transactions_on_one_key_take_turns(database_url: str) -> None:
    """With a lock key, the second transaction starts only after the first commits, on
    every engine (PostgreSQL: an advisory lock, across connections and hosts)."""
    await migrate(database_url, [NOTES])
    first, second = await open_database(database_url), await open_database(database_url)
    order: list[str] = []
    inside = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with first.transaction(lock="notes:1") as tx:
            await tx.execute("INSERT INTO notes (slug, body) VALUES ('x', 'x')")
            inside.set()
            await release.wait()
            order.append("first commits")

    async def waiter() -> None:
        await inside.wait()
        async with second.transaction(lock="notes:1") as tx:
            order.append("second starts")
            seen = await tx.fetchval("SELECT COUNT(*) FROM notes")
            order.append(f"second sees {seen}")

    try:
        task = asyncio.gather(holder(), waiter())
        await inside.wait()
        # the waiter is blocked on the lock: let the loop run it as far as it can go
        for _ in range(50):
            await asyncio.sleep(0)
        assert order == []
        release.set()
        await task
        assert order == ["first commits", "second starts", "second sees 1"]
    finally:
        await first.close()
        await second.close()


async def test_one_writing_statement_commits_alone_and_takes_its_turn(database_url: str) -> None:
    """`write_returning`: the statement's rows, committed on its own (another connection
    sees them), errors translated; with a lock key it waits for the transaction holding
    it, so ids still commit in order (what comment inserts rely on)."""
    await migrate(database_url, [NOTES])
    first, second = await open_database(database_url), await open_database(database_url)
    insert = "INSERT INTO notes (slug, body) VALUES (?, ?) ON CONFLICT (slug) DO NOTHING"
    inside, release = asyncio.Event(), asyncio.Event()

    async def holder() -> int:
        async with second.transaction(lock="notes:1") as tx:
            held = int(await tx.fetchval(insert + " RETURNING id", ("held", "먼저")))
            inside.set()
            await release.wait()
        return held

    try:
        rows = await first.write_returning(insert + " RETURNING id, slug", ("w", "쓰기"), "notes:1")
        assert [r["slug"] for r in rows] == ["w"]
        assert await second.fetchval("SELECT body FROM notes WHERE id = ?", (rows[0]["id"],)) == (
            "쓰기"
        )
        assert await first.write_returning(insert + " RETURNING id", ("w", "again")) == []
        with pytest.raises(IntegrityError):
            await first.write_returning(insert + " RETURNING id", ("e", ""))

        holding = asyncio.create_task(holder())
        await inside.wait()
        writing = asyncio.create_task(
            first.write_returning(insert + " RETURNING id", ("later", "나중"), "notes:1")
        )
        for _ in range(50):
            await asyncio.sleep(0)
        assert not writing.done()
        release.set()
        held = await holding
        assert (await writing)[0]["id"] > held
        assert await first.fetchval("SELECT COUNT(*) FROM notes") == 3
    finally:
        await first.close()
        await second.close()


async def test_several_hosts_starting_at_once_apply_each_migration_once(database_url: str) -> None:
    results = await asyncio.gather(*(migrate(database_url, [NOTES]) for _ in range(4)))
    applied = [pair for result in results for pair in result]
    assert sorted(applied) == [("notes", 1), ("notes", 2)]


async def test_fresh_sqlite_files_opened_by_several_processes_at_once_all_switch_to_wal(
    tmp_path: Path,
) -> None:
    """Switching a new file to WAL answers "database is locked" at once (no busy handler)
    when another connection is switching too; it happened in 1 of ~12 fresh files."""
    for attempt in range(40):
        url = f"sqlite:///{tmp_path}/fresh-{attempt}.db"
        results = await asyncio.gather(*(migrate(url, [NOTES]) for _ in range(4)))
        assert sorted(pair for result in results for pair in result) == [
            ("notes", 1),
            ("notes", 2),
        ]
        connections = await asyncio.gather(
            *(connect(tmp_path / f"fresh-open-{attempt}.db") for _ in range(4))
        )
        modes = [
            await (await conn.execute("PRAGMA journal_mode")).fetchone() for conn in connections
        ]
        for conn in connections:
            await conn.close()
        assert [tuple(mode) for mode in modes if mode] == [("wal",)] * 4


async def test_postgres_without_utf8_ctype_is_refused_clearly() -> None:
    if not postgres.ADMIN_URL:
        pytest.skip(postgres.NO_POSTGRES)
    name = "live_seoul_c_ctype_" + str(abs(lock_id(postgres.ADMIN_URL)) % 10**8)
    admin = await asyncpg.connect(postgres.ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.execute(
            f"CREATE DATABASE \"{name}\" ENCODING 'SQL_ASCII' LC_CTYPE 'C'"
            " LC_COLLATE 'C' TEMPLATE template0"
        )
        url = postgres.ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        with pytest.raises(ConfigurationError, match="UTF-8 LC_CTYPE"):
            await migrate(url, [NOTES])
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


# pg_locks shows a bigint advisory key as its high and low 32 bits (classid, objid).
MIGRATION_LOCKS = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1"
    f" AND classid = {(MIGRATION_LOCK >> 32) & 0xFFFFFFFF}"
    f" AND objid = {MIGRATION_LOCK & 0xFFFFFFFF}"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


async def test_the_postgres_migration_lock_lives_only_as_long_as_a_transaction(
    postgres_url: str,
) -> None:
    """The migration lock is transaction-scoped (PgBouncer in transaction mode may hand
    the next statement another server connection): a migration waits while another
    transaction holds it, goes on once that commits, and leaves no lock behind."""
    holder = await asyncpg.connect(postgres_url)
    try:
        held = holder.transaction()
        await held.start()
        await holder.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        running = asyncio.create_task(migrate(postgres_url, [NOTES]))
        async with asyncio.timeout(30):
            while not await holder.fetchval(MIGRATION_LOCKS + " AND NOT granted"):
                await asyncio.sleep(0.05)
        assert not running.done()
        await held.commit()
        async with asyncio.timeout(30):
            assert await running == [("notes", 1), ("notes", 2)]
        assert not await holder.fetchval(MIGRATION_LOCKS)
    finally:
        await holder.close()


async def test_a_postgres_migration_that_cannot_run_in_a_transaction_is_refused(
    postgres_url: str,
) -> None:
    concurrent = PackageMigrations(
        "notes",
        sqlite=NOTES.sqlite,
        postgresql=(*NOTES.postgresql, "CREATE INDEX CONCURRENTLY notes_stars ON notes (stars)"),
    )
    with pytest.raises(MigrationError, match=r"notes 0003 cannot run inside a transaction"):
        await migrate(postgres_url, [concurrent])
    conn = await asyncpg.connect(postgres_url)
    try:
        rows = await conn.fetch("SELECT number FROM schema_migrations ORDER BY number")
        assert [r["number"] for r in rows] == [1, 2]
        assert await conn.fetchval("SELECT to_regclass('notes_stars')") is None
    finally:
        await conn.close()
