"""Comment insert throughput: SQLite vs PostgreSQL, one broadcast vs 20, in one run.

    python3 -m bench.inserts                             # both engines (TEST_DATABASE_URL)
    python3 -m bench.inserts --postgres postgresql://postgres@127.0.0.1/bench --count 4000
    python3 -m bench.inserts --hosts 2                   # two Databases, as two hosts

Every insert is `CommentStore.insert`, the path a post takes: one transaction under the
broadcast's comment lock (`livechat.store.comment_lock`; on PostgreSQL an advisory lock,
so inserts of one broadcast take turns across hosts, on SQLite the file's one writer). A
third of the posts are questions, whose row commits with the comment as in production.
`--posters` tasks post concurrently, spread over `--hosts` `Database`s (each a pool on
PostgreSQL, a serialised writer on SQLite) and over one broadcast or 20. Prints inserts per
second and per-insert latency p50/p99 for each engine and scenario, then a comparison.

PostgreSQL: `--postgres URL` names a database the run may fill (tables are created in a
fresh schema and dropped after); without it, `TEST_DATABASE_URL` is used the way the
tests use it (a throw-away database). Without either, SQLite only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

from db import Database, migrate, open_database
from livechat import CommentStore, Identity, NewComment, QuestionStore
from livechat.comment import CommentFlag
from web.database import PACKAGES

LIVECHAT = tuple(p for p in PACKAGES if p.package.split(".")[0] == "livechat")


@dataclass(frozen=True)
class Result:
    engine: str
    scenario: str
    inserts: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.inserts / self.seconds


async def _poster(
    comments: CommentStore, broadcast_id: int, poster: int, count: int, latencies: list[float]
) -> None:
    author = Identity(key=f"g:bench-{poster}", name=f"시민{poster}")
    for n in range(count):
        started = time.perf_counter()
        _, created = await comments.insert(
            NewComment(
                broadcast_id,
                author,
                f"p{n}",
                f"벤치마크 댓글 {poster}-{n}",
                flags="question" if n % 3 == 0 else "",
            )
        )
        latencies.append(time.perf_counter() - started)
        assert created


async def run_scenario(
    url: str, engine: str, broadcasts: int, posters: int, count: int, hosts: int
) -> Result:
    async with contextlib.AsyncExitStack() as stack:
        databases: list[Database] = []
        for _ in range(hosts):
            database = await open_database(url, pool_size=max(2, posters // hosts + 1))
            stack.push_async_callback(database.close)
            databases.append(database)
        stores = []
        for database in databases:
            comments = CommentStore(database)
            questions = QuestionStore(database, comments)
            comments.add_flag_hook(CommentFlag.QUESTION, questions.record_in)
            stores.append(comments)
        per_poster = count // posters
        latencies: list[float] = []
        # Distinct broadcast ids per scenario, so earlier rows do not matter.
        base = int(time.time() * 1000) % 1_000_000 * 100
        started = time.perf_counter()
        await asyncio.gather(
            *[
                _poster(stores[p % hosts], base + p % broadcasts, p, per_poster, latencies)
                for p in range(posters)
            ]
        )
        seconds = time.perf_counter() - started
    latencies.sort()
    return Result(
        engine,
        f"{broadcasts} broadcast{'s' if broadcasts > 1 else ''}",
        len(latencies),
        seconds,
        statistics.median(latencies) * 1000,
        latencies[int(len(latencies) * 0.99) - 1] * 1000,
    )


@contextlib.asynccontextmanager
async def postgres_database(url: str | None) -> AsyncIterator[str | None]:
    """A URL whose search_path is a fresh schema (dropped at the end), or None."""
    created_database = None
    if url is None:
        admin = os.environ.get("TEST_DATABASE_URL", "")
        if not admin:
            yield None
            return
        created_database = f"live_seoul_bench_{uuid.uuid4().hex[:8]}"
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(
                f"CREATE DATABASE \"{created_database}\" ENCODING 'UTF8'"
                " LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' TEMPLATE template0"
            )
        finally:
            await conn.close()
        parts = urlsplit(admin)
        url = urlunsplit((parts.scheme, parts.netloc, "/" + created_database, "", ""))
    schema = "bench_" + uuid.uuid4().hex[:8]
    parts = urlsplit(url)
    conn = await asyncpg.connect(urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")))
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
        yield urlunsplit(
            (parts.scheme, parts.netloc, parts.path, "search_path=" + quote(f"{schema},public"), "")
        )
    finally:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await conn.close()
        if created_database is not None:
            admin_conn = await asyncpg.connect(os.environ["TEST_DATABASE_URL"])
            try:
                await admin_conn.execute(
                    f'DROP DATABASE IF EXISTS "{created_database}" WITH (FORCE)'
                )
            finally:
                await admin_conn.close()


async def main(args: argparse.Namespace) -> list[Result]:
    results: list[Result] = []
    async with postgres_database(args.postgres) as pg_url:
        with tempfile.TemporaryDirectory() as tmp:
            engines = [("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}")]
            if pg_url is not None:
                engines.append(("postgresql", pg_url))
            for engine, url in engines:
                await migrate(url, LIVECHAT)
                for broadcasts in (1, 20):
                    result = await run_scenario(
                        url, engine, broadcasts, args.posters, args.count, args.hosts
                    )
                    results.append(result)
                    print(
                        f"{engine:<10} {result.scenario:<13} {result.inserts:>6} inserts"
                        f" in {result.seconds:6.2f} s: {result.rate:8.0f}/s,"
                        f" p50 {result.p50_ms:6.2f} ms, p99 {result.p99_ms:6.2f} ms",
                        flush=True,
                    )
    print(f"\n{args.posters} posters over {args.hosts} Database(s), inserts per second:")
    print(f"{'':<14}{'sqlite':>10}{'postgresql':>12}")
    for scenario in ("1 broadcast", "20 broadcasts"):
        row = {r.engine: r.rate for r in results if r.scenario == scenario}
        pg = f"{row['postgresql']:>12.0f}" if "postgresql" in row else f"{'-':>12}"
        print(f"{scenario:<14}{row['sqlite']:>10.0f}{pg}")
    return results


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres",
        default=None,
        help="a PostgreSQL URL to fill (default: a throw-away database on"
        " TEST_DATABASE_URL's server)",
    )
    parser.add_argument("--count", type=int, default=4000, help="inserts per scenario")
    parser.add_argument("--posters", type=int, default=20, help="concurrent posting tasks")
    parser.add_argument(
        "--hosts", type=int, default=1, help="Databases the posters are spread over (as hosts)"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
