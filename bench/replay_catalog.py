"""Replay catalog benchmark: 100,000 replays and 5 million comments, on SQLite or PostgreSQL.

    python3 -m bench.replay_catalog                               # full size (~2–3 minutes)
    python3 -m bench.replay_catalog --replays 10000 --comments 500000   # quicker
    python3 -m bench.replay_catalog --db /tmp/catalog.db --reuse  # measure an existing file
    python3 -m bench.replay_catalog --database-url postgresql://postgres@127.0.0.1/bench
                                  # PostgreSQL: an empty UTF-8 database (or one to --reuse)

It generates the catalog through the real schema (every package's migrations), with
`executemany` in large transactions: broadcasts, replays with Korean, English and
Japanese titles and descriptions, staff, both search indexes, and comments skewed the way
a channel's are (1% of replays hold half of them; one in ten was written on the replay).
Then it measures through the app's own stores (aiosqlite, as the endpoints call them):

* catalog search p50/p95 over a mix of 1-, 2- and 3+-character Korean terms, English and
  Japanese words, with and without filters, both sorts — against a naive
  `title LIKE '%q%' OR description LIKE '%q%'` scan in the same run;
* the 60-second comment window of busy replays (`CommentStore.window`) — against the same
  query forced to scan the table (`NOT INDEXED`).

On PostgreSQL (`--database-url`) the catalog goes in through COPY and is searched through
the same `ReplayStore` (pg_trgm and the bigram tsvector, see `replay.search`). Until the
comment store runs on PostgreSQL, the window is measured with `CommentStore.window`'s two
statements on a `comments` table with the SQLite schema's columns and indexes, created here
when the database has none; the scan baseline is the same statements with index scans off.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from db import Database, open_database
from db import migrate as migrate_database
from livechat import CommentStore
from replay import ReplayQuery, ReplayStore, window
from replay.search import document, grams
from replay.timeline import utc_iso
from web.database import PACKAGES, migrate


def _words(text: str) -> list[str]:
    return text.split()


KO = _words(
    "교통정책 청책토론회 주택공급 복지 청년일자리 미세먼지 기후위기 지하철 버스노선 자전거도로"
    " 한강공원 문화행사 도시재생 안전점검 재난대응 시민참여 예산설명회 시장과의대화 구청장"
    " 소상공인 전통시장 어린이집 돌봄 노인복지 장애인 탄소중립 녹지 공원 보행자 주차"
    " 공공와이파이 디지털 스마트시티 관광 축제 도서관 평생학습 일자리박람회 창업 임대주택"
    " 재개발 재건축 상수도 하수도 쓰레기 재활용 에너지 태양광 따릉이 심야버스 광화문"
)
EN = _words(
    "Seoul traffic forum housing climate youth jobs festival library startup smart"
    " city river park safety briefing policy citizens"
)
JA = _words("ソウル 交通 住宅 観光 市民 説明会 東京都 交流会 文化 祭り")
SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
GIVEN = _words(
    "민준 서연 지훈 수빈 현우 지민 도윤 하은 준서 예린 성민 유진 태현 은지 동현"
    " 다은 상우 혜진 재원 소연"
)
CATEGORIES = (
    "교통",
    "주택",
    "복지",
    "환경",
    "경제",
    "문화",
    "안전",
    "시정",
    "교육",
    "청년",
    "관광",
    "도시계획",
)
T0 = datetime(2020, 1, 1, tzinfo=UTC)
SEARCHES: list[tuple[str, dict[str, Any]]] = [
    # (q, extra filters); a mix of term lengths and languages, as people type them
    ("교통정책", {}),
    ("청책토론", {}),
    ("교통", {}),
    ("주택", {}),
    ("책", {}),
    ("미세먼지 대응", {}),
    ("버스", {"category": "교통"}),
    ("traffic", {}),
    ("Seoul forum", {}),
    ("東京都", {}),
    ("交通", {}),
    ("따릉", {"sort": "most_viewed"}),
    ("", {"category": "문화"}),
    ("광화문", {"staff": "김민준"}),
    ("한강", {"from_days": 900}),
    ("임대주택 공급", {"sort": "most_viewed"}),
    ("스마트", {}),
    ("시장과의대화", {}),
    ("재", {}),
    ('NEAR("교통"', {}),
    # spacing dropped across two words, and part of a staff name
    ("지하철버스노선", {}),
    ("", {"staff": "민준"}),
]


def sentence(rng: random.Random, low: int, high: int) -> str:
    words = []
    for _ in range(rng.randint(low, high)):
        roll = rng.random()
        pool = KO if roll < 0.8 else EN if roll < 0.93 else JA
        words.append(rng.choice(pool))
    return " ".join(words)


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def chunks(items: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def generate(path: Path, replays: int, comments: int, seed: int = 7) -> None:
    """Fill a fresh file at `path` with `replays` replays and `comments` comments."""
    path.unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    migrate(path)
    rng = random.Random(seed)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -200000")
    started = time.perf_counter()
    airs: list[tuple[datetime, int]] = []
    db.execute("BEGIN")
    for batch in catalog_rows(replays, rng):
        airs.extend(batch["airs"])
        db.executemany(
            "INSERT INTO broadcasts (id, title, description, category, starts_at, ends_at,"
            " status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            batch["broadcasts"],
        )
        db.executemany(
            "INSERT INTO replays (id, broadcast_id, title, description, category, staff,"
            " recording_url, duration_seconds, aired_at, recording_started_at, published_at,"
            " view_count, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            batch["replays"],
        )
        db.executemany(
            "INSERT OR IGNORE INTO replay_staff (replay_id, name) VALUES (?, ?)", batch["staff"]
        )
        db.executemany("INSERT INTO replay_fts (rowid, document) VALUES (?, ?)", batch["fts"])
        db.executemany("INSERT INTO replay_grams (rowid, grams) VALUES (?, ?)", batch["grams"])
    db.execute("COMMIT")
    catalog_done = time.perf_counter()
    print(f"generated {replays:,} replays in {catalog_done - started:.1f} s", flush=True)

    db.execute("BEGIN")
    for rows in chunks(comment_rows(airs, comments, rng), 200_000):
        db.executemany(
            "INSERT INTO comments (broadcast_id, author_key, author_name, role, department,"
            " client_id, text, created_at, video_offset, status, flags)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    db.execute("COMMIT")
    db.execute("ANALYZE")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    print(
        f"generated {comments:,} comments in {time.perf_counter() - catalog_done:.1f} s", flush=True
    )


# The comments table as livechat's SQLite migrations leave it (the columns the window reads,
# its indexes), for a PostgreSQL database whose livechat migrations are not there yet.
PG_COMMENTS = """
CREATE TABLE IF NOT EXISTS comments (
    id BIGSERIAL PRIMARY KEY,
    broadcast_id BIGINT NOT NULL,
    author_key TEXT COLLATE "C" NOT NULL,
    author_name TEXT COLLATE "C" NOT NULL,
    role TEXT COLLATE "C" NOT NULL,
    department TEXT COLLATE "C" NOT NULL DEFAULT '',
    client_id TEXT COLLATE "C" NOT NULL,
    text TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    video_offset DOUBLE PRECISION,
    status TEXT COLLATE "C" NOT NULL DEFAULT 'visible',
    flags TEXT COLLATE "C" NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS comments_by_broadcast ON comments (broadcast_id, id);
CREATE INDEX IF NOT EXISTS comments_by_time ON comments (broadcast_id, created_at);
CREATE INDEX IF NOT EXISTS comments_by_offset ON comments (broadcast_id, video_offset)
    WHERE video_offset IS NOT NULL;
"""
WINDOW_LIVE = (
    "SELECT id, broadcast_id, author_name, role, department, text, created_at, video_offset,"
    " status, flags FROM comments WHERE broadcast_id = ? AND created_at >= ?"
    " AND created_at < ? AND video_offset IS NULL AND status = 'visible'"
    " ORDER BY created_at, id LIMIT ?"
)
WINDOW_LATER = (
    "SELECT id, broadcast_id, author_name, role, department, text, created_at, video_offset,"
    " status, flags FROM comments WHERE broadcast_id = ? AND video_offset >= ?"
    " AND video_offset < ? AND status = 'visible' ORDER BY video_offset, id LIMIT ?"
)


def catalog_rows(replays: int, rng: random.Random) -> Iterator[dict[str, list[tuple[Any, ...]]]]:
    """The generated catalog in batches of 20,000 replays (the same rows on both engines)."""
    spacing = (5 * 365 * 86400) // max(1, replays)  # five years of broadcasts
    for first in range(0, replays, 20_000):
        batch: dict[str, list[tuple[Any, ...]]] = {
            "broadcasts": [],
            "replays": [],
            "staff": [],
            "fts": [],
            "grams": [],
            "airs": [],
        }
        for rid in range(first + 1, min(replays, first + 20_000) + 1):
            aired = T0 + timedelta(seconds=rid * spacing)
            duration = rng.choice((1800, 3600, 3600, 5400, 7200))
            batch["airs"].append((aired, duration))
            title = sentence(rng, 2, 4)
            description = sentence(rng, 8, 16)
            category = rng.choice(CATEGORIES)
            staff = sorted({person(rng) for _ in range(rng.randint(1, 3))})
            when, ends = utc_iso(aired), utc_iso(aired + timedelta(seconds=duration))
            batch["broadcasts"].append(
                (rid, title, description, category, when, ends, "ended", when, when)
            )
            batch["replays"].append(
                (
                    rid,
                    rid,
                    title,
                    description,
                    category,
                    json.dumps(staff, ensure_ascii=False),
                    f"/rec/{rid}.m3u8",
                    duration,
                    when,
                    when,
                    ends,
                    int(rng.paretovariate(1.2) * 10),
                    ends,
                    ends,
                )
            )
            batch["staff"].extend((rid, name) for name in staff)
            text = document(title, description, category, staff, ())
            batch["fts"].append((rid, text))
            batch["grams"].append((rid, grams(text)))
        yield batch


def comment_rows(
    airs: list[tuple[datetime, int]], comments: int, rng: random.Random
) -> Iterator[tuple[Any, ...]]:
    """Half the comments go to the busiest 1% of replays, the rest spread over all."""
    replays = len(airs)
    busy = max(1, replays // 100)
    per_busy = comments // 2 // busy
    made = 0
    for rid in range(1, replays + 1):
        count = per_busy if rid <= busy else (comments - per_busy * busy) // max(1, replays - busy)
        if rid == replays:
            count = comments - made
        aired, duration = airs[rid - 1]
        offsets = sorted(rng.random() * duration for _ in range(count))
        for n, offset in enumerate(offsets):
            later = n % 10 == 9
            created = aired + timedelta(seconds=offset)
            yield (
                rid,
                f"g:{n % 997}",
                "시민",
                "viewer",
                "",
                f"c{n}",
                rng.choice(KO) + " " + rng.choice(KO),
                utc_iso(created + timedelta(days=3) if later else created),
                round(offset, 3) if later else None,
                "removed" if n % 50 == 7 else "visible",
                "",
            )
        made += count


async def generate_postgres(url: str, replays: int, comments: int, seed: int = 7) -> None:
    """Fill an empty PostgreSQL database through the real migrations and COPY."""
    await migrate_database(url, [p for p in PACKAGES if p.postgresql])
    conn = await asyncpg.connect("postgresql://" + url.split("://", 1)[1])
    try:
        if await conn.fetchval("SELECT count(*) FROM replays"):
            raise SystemExit(f"{url} already holds replays: use --reuse, or an empty database")
        await conn.execute(PG_COMMENTS)
        rng = random.Random(seed)
        started = time.perf_counter()
        airs: list[tuple[datetime, int]] = []
        await conn.execute(
            "CREATE TEMP TABLE search_in (replay_id BIGINT, document TEXT, grams TEXT)"
        )
        for batch in catalog_rows(replays, rng):
            airs.extend(batch["airs"])
            await conn.copy_records_to_table(
                "broadcasts",
                records=batch["broadcasts"],
                columns=[
                    "id",
                    "title",
                    "description",
                    "category",
                    "starts_at",
                    "ends_at",
                    "status",
                    "created_at",
                    "updated_at",
                ],
            )
            await conn.copy_records_to_table(
                "replays",
                records=batch["replays"],
                columns=[
                    "id",
                    "broadcast_id",
                    "title",
                    "description",
                    "category",
                    "staff",
                    "recording_url",
                    "duration_seconds",
                    "aired_at",
                    "recording_started_at",
                    "published_at",
                    "view_count",
                    "created_at",
                    "updated_at",
                ],
            )
            await conn.copy_records_to_table(
                "replay_staff",
                records=list(dict.fromkeys(batch["staff"])),
                columns=["replay_id", "name"],
            )
            await conn.copy_records_to_table(
                "search_in",
                records=[
                    (f[0], f[1], g[1]) for f, g in zip(batch["fts"], batch["grams"], strict=True)
                ],
            )
        await conn.execute(
            "INSERT INTO replay_search (replay_id, document, grams) SELECT replay_id, document,"
            " array_to_tsvector(array_remove(string_to_array(grams, ' '), '')) FROM search_in"
        )
        for table in ("broadcasts", "replays"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT max(id) FROM {table}))"
            )
        catalog_done = time.perf_counter()
        print(f"generated {replays:,} replays in {catalog_done - started:.1f} s", flush=True)
        for batch_rows in chunks(comment_rows(airs, comments, rng), 200_000):
            await conn.copy_records_to_table(
                "comments",
                records=batch_rows,
                columns=[
                    "broadcast_id",
                    "author_key",
                    "author_name",
                    "role",
                    "department",
                    "client_id",
                    "text",
                    "created_at",
                    "video_offset",
                    "status",
                    "flags",
                ],
            )
        await conn.execute("VACUUM ANALYZE")
        print(
            f"generated {comments:,} comments in {time.perf_counter() - catalog_done:.1f} s",
            flush=True,
        )
    finally:
        await conn.close()


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return p50 * 1000, p95 * 1000


async def timed(runs: list[Callable[[], Awaitable[Any]]]) -> list[float]:
    out = []
    for run in runs:
        started = time.perf_counter()
        await run()
        out.append(time.perf_counter() - started)
    return out


def query_for(q: str, extra: dict[str, Any], end: datetime) -> ReplayQuery:
    days = extra.get("from_days")
    return ReplayQuery(
        text=q,
        category=extra.get("category"),
        staff=extra.get("staff"),
        aired_from=end - timedelta(days=days) if days else None,
        sort=extra.get("sort", "newest"),
        limit=20,
    )


async def measure(url: str, rounds: int, windows: int, baseline_windows: int) -> dict[str, Any]:
    db = await open_database(url)
    try:
        replays = ReplayStore(db)
        comments = CommentStore(db)
        row = await db.fetchone("SELECT COUNT(*), MAX(aired_at) FROM replays")
        assert row is not None
        count, last = int(row[0]), datetime.fromisoformat(row[1])
        queries = [query_for(q, extra, last) for q, extra in SEARCHES]
        for query in queries:  # warm the page cache, as a running server has it
            await replays.search(query)
        search = await timed(
            [
                lambda q=q: replays.search(q)  # type: ignore[misc]
                for _ in range(rounds)
                for q in queries
            ]
        )

        async def naive(q: str) -> None:
            like = f"%{q}%"
            await db.fetch(
                "SELECT id, title FROM replays WHERE status = 'published' AND hidden = 0"
                " AND (title LIKE ? OR description LIKE ?) ORDER BY aired_at DESC LIMIT 21",
                (like, like),
            )

        naive_runs = await timed(
            [
                lambda q=q: naive(q)  # type: ignore[misc]
                for q, _ in SEARCHES
                if q
            ]
        )

        busy = max(1, count // 100)
        rng = random.Random(3)
        picks = []
        for _ in range(windows):
            replay = await replays.get(rng.randint(1, busy))
            assert replay is not None
            start = float(rng.randint(0, max(0, replay.duration_seconds - 60)))
            picks.append((replay, window(replay, start, start + 60)))
        sizes: list[int] = []

        async def fetch(replay: Any, w: Any) -> None:
            if comments is not None:
                found = len(
                    await comments.window(
                        replay.broadcast_id, w.start_utc, w.end_utc, w.offset_from, w.offset_to
                    )
                )
            else:
                found = len(
                    await db.fetch(WINDOW_LIVE, (replay.broadcast_id, w.start_utc, w.end_utc, 2000))
                )
                found += len(
                    await db.fetch(
                        WINDOW_LATER, (replay.broadcast_id, w.offset_from, w.offset_to, 2000)
                    )
                )
            sizes.append(found)

        for replay, w in picks[:20]:
            await fetch(replay, w)
        sizes.clear()
        window_runs = await timed(
            [
                lambda r=r, w=w: fetch(r, w)  # type: ignore[misc]
                for r, w in picks
            ]
        )

        async def scan(replay: Any, w: Any) -> None:
            await scan_window(db, replay.broadcast_id, w)

        scan_runs = await timed(
            [
                lambda r=r, w=w: scan(r, w)  # type: ignore[misc]
                for r, w in picks[:baseline_windows]
            ]
        )
        return {
            "replays": count,
            "comments": await db.fetchval("SELECT COUNT(*) FROM comments"),
            "search": percentiles(search),
            "search_n": len(search),
            "naive": percentiles(naive_runs),
            "naive_n": len(naive_runs),
            "window": percentiles(window_runs),
            "window_n": len(window_runs),
            "window_comments": statistics.mean(sizes) if sizes else 0,
            "scan": percentiles(scan_runs),
            "scan_n": len(scan_runs),
        }
    finally:
        await db.close()


async def scan_window(db: Database, broadcast_id: int, w: Any) -> None:
    """The window's two statements without their indexes (the baseline)."""
    if db.engine == "sqlite":
        await db.fetch(
            WINDOW_LIVE.replace("FROM comments", "FROM comments NOT INDEXED"),
            (broadcast_id, w.start_utc, w.end_utc, 2000),
        )
        await db.fetch(
            WINDOW_LATER.replace("FROM comments", "FROM comments NOT INDEXED"),
            (broadcast_id, w.offset_from, w.offset_to, 2000),
        )
        return
    async with db.transaction() as tx:
        await tx.execute("SET LOCAL enable_indexscan = off")
        await tx.execute("SET LOCAL enable_bitmapscan = off")
        await tx.fetch(WINDOW_LIVE, (broadcast_id, w.start_utc, w.end_utc, 2000))
        await tx.fetch(WINDOW_LATER, (broadcast_id, w.offset_from, w.offset_to, 2000))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=Path("/tmp/live-seoul-replay-bench.db"))
    parser.add_argument("--replays", type=int, default=100_000)
    parser.add_argument("--comments", type=int, default=5_000_000)
    parser.add_argument(
        "--database-url",
        default="",
        help="measure on this database instead of --db (postgresql://…)",
    )
    parser.add_argument("--reuse", action="store_true", help="measure an existing file")
    parser.add_argument("--rounds", type=int, default=10, help="passes over the query mix")
    parser.add_argument("--windows", type=int, default=500)
    parser.add_argument("--baseline-windows", type=int, default=10)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{args.db}"
    postgres = not url.startswith("sqlite:")
    if not args.reuse:
        if postgres:
            asyncio.run(generate_postgres(url, args.replays, args.comments))
        else:
            generate(args.db, args.replays, args.comments)
    result = asyncio.run(measure(url, args.rounds, args.windows, args.baseline_windows))
    where = (
        url.split("@")[-1] if postgres else f"{args.db}, {args.db.stat().st_size / 2**20:,.0f} MiB"
    )
    print(f"\ncatalog: {result['replays']:,} replays, {result['comments']:,} comments ({where})")
    rows = [
        (
            "catalog search (pg_trgm + bigram tsvector)"
            if postgres
            else "catalog search (FTS5 trigram + bigram)",
            "search",
            "≤ 30 ms p95",
        ),
        ("  baseline: LIKE '%q%' scan", "naive", ""),
        (
            f"60-s comment window (~{result['window_comments']:.0f} comments)",
            "window",
            "≤ 10 ms p95",
        ),
        (
            "  baseline: same query, no index scans"
            if postgres
            else "  baseline: same query, NOT INDEXED",
            "scan",
            "",
        ),
    ]
    print(f"{'':44} {'n':>5} {'p50 ms':>9} {'p95 ms':>9}  target")
    for label, key, target in rows:
        p50, p95 = result[key]
        print(f"{label:44} {result[key + '_n']:>5} {p50:>9.2f} {p95:>9.2f}  {target}")


if __name__ == "__main__":
    main()
