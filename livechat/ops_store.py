"""Operational reads and retention for comments: every SQL statement operators need.

The status page asks how many comments wait in the moderation queue and how many arrived
recently; retention deletes old visible comments. Counting from the database (not from a
process's counters) gives the same answer on every worker.

Retention keeps the audit trail: removed and held comments stay, and so does any comment
another row points at — through a foreign key (reports, appeals, removals) or through a
column named `comment_id` / `*_comment_id` (the moderation log, pinned comments). The
referring tables are discovered from the schema, so a table added by a later migration is
respected without touching this module.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import aiosqlite

from livechat.store import write_transaction

PRUNE_BATCH = 2000


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class OpsStore:
    """Reads for operators (on `reader`) and retention deletes (on `writer`)."""

    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self._writer = writer
        self._reader = reader
        self._lock = asyncio.Lock()

    async def _fetch(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        return list(await self._reader.execute_fetchall(sql, tuple(params)))

    async def held_counts(self) -> dict[int, int]:
        """Comments waiting for a moderator (status 'held'), per broadcast."""
        rows = await self._fetch(
            "SELECT broadcast_id, COUNT(*) FROM comments WHERE status = 'held'"
            " GROUP BY broadcast_id"
        )
        return {int(r[0]): int(r[1]) for r in rows}

    async def counts_since(self, since_utc: str) -> dict[int, int]:
        """Comments of every status written at or after `since_utc` (ISO UTC), per broadcast."""
        rows = await self._fetch(
            "SELECT broadcast_id, COUNT(*) FROM comments WHERE created_at >= ?"
            " GROUP BY broadcast_id",
            (since_utc,),
        )
        return {int(r[0]): int(r[1]) for r in rows}

    async def referrers(self) -> list[tuple[str, str]]:
        """(table, column) pairs that may point at a comment id, from the live schema."""
        rows = await self._fetch(
            "SELECT m.name, f.\"from\" FROM sqlite_master AS m,"
            " pragma_foreign_key_list(m.name) AS f"
            " WHERE m.type = 'table' AND f.\"table\" = 'comments'"
            " UNION"
            " SELECT m.name, c.name FROM sqlite_master AS m, pragma_table_info(m.name) AS c"
            " WHERE m.type = 'table' AND m.name != 'comments'"
            " AND (c.name = 'comment_id' OR c.name LIKE '%\\_comment\\_id' ESCAPE '\\')"
            " ORDER BY 1, 2"
        )
        return [(str(r[0]), str(r[1])) for r in rows]

    async def prune(self, before_utc: str, batch: int = PRUNE_BATCH) -> int:
        """Delete visible comments written before `before_utc` that nothing refers to.

        Works in batches of `batch` rows, each its own `BEGIN IMMEDIATE` transaction, so
        live posting waits at most one short batch. Returns the number deleted.
        """
        keep = " ".join(
            f"AND NOT EXISTS (SELECT 1 FROM {_quote(t)} AS r WHERE r.{_quote(c)} = comments.id)"
            for t, c in await self.referrers()
        )
        sql = (
            "DELETE FROM comments WHERE id IN (SELECT id FROM comments"
            f" WHERE status = 'visible' AND created_at < ? {keep} LIMIT ?)"
        )
        total = 0
        while True:
            async with write_transaction(self._writer, self._lock) as db:
                cursor = await db.execute(sql, (before_utc, batch))
                deleted = cursor.rowcount
                await cursor.close()
            total += max(deleted, 0)
            if deleted < batch:
                return total
            await asyncio.sleep(0)  # let other writers in between batches
