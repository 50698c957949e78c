"""Comment persistence. Every SQL statement of `livechat` lives here.

Writes go through one writer connection per process, under `BEGIN IMMEDIATE` or as one
statement that commits on its own (a comment's insert), so SQLite assigns ids in commit
order: once comment *n* of any process is visible, every comment below *n* is too. The
hub relies on this to deliver in id order with no gap.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiosqlite

from livechat.chat_state import ChatState
from livechat.comment import Comment, CommentStatus
from livechat.identity import Identity

_COLUMNS = (
    "id, broadcast_id, author_key, author_name, role, department, client_id, text,"
    " created_at, video_offset, status, flags, author_mark"
)


def _row(row: Any) -> Comment:
    return Comment.from_row(row)


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


@contextlib.asynccontextmanager
async def write_transaction(
    writer: aiosqlite.Connection, lock: asyncio.Lock
) -> AsyncIterator[aiosqlite.Connection]:
    """One `BEGIN IMMEDIATE` transaction on a store's writer connection, one at a time:
    committed when the block ends (a `return` inside included), rolled back if it raises."""
    async with lock:
        await writer.execute("BEGIN IMMEDIATE")
        try:
            yield writer
        except BaseException:
            await writer.execute("ROLLBACK")
            raise
        await writer.execute("COMMIT")


CHAT_SETTINGS = frozenset({"slow_mode_seconds", "closed", "pinned_comment_id"})


async def write_chat_settings(db: aiosqlite.Connection, broadcast_id: int,
                              values: dict[str, Any]) -> None:
    """Set some of a broadcast's chat settings, inside the caller's transaction."""
    unknown = set(values) - CHAT_SETTINGS
    if unknown:
        raise ValueError(f"unknown chat settings: {sorted(unknown)}")
    await db.execute(
        "INSERT INTO chat_settings (broadcast_id) VALUES (?) ON CONFLICT (broadcast_id) DO NOTHING",
        (broadcast_id,),
    )
    for name, value in values.items():  # names from CHAT_SETTINGS only
        await db.execute(f"UPDATE chat_settings SET {name} = ? WHERE broadcast_id = ?",
                         (value, broadcast_id))


class CommentStore:
    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self._writer = writer
        self._reader = reader
        self._lock = asyncio.Lock()

    async def _fetch(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        return list(await self._reader.execute_fetchall(sql, params))

    async def ping(self) -> None:
        await self._fetch("SELECT 1")

    async def insert(
        self,
        broadcast_id: int,
        author: Identity,
        client_id: str,
        text: str,
        *,
        status: CommentStatus = CommentStatus.VISIBLE,
        flags: str = "",
        origin: str = "",
        video_offset: float | None = None,
        created_at: str | None = None,
    ) -> tuple[Comment, bool]:
        """Store a comment once per (broadcast, author, client_id).

        Returns the comment and True if it was new, or the earlier one and False.
        """
        created = created_at or utc_now_iso()
        # One statement, its own transaction: one trip to the writer's thread, not five
        # (BEGIN, INSERT, fetch, close, COMMIT) while holding the write lock.
        async with self._lock:
            rows = list(await self._writer.execute_fetchall(
                "INSERT INTO comments (broadcast_id, author_key, author_name, role,"
                " department, client_id, text, created_at, video_offset, status, flags,"
                " origin, author_mark) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (broadcast_id, author_key, client_id) DO NOTHING"
                f" RETURNING {_COLUMNS}",
                (broadcast_id, author.key, author.name, author.role, author.department,
                 client_id, text, created, video_offset, status, flags, origin, author.mark),
            ))
            if rows:
                return _row(rows[0]), True
            existing = list(await self._writer.execute_fetchall(
                f"SELECT {_COLUMNS} FROM comments WHERE broadcast_id = ?"
                " AND author_key = ? AND client_id = ?",
                (broadcast_id, author.key, client_id),
            ))
        assert existing
        return _row(existing[0]), False

    async def insert_many(self, rows: list[tuple[Any, ...]]) -> None:
        """Bulk load (demo data, benchmarks): rows in `comments` column order, without id."""
        async with write_transaction(self._writer, self._lock) as db:
            await db.executemany(
                "INSERT OR IGNORE INTO comments (broadcast_id, author_key, author_name,"
                " role, department, client_id, text, created_at, video_offset, status,"
                " flags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    async def find(self, broadcast_id: int, author_key: str, client_id: str) -> Comment | None:
        rows = await self._fetch(
            f"SELECT {_COLUMNS} FROM comments WHERE broadcast_id = ? AND author_key = ?"
            " AND client_id = ?",
            (broadcast_id, author_key, client_id),
        )
        return _row(rows[0]) if rows else None

    async def get(self, comment_id: int) -> Comment | None:
        rows = await self._fetch(
            f"SELECT {_COLUMNS} FROM comments WHERE id = ?", (comment_id,)
        )
        return _row(rows[0]) if rows else None

    async def after(self, broadcast_id: int, after_id: int, limit: int,
                    upto: int | None = None) -> list[Comment]:
        """Comments of every status with `after_id < id [<= upto]`, by id."""
        if upto is None:
            rows = await self._fetch(
                f"SELECT {_COLUMNS} FROM comments WHERE broadcast_id = ? AND id > ?"
                " ORDER BY id LIMIT ?",
                (broadcast_id, after_id, limit),
            )
        else:
            rows = await self._fetch(
                f"SELECT {_COLUMNS} FROM comments WHERE broadcast_id = ? AND id > ?"
                " AND id <= ? ORDER BY id LIMIT ?",
                (broadcast_id, after_id, upto, limit),
            )
        return [_row(r) for r in rows]

    async def visible_page(self, broadcast_id: int, after_id: int, limit: int,
                           upto: int | None = None) -> list[Comment]:
        """Visible comments with `after_id < id [<= upto]`, oldest first (keyset page)."""
        bound = upto if upto is not None else 2**62
        rows = await self._fetch(
            f"SELECT {_COLUMNS} FROM comments WHERE broadcast_id = ? AND id > ? AND id <= ?"
            " AND status = 'visible' ORDER BY id LIMIT ?",
            (broadcast_id, after_id, bound, limit),
        )
        return [_row(r) for r in rows]

    async def recent(self, broadcast_id: int, limit: int, upto: int | None = None
                     ) -> list[Comment]:
        """The last `limit` visible comments with id <= `upto`, oldest first."""
        bound = upto if upto is not None else 2**62
        rows = await self._fetch(
            f"SELECT {_COLUMNS} FROM comments WHERE broadcast_id = ? AND id <= ?"
            " AND status = 'visible' ORDER BY id DESC LIMIT ?",
            (broadcast_id, bound, limit),
        )
        return [_row(r) for r in reversed(rows)]

    async def hidden_among_latest(self, broadcast_id: int, upto: int, window: int
                                  ) -> list[tuple[int, str, str]]:
        """(id, status, author_key) of the comments among the last `window` with id <=
        `upto` that are not visible (removed, rejected, held), oldest first."""
        rows = await self._fetch(
            "SELECT id, status, author_key FROM (SELECT id, status, author_key FROM comments"
            " WHERE broadcast_id = ? AND id <= ? ORDER BY id DESC LIMIT ?)"
            " WHERE status != 'visible' ORDER BY id",
            (broadcast_id, upto, window),
        )
        return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]

    async def latest(self, broadcast_id: int, limit: int, upto: int | None = None
                     ) -> list[Comment]:
        """The last `limit` comments of every status with id <= `upto`, oldest first."""
        bound = upto if upto is not None else 2**62
        rows = await self._fetch(
            f"SELECT {_COLUMNS} FROM comments WHERE broadcast_id = ? AND id <= ?"
            " ORDER BY id DESC LIMIT ?",
            (broadcast_id, bound, limit),
        )
        return [_row(r) for r in reversed(rows)]

    async def last_id(self, broadcast_id: int) -> int:
        rows = await self._fetch(
            "SELECT MAX(id) FROM comments WHERE broadcast_id = ?", (broadcast_id,)
        )
        return int(rows[0][0] or 0)

    async def window(
        self, broadcast_id: int, start_utc: str, end_utc: str, offset_from: float,
        offset_to: float, limit: int = 2000,
    ) -> list[Comment]:
        """Visible comments of a replay window: live ones written in [start_utc, end_utc)
        and replay ones stored with a video offset in [offset_from, offset_to)."""
        live = await self._fetch(
            f"SELECT {_COLUMNS} FROM comments WHERE broadcast_id = ? AND created_at >= ?"
            " AND created_at < ? AND video_offset IS NULL AND status = 'visible'"
            " ORDER BY created_at, id LIMIT ?",
            (broadcast_id, start_utc, end_utc, limit),
        )
        later = await self._fetch(
            f"SELECT {_COLUMNS} FROM comments WHERE broadcast_id = ? AND video_offset >= ?"
            " AND video_offset < ? AND status = 'visible' ORDER BY video_offset, id LIMIT ?",
            (broadcast_id, offset_from, offset_to, limit),
        )
        return [_row(r) for r in live] + [_row(r) for r in later]

    async def by_author(self, author_key: str, limit: int = 50_000) -> list[Comment]:
        """Every comment an author wrote that is not removed, oldest first (an export)."""
        rows = await self._fetch(
            f"SELECT {_COLUMNS} FROM comments WHERE author_key = ? AND status != 'removed'"
            " ORDER BY id LIMIT ?", (author_key, limit))
        return [_row(r) for r in rows]

    async def forget_author(self, author_key: str, name: str, *, remove: bool
                            ) -> dict[int, list[int]]:
        """An author left (account deleted): their comments keep their place under `name`
        with no provider mark, or with `remove` are taken down and emptied; their name
        leaves the moderation record too (the key there is an opaque number). One
        transaction. Returns {broadcast id: ids taken down now} for the rooms to drop."""
        removed: dict[int, list[int]] = {}
        async with write_transaction(self._writer, self._lock) as db:
            if remove:
                cursor = await db.execute(
                    "UPDATE comments SET status = 'removed', text = '' WHERE author_key = ?"
                    " AND status != 'removed' RETURNING broadcast_id, id", (author_key,))
                for broadcast_id, comment_id in await cursor.fetchall():
                    removed.setdefault(int(broadcast_id), []).append(int(comment_id))
                await cursor.close()
                await db.execute("UPDATE comments SET text = '' WHERE author_key = ?",
                                 (author_key,))
            await db.execute(
                "UPDATE comments SET author_name = ?, author_mark = '' WHERE author_key = ?",
                (name, author_key))
            await db.execute(
                "UPDATE moderation_actions SET target_name = ? WHERE target_key = ?",
                (name, author_key))
            await db.execute(
                "UPDATE chat_restrictions SET author_name = ? WHERE author_key = ?",
                (name, author_key))
        return {b: sorted(ids) for b, ids in removed.items()}

    async def get_chat_settings(self, broadcast_id: int) -> ChatState:
        """A broadcast's slow mode, closed switch and pinned comment id."""
        rows = await self._fetch(
            "SELECT slow_mode_seconds, closed, pinned_comment_id FROM chat_settings"
            " WHERE broadcast_id = ?",
            (broadcast_id,),
        )
        if not rows:
            return ChatState()
        return ChatState(int(rows[0][0]), bool(rows[0][1]), rows[0][2])

    async def set_chat_settings(self, broadcast_id: int, **values: Any) -> None:
        async with write_transaction(self._writer, self._lock) as db:
            await write_chat_settings(db, broadcast_id, values)

    async def set_status(self, comment_ids: list[int], status: CommentStatus) -> list[int]:
        """Set the status of comments; return the ids that changed."""
        if not comment_ids:
            return []
        marks = ",".join("?" * len(comment_ids))
        async with self._lock:
            rows = list(await self._writer.execute_fetchall(
                f"UPDATE comments SET status = ? WHERE id IN ({marks}) AND status != ?"
                " RETURNING id",
                (status, *comment_ids, status),
            ))
        return sorted(int(r[0]) for r in rows)
