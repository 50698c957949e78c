"""The database's clock (`Database.now_sql`, `Database.now()`): one clock for rows stamped
by several hosts, in the text format the stores already use, on both engines."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from db import Database, migrate, open_database
from tests.db.test_database import NOTES


async def test_the_database_clock_is_text_in_the_stores_format(database_url: str) -> None:
    """`now_sql` on both engines: `2026-12-01T10:00:00.123456+00:00`, the database's
    clock, increasing and sorting as text; `now()` is the same clock as a datetime."""
    database: Database = await open_database(database_url)
    try:
        stamps = [await database.fetchval(f"SELECT {database.now_sql}") for _ in range(3)]
        await migrate(database_url, [NOTES])
        async with database.transaction() as tx:  # how a store stamps a row
            await tx.execute(f"INSERT INTO notes (slug, body) VALUES ('t', {database.now_sql})")
        stamps.append(await database.fetchval("SELECT body FROM notes WHERE slug = 't'"))
        for stamp in stamps:
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", stamp), stamp
            moment = datetime.fromisoformat(stamp)
            assert abs(moment - datetime.now(UTC)) < timedelta(seconds=5)
        assert stamps == sorted(stamps)
        now = await database.now()
        assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
        assert now.isoformat(timespec="microseconds") >= stamps[-1][:23]
        later = await database.fetchval(f"SELECT {database.now_sql}")
        assert later >= now.isoformat(timespec="microseconds")[:23]
    finally:
        await database.close()
