"""The signed-in member's session check: one read per request and socket message.

    python3 -m bench.session_check              # 100k members, 5 runs of 5,000 checks
    python3 -m bench.session_check --members 1000 --checks 20000
    python3 -m bench.session_check --database-url postgresql://postgres@127.0.0.1/bench

`SessionRefreshMiddleware` asks `MemberStore.session_name` whether a member still exists
(and its current name) on every request and socket message of a member, so that deleting
an account ends every copy of its cookie at once: one awaited read through the process's
`Database` (its SQLite reader, or the PostgreSQL pool). The baseline, in the same run on
SQLite, opens a connection per check: the same query, and the same answer (checked).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from db import migrate, open_database
from web.database import PACKAGES
from web.identity.members import MemberStore


def per_check_connection(db: Path, member_id: int) -> str | None:
    conn = sqlite3.connect(db, timeout=0.5, isolation_level=None)
    try:
        row = conn.execute(
            "SELECT display_name FROM members WHERE id = ?"
            " AND NOT EXISTS (SELECT 1 FROM revoked_sessions WHERE sid = ?)",
            (member_id, ""),
        ).fetchone()
    finally:
        conn.close()
    return str(row[0]) if row else None


async def run(url: str, members: int, checks: int, runs: int) -> None:
    await migrate(url, [p for p in PACKAGES if p.postgresql or url.startswith("sqlite:")])
    db = await open_database(url)
    try:
        first = int(await db.fetchval("SELECT COALESCE(MAX(id), 0) FROM members")) + 1
        await db.executemany(
            "INSERT INTO members (display_name, created_at, consented_at) VALUES (?, '', '')",
            [(f"시민{i}",) for i in range(members)],
        )
        store = MemberStore(db)
        rng = random.Random(7)
        ids = [first + rng.randrange(members) for _ in range(checks)]
        path = Path(url.removeprefix("sqlite:///")) if db.engine == "sqlite" else None
        if path is not None:
            for i in ids[:100]:
                assert await store.session_name(i) == per_check_connection(path, i)
        print(f"{db.engine}: {members:,} members, {checks:,} checks per run, {runs} runs")

        async def kept(i: int) -> object:
            return await store.session_name(i)

        async def opened(i: int) -> object:
            assert path is not None
            return per_check_connection(path, i)

        cases = [("MemberStore.session_name (awaited)", kept)]
        if path is not None:
            cases.append(("baseline: connection per check", opened))
        for label, check in cases:
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                for i in ids:
                    await check(i)
                times.append((time.perf_counter() - start) / len(ids) * 1e6)
            print(
                f"{label:36} median {statistics.median(times):8.1f} µs/check"
                f"  (min {min(times):.1f}, max {max(times):.1f})"
            )
    finally:
        await db.close()


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--members", type=int, default=100_000)
    args.add_argument("--checks", type=int, default=5_000)
    args.add_argument("--runs", type=int, default=5)
    args.add_argument(
        "--database-url", default="", help="default: a new SQLite file in a temporary directory"
    )
    opts = args.parse_args()
    url = opts.database_url or (
        f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-session-')) / 'bench.db'}"
    )
    asyncio.run(run(url, opts.members, opts.checks, opts.runs))


if __name__ == "__main__":
    main()
