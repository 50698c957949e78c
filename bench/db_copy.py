"""Time `db copy`, `db backup` and `db restore` on PostgreSQL with a synthetic installation.

    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1/postgres python3 -m bench.db_copy \
        --posts 200000

Builds an SQLite file with the schema of tests/db/test_copy.py (zones, authors, posts with
Korean bodies, tags), creates a fresh UTF-8 database, then times the copy (COPY in one
transaction, sequences reset), the comparison (row counts and checksums on both sides),
`pg_dump --format=custom` and `pg_restore --clean` into a second fresh database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg

from db import migrate
from db.copy import compare, copy_database
from db.postgres_backup import backup_postgres, restore_postgres
from tests.db.test_copy import BOARD

WORDS = (
    "서울",
    "광화문",
    "보신각",
    "타종",
    "시민",
    "한강",
    "질문",
    "답변",
    "교통",
    "안전",
    "축제",
    "청계천",
    "버스",
    "지하철",
    "감사합니다",
    "좋아요",
    "🎆",
    "new",
    "year",
)


def build(path: Path, posts: int) -> None:
    conn = sqlite3.connect(path)
    rng = random.Random(13)
    authors = max(posts // 10, 1)
    with conn:
        conn.executemany(
            "INSERT INTO zones (id, name) VALUES (?, ?)", [(i, f"{i}구") for i in range(1, 26)]
        )
        conn.executemany(
            "INSERT INTO authors (id, zone_id, name, bio, active, joined_at, avatar, score)"
            " VALUES (?, ?, ?, ?, ?, ?, NULL, ?)",
            [
                (
                    i,
                    rng.randint(1, 25),
                    f"시민{i}",
                    None if i % 3 else "소개 글",
                    i % 2,
                    f"2026-11-{1 + i % 28:02d}T10:00:00.{i % 999999:06d}+00:00",
                    rng.random(),
                )
                for i in range(1, authors + 1)
            ],
        )
        conn.executemany(
            "INSERT INTO posts (id, author_id, reply_to, body, meta) VALUES (?, ?, ?, ?, ?)",
            [
                (
                    i,
                    rng.randint(1, authors),
                    None if i % 5 else max(i - 3, 1),
                    " ".join(rng.choices(WORDS, k=rng.randint(3, 15))),
                    None if i % 4 else json.dumps({"client": str(i)}),
                )
                for i in range(1, posts + 1)
            ],
        )
        conn.executemany(
            "INSERT INTO tags VALUES (?, ?)",
            [(i, rng.choice(WORDS)) for i in range(1, posts + 1, 3)],
        )
    conn.close()


async def fresh(admin: str) -> tuple[str, str]:
    name = f"live_seoul_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(
            f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' LC_COLLATE 'C.UTF-8'"
            " LC_CTYPE 'C.UTF-8' TEMPLATE template0"
        )
    finally:
        await conn.close()
    return name, admin.rsplit("/", 1)[0] + "/" + name


async def drop(admin: str, *names: str) -> None:
    conn = await asyncpg.connect(admin)
    try:
        for name in names:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=200_000)
    args = parser.parse_args()
    admin = os.environ["TEST_DATABASE_URL"]
    with tempfile.TemporaryDirectory() as work:
        source = f"sqlite:///{work}/single.db"
        await migrate(source, [BOARD])
        build(Path(work) / "single.db", args.posts)
        size = (Path(work) / "single.db").stat().st_size
        name, target = await fresh(admin)
        other_name, other = await fresh(admin)
        try:
            await migrate(target, [BOARD])
            started = time.perf_counter()
            checks = await copy_database(source, target)
            total = time.perf_counter() - started
            started = time.perf_counter()
            await compare(source, target)
            comparing = time.perf_counter() - started
            rows = sum(c.source_rows for c in checks)
            assert all(c.ok for c in checks)
            started = time.perf_counter()
            report = backup_postgres(target, Path(work) / "backup.dump")
            dumping = time.perf_counter() - started
            started = time.perf_counter()
            await restore_postgres(report.path, other)
            restoring = time.perf_counter() - started
            print(f"{rows:,} rows, SQLite file {size / 2**20:.1f} MiB")
            print(
                f"db copy (copy + compare): {total:.1f} s; compare alone {comparing:.1f} s;"
                f" copy alone ≈ {total - comparing:.1f} s"
                f" ≈ {rows / max(total - comparing, 1e-9):,.0f} rows/s"
            )
            print(
                f"pg_dump: {dumping:.1f} s, {report.size_bytes / 2**20:.1f} MiB;"
                f" pg_restore: {restoring:.1f} s"
            )
        finally:
            await drop(admin, name, other_name)


if __name__ == "__main__":
    asyncio.run(main())
