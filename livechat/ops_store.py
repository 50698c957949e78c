"""Operational reads for comments, and retention (`CommentStore.prune`, the comments' writer).

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

from collections.abc import Sequence
from typing import Any

from db import Database, Row
from livechat.store import PRUNE_BATCH, CommentStore


class OpsStore:
    """Reads for operators; retention through `CommentStore.prune` (the comments' writer)."""

    def __init__(self, db: Database, comments: CommentStore) -> None:
        self.db = db
        self.comments = comments

    async def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return await self.db.fetch(sql, params)

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
        return await self.comments.referrers()

    async def prune(self, before_utc: str, batch: int = PRUNE_BATCH) -> int:
        """Delete visible comments written before `before_utc` that nothing refers to
        (`CommentStore.prune`: in short batches). Returns the number deleted."""
        return await self.comments.prune(before_utc, batch)
