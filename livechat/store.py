"""Comment persistence: the one store that writes `comments` and `chat_settings`.

Every comment insert — a post, a live answer, a replay comment, a bulk load — runs inside
`db.transaction(lock=comment_lock(broadcast_id))`: on PostgreSQL the inserts of one
broadcast take turns across processes and hosts (an advisory lock), so a comment's id is
committed before any higher id of its broadcast; on SQLite the file's single writer already
gives that. Once comment *n* of a broadcast is visible, every comment below *n* is too: the
hub relies on this to deliver in id order with no gap. The room pump and backfill read with
`fetch_primary`.

Other stores change comment rows only through the `*_in(tx, …)` methods here, inside their
own transactions (moderation's status changes with their audit row, a question's row with
its comment, a live answer with its question).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from db import Database, Executor, Row, Transaction
from livechat.chat_state import ChatState
from livechat.comment import Comment, CommentStatus
from livechat.identity import Identity

_COLUMNS = (
    "id, broadcast_id, author_key, author_name, role, department, client_id, text,"
    " created_at, video_offset, status, flags, author_mark, reply_to"
)
PRUNE_BATCH = 2000

# Runs inside the transaction that stored a new comment (a question's row).
InsertHook = Callable[[Transaction, Comment], Awaitable[None]]
# Runs inside the transaction that forgets an author (moderation's copies of the name).
ForgetHook = Callable[[Transaction, str, str], Awaitable[None]]


def _row(row: Row) -> Comment:
    return Comment.from_row(row)


def comment_lock(broadcast_id: int) -> str:
    """The lock key every comment insert of a broadcast takes (`Database.transaction`)."""
    return f"comments:{broadcast_id}"


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


CHAT_SETTINGS = frozenset({"slow_mode_seconds", "closed", "pinned_comment_id"})

# (table, column) pairs that may point at a comment id, read from the live schema.
_REFERRERS_SQLITE = (
    'SELECT m.name, f."from" FROM sqlite_master AS m,'
    " pragma_foreign_key_list(m.name) AS f"
    " WHERE m.type = 'table' AND f.\"table\" = 'comments'"
    " UNION"
    " SELECT m.name, c.name FROM sqlite_master AS m, pragma_table_info(m.name) AS c"
    " WHERE m.type = 'table' AND m.name != 'comments'"
    " AND (c.name = 'comment_id' OR c.name LIKE '%\\_comment\\_id' ESCAPE '\\')"
    " ORDER BY 1, 2"
)
_REFERRERS_POSTGRES = (
    "SELECT t.relname::text, a.attname::text FROM pg_constraint AS k"
    " JOIN pg_class AS t ON t.oid = k.conrelid"
    " JOIN pg_attribute AS a ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)"
    " WHERE k.contype = 'f' AND k.confrelid = to_regclass('comments')"
    " UNION"
    " SELECT c.table_name::text, c.column_name::text FROM information_schema.columns AS c"
    " WHERE c.table_schema = current_schema() AND c.table_name <> 'comments'"
    " AND (c.column_name = 'comment_id' OR c.column_name LIKE '%\\_comment\\_id' ESCAPE '\\')"
    " ORDER BY 1, 2"
)


def _insert_sql(now_sql: str) -> str:
    """One comment's INSERT; `created_at` is the caller's or else the database's clock."""
    return (
        "INSERT INTO comments (broadcast_id, author_key, author_name, role,"
        " department, client_id, text, created_at, video_offset, status, flags,"
        " origin, author_mark, reply_to)"
        f" VALUES (?, ?, ?, ?, ?, ?, ?, COALESCE(?, {now_sql}), ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (broadcast_id, author_key, client_id) DO NOTHING"
        f" RETURNING {_COLUMNS}"
    )


@dataclass(frozen=True, slots=True)
class NewComment:
    """A comment to store: what `CommentStore.insert` and `insert_in` take. `created_at`:
    None stamps it with the database's clock."""

    broadcast_id: int
    author: Identity
    client_id: str
    text: str
    status: str = CommentStatus.VISIBLE
    flags: str = ""
    origin: str = ""
    video_offset: float | None = None
    created_at: str | None = None
    reply_to: int | None = None

    def params(self) -> tuple[object, ...]:
        """`_insert_sql`'s parameters."""
        author = self.author
        return (
            self.broadcast_id,
            author.key,
            author.name,
            author.role,
            author.department,
            self.client_id,
            self.text,
            self.created_at,
            None if self.video_offset is None else float(self.video_offset),
            self.status,
            self.flags,
            self.origin,
            author.mark,
            self.reply_to,
        )


@dataclass(slots=True)
class _Pending:
    """One `CommentStore.insert` waiting for its broadcast's next transaction."""

    new: NewComment
    done: asyncio.Future[tuple[Comment, bool]]


class CommentStore:
    """`comments` and `chat_settings`: every write of them goes through here."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._insert = _insert_sql(db.now_sql)
        # Run inside the insert's transaction when a comment is new: every one
        # (`insert_hooks`), or one carrying a flag (`add_flag_hook`: questions). A comment
        # no hook concerns is stored with one statement (`Database.write_returning`).
        self.insert_hooks: list[InsertHook] = []
        self.flag_hooks: dict[str, list[InsertHook]] = {}
        # Run inside `forget_author`'s transaction (moderation).
        self.forget_hooks: list[ForgetHook] = []
        # Inserts waiting for their broadcast's next transaction (see `insert`).
        self._queues: dict[int, list[_Pending]] = {}
        self._drains: set[asyncio.Task[None]] = set()

    async def ping(self) -> None:
        await self.db.fetchval("SELECT 1")

    # -- inserting ---------------------------------------------------------------------
    async def insert(self, new: NewComment) -> tuple[Comment, bool]:
        """Store a comment once per (broadcast, author, client_id); a new one runs the
        `insert_hooks` in the same transaction (a question's row commits with it).

        Returns the comment and True if it was new, or the earlier one and False.

        Group commit: inserts of one broadcast that arrive while this process is inside
        that broadcast's insert transaction wait and go together in the next one (one lock,
        one commit for all). If that transaction fails, each of them is retried in a
        transaction of its own, so one bad comment never takes another down with it.
        """
        pending = _Pending(new, asyncio.get_running_loop().create_future())
        broadcast_id = new.broadcast_id
        queue = self._queues.get(broadcast_id)
        if queue is not None:  # a drain is running: it takes this in its next transaction
            queue.append(pending)
        else:
            self._queues[broadcast_id] = [pending]
            task = asyncio.create_task(
                self._drain(broadcast_id), name=f"comment-inserts-{broadcast_id}"
            )
            self._drains.add(task)
            task.add_done_callback(self._drains.discard)
        return await pending.done

    async def _drain(self, broadcast_id: int) -> None:
        """Insert what has queued for `broadcast_id`, a transaction at a time, until no
        more arrives. Runs as its own task: a caller that gives up waiting (a closed
        socket) does not cancel the others' inserts."""
        try:
            while batch := self._queues.get(broadcast_id):
                self._queues[broadcast_id] = []
                await self._insert_batch(broadcast_id, batch)
        finally:
            for pending in self._queues.pop(broadcast_id, []):
                if not pending.done.done():
                    pending.done.set_exception(RuntimeError("comment store closed"))

    def add_flag_hook(self, flag: str, hook: InsertHook) -> None:
        """Run `hook` inside the insert's transaction of each new comment flagged `flag`."""
        self.flag_hooks.setdefault(flag, []).append(hook)

    def remove_flag_hook(self, flag: str, hook: InsertHook) -> None:
        hooks = self.flag_hooks.get(flag, [])
        if hook in hooks:
            hooks.remove(hook)
        if not hooks:
            self.flag_hooks.pop(flag, None)

    def _hooks(self, flags: str) -> list[InsertHook]:
        """The hooks a new comment with `flags` (comma-separated) runs, in order."""
        hooks = list(self.insert_hooks)
        if flags and self.flag_hooks:
            for flag in flags.split(","):
                hooks.extend(self.flag_hooks.get(flag, ()))
        return hooks

    async def _insert_batch(self, broadcast_id: int, batch: list[_Pending]) -> None:
        alone = len(batch) == 1 and not self._hooks(batch[0].new.flags)
        if alone and await self._insert_alone(broadcast_id, batch[0]):
            return
        try:
            async with self.db.transaction(lock=comment_lock(broadcast_id)) as tx:
                results = []
                for p in batch:
                    comment, created = await self.insert_in(tx, p.new)
                    if created:
                        for hook in self._hooks(comment.flags):
                            await hook(tx, comment)
                    results.append((comment, created))
        except Exception as error:
            if len(batch) == 1:
                if not batch[0].done.done():
                    batch[0].done.set_exception(error)
                return
            for p in batch:  # rolled back: each on its own, so only the culprit fails
                await self._insert_batch(broadcast_id, [p])
            return
        except BaseException:
            for p in batch:
                if not p.done.done():
                    p.done.cancel()
            raise
        for p, result in zip(batch, results, strict=True):
            if not p.done.done():
                p.done.set_result(result)

    async def _insert_alone(self, broadcast_id: int, p: _Pending) -> bool:
        """Store a comment no hook concerns with one statement, committed on its own (one
        trip to SQLite's writer); False, having stored nothing, when it was stored before
        (the transaction path then returns the stored one)."""
        try:
            rows = await self.db.write_returning(
                self._insert,
                p.new.params(),
                lock=comment_lock(broadcast_id),
            )
        except Exception as error:
            if not p.done.done():
                p.done.set_exception(error)
            return True
        except BaseException:
            if not p.done.done():
                p.done.cancel()
            raise
        if not rows:
            return False
        if not p.done.done():
            p.done.set_result((_row(rows[0]), True))
        return True

    async def insert_in(self, tx: Transaction, new: NewComment) -> tuple[Comment, bool]:
        """`insert` inside the caller's transaction, which must hold
        `comment_lock(new.broadcast_id)` (a live answer's transaction does)."""
        rows = await tx.fetch(self._insert, new.params())
        if rows:
            return _row(rows[0]), True
        existing = await tx.fetchone(
            f"SELECT {_COLUMNS} FROM comments WHERE broadcast_id = ?"
            " AND author_key = ? AND client_id = ?",
            (new.broadcast_id, new.author.key, new.client_id),
        )
        assert existing is not None
        return _row(existing), False

    async def insert_many(self, rows: Iterable[Sequence[Any]]) -> None:
        """Bulk load (demo data, benchmarks): rows in `comments` column order, without id
        (broadcast_id, author_key, author_name, role, department, client_id, text,
        created_at, video_offset, status, flags). Rows already stored are skipped. One
        transaction per broadcast, under its comment lock."""
        ordered = sorted(rows, key=lambda r: int(r[0]))
        for broadcast_id, group in groupby(ordered, key=lambda r: int(r[0])):
            async with self.db.transaction(lock=comment_lock(broadcast_id)) as tx:
                await tx.executemany(
                    "INSERT INTO comments (broadcast_id, author_key, author_name,"
                    " role, department, client_id, text, created_at, video_offset, status,"
                    " flags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (broadcast_id, author_key, client_id) DO NOTHING",
                    [
                        (int(r[0]), *r[1:8], None if r[8] is None else float(r[8]), *r[9:])
                        for r in group
                    ],
                )

    # -- reading -----------------------------------------------------------------------
    async def find(self, broadcast_id: int, author_key: str, client_id: str) -> Comment | None:
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM comments WHERE broadcast_id = ? AND author_key = ?"
            " AND client_id = ?",
            (broadcast_id, author_key, client_id),
        )
        return _row(row) if row else None

    async def get(self, comment_id: int) -> Comment | None:
        row = await self.db.fetchone(f"SELECT {_COLUMNS} FROM comments WHERE id = ?", (comment_id,))
        return _row(row) if row else None

    async def get_in(self, tx: Executor, comment_id: int) -> Comment | None:
        row = await tx.fetchone(f"SELECT {_COLUMNS} FROM comments WHERE id = ?", (comment_id,))
        return _row(row) if row else None

    async def after(
        self, broadcast_id: int, after_id: int, limit: int, upto: int | None = None
    ) -> list[Comment]:
        """Comments of every status with `after_id < id [<= upto]`, by id (the pump: read
        from the primary)."""
        rows = await self.db.fetch_primary(
            f"SELECT {_COLUMNS} FROM comments WHERE broadcast_id = ? AND id > ?"
            " AND id <= ? ORDER BY id LIMIT ?",
            (broadcast_id, after_id, 2**62 if upto is None else upto, limit),
        )
        return [_row(r) for r in rows]

    async def visible_page(
        self, broadcast_id: int, after_id: int, limit: int, upto: int | None = None
    ) -> list[Comment]:
        """Visible comments with `after_id < id [<= upto]`, oldest first (keyset page)."""
        bound = upto if upto is not None else 2**62
        rows = await self.db.fetch_primary(
            f"SELECT {_COLUMNS} FROM comments WHERE broadcast_id = ? AND id > ? AND id <= ?"
            " AND status = 'visible' ORDER BY id LIMIT ?",
            (broadcast_id, after_id, bound, limit),
        )
        return [_row(r) for r in rows]

    async def recent(self, broadcast_id: int, limit: int, upto: int | None = None) -> list[Comment]:
        """The last `limit` visible comments with id <= `upto`, oldest first."""
        bound = upto if upto is not None else 2**62
        rows = await self.db.fetch_primary(
            f"SELECT {_COLUMNS} FROM comments WHERE broadcast_id = ? AND id <= ?"
            " AND status = 'visible' ORDER BY id DESC LIMIT ?",
            (broadcast_id, bound, limit),
        )
        return [_row(r) for r in reversed(rows)]

    async def hidden_among_latest(
        self, broadcast_id: int, upto: int, window: int
    ) -> list[tuple[int, str, str]]:
        """(id, status, author_key) of the comments among the last `window` with id <=
        `upto` that are not visible (removed, rejected, held), oldest first."""
        rows = await self.db.fetch_primary(
            "SELECT latest.id, latest.status, latest.author_key FROM (SELECT id, status,"
            " author_key FROM comments WHERE broadcast_id = ? AND id <= ?"
            " ORDER BY id DESC LIMIT ?) AS latest"
            " WHERE latest.status != 'visible' ORDER BY latest.id",
            (broadcast_id, upto, window),
        )
        return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]

    async def latest(self, broadcast_id: int, limit: int, upto: int | None = None) -> list[Comment]:
        """The last `limit` comments of every status with id <= `upto`, oldest first."""
        bound = upto if upto is not None else 2**62
        rows = await self.db.fetch_primary(
            f"SELECT {_COLUMNS} FROM comments WHERE broadcast_id = ? AND id <= ?"
            " ORDER BY id DESC LIMIT ?",
            (broadcast_id, bound, limit),
        )
        return [_row(r) for r in reversed(rows)]

    async def last_id(self, broadcast_id: int) -> int:
        """The newest id of a broadcast (backfill's `reset` check: from the primary)."""
        rows = await self.db.fetch_primary(
            "SELECT MAX(id) FROM comments WHERE broadcast_id = ?", (broadcast_id,)
        )
        return int(rows[0][0] or 0)

    async def window(
        self,
        broadcast_id: int,
        start_utc: str,
        end_utc: str,
        offset_from: float,
        offset_to: float,
        limit: int = 2000,
    ) -> list[Comment]:
        """Visible comments of a replay window: live ones written in [start_utc, end_utc)
        and replay ones stored with a video offset in [offset_from, offset_to)."""
        live = await self.db.fetch(
            f"SELECT {_COLUMNS} FROM comments WHERE broadcast_id = ? AND created_at >= ?"
            " AND created_at < ? AND video_offset IS NULL AND status = 'visible'"
            " ORDER BY created_at, id LIMIT ?",
            (broadcast_id, start_utc, end_utc, limit),
        )
        later = await self.db.fetch(
            f"SELECT {_COLUMNS} FROM comments WHERE broadcast_id = ? AND video_offset >= ?"
            " AND video_offset < ? AND status = 'visible' ORDER BY video_offset, id LIMIT ?",
            (broadcast_id, float(offset_from), float(offset_to), limit),
        )
        return [_row(r) for r in live] + [_row(r) for r in later]

    async def by_author(self, author_key: str, limit: int = 50_000) -> list[Comment]:
        """Every comment an author wrote that is not removed, oldest first (an export)."""
        rows = await self.db.fetch(
            f"SELECT {_COLUMNS} FROM comments WHERE author_key = ? AND status != 'removed'"
            " ORDER BY id LIMIT ?",
            (author_key, limit),
        )
        return [_row(r) for r in rows]

    # -- changing ----------------------------------------------------------------------
    async def forget_author(
        self, author_key: str, name: str, *, remove: bool
    ) -> dict[int, list[int]]:
        """An author left (account deleted): their comments keep their place under `name`
        with no provider mark, or with `remove` are taken down and emptied; the
        `forget_hooks` (moderation's record) forget the name in the same transaction.
        Returns {broadcast id: ids taken down now} for the rooms to drop."""
        removed: dict[int, list[int]] = {}
        async with self.db.transaction() as tx:
            if remove:
                rows = await tx.fetch(
                    "UPDATE comments SET status = 'removed', text = '' WHERE author_key = ?"
                    " AND status != 'removed' RETURNING broadcast_id, id",
                    (author_key,),
                )
                for broadcast_id, comment_id in rows:
                    removed.setdefault(int(broadcast_id), []).append(int(comment_id))
                await tx.execute(
                    "UPDATE comments SET text = '' WHERE author_key = ?", (author_key,)
                )
            await tx.execute(
                "UPDATE comments SET author_name = ?, author_mark = '' WHERE author_key = ?",
                (name, author_key),
            )
            for hook in self.forget_hooks:
                await hook(tx, author_key, name)
        return {b: sorted(ids) for b, ids in removed.items()}

    async def set_status(self, comment_ids: list[int], status: str) -> list[int]:
        """Set the status of comments (no audit: moderation uses `set_status_in` inside
        its own transaction); return the ids that changed."""
        if not comment_ids:
            return []
        async with self.db.transaction() as tx:
            return await self.set_status_in(tx, comment_ids, status)

    async def set_status_in(
        self,
        tx: Transaction,
        comment_ids: Sequence[int],
        status: str,
        from_statuses: Sequence[str] | None = None,
    ) -> list[int]:
        """Move comments (those in `from_statuses`, or any other status than `status`) to
        `status` inside the caller's transaction; return the ids that changed, sorted."""
        if not comment_ids:
            return []
        marks = ",".join("?" * len(comment_ids))
        if from_statuses is None:
            condition, params = "status != ?", [status]
        else:
            condition = f"status IN ({','.join('?' * len(from_statuses))})"
            params = list(from_statuses)
        rows = await tx.fetch(
            f"UPDATE comments SET status = ? WHERE id IN ({marks}) AND {condition} RETURNING id",
            (status, *comment_ids, *params),
        )
        return sorted(int(r[0]) for r in rows)

    async def origin_in(self, tx: Transaction, comment_id: int) -> str:
        """Where a comment came from (`livechat.network.address_key`), or ""."""
        value = await tx.fetchval("SELECT origin FROM comments WHERE id = ?", (comment_id,))
        return str(value or "")

    # -- chat settings -----------------------------------------------------------------
    async def get_chat_settings(self, broadcast_id: int) -> ChatState:
        """(slow mode seconds, closed, pinned comment id) for a broadcast."""
        return await self.chat_settings_in(self.db, broadcast_id)

    @staticmethod
    async def chat_settings_in(executor: Executor, broadcast_id: int) -> ChatState:
        row = await executor.fetchone(
            "SELECT slow_mode_seconds, closed, pinned_comment_id FROM chat_settings"
            " WHERE broadcast_id = ?",
            (broadcast_id,),
        )
        if row is None:
            return ChatState()
        return ChatState(int(row[0]), bool(row[1]), None if row[2] is None else int(row[2]))

    @staticmethod
    async def write_chat_settings(
        tx: Transaction, broadcast_id: int, values: dict[str, Any]
    ) -> None:
        """Set some of a broadcast's chat settings inside the caller's transaction (the
        moderation store's, which writes the audit row with it)."""
        unknown = set(values) - CHAT_SETTINGS
        if unknown:
            raise ValueError(f"unknown chat settings: {sorted(unknown)}")
        await tx.execute(
            "INSERT INTO chat_settings (broadcast_id) VALUES (?)"
            " ON CONFLICT (broadcast_id) DO NOTHING",
            (broadcast_id,),
        )
        for name, value in values.items():  # names from CHAT_SETTINGS only
            await tx.execute(
                f"UPDATE chat_settings SET {name} = ? WHERE broadcast_id = ?",
                (None if value is None else int(value), broadcast_id),
            )

    # -- retention ---------------------------------------------------------------------
    async def referrers(self) -> list[tuple[str, str]]:
        """(table, column) pairs that may point at a comment id, from the live schema."""
        sql = _REFERRERS_SQLITE if self.db.engine == "sqlite" else _REFERRERS_POSTGRES
        return [(str(r[0]), str(r[1])) for r in await self.db.fetch(sql)]

    async def prune(self, before_utc: str, batch: int = PRUNE_BATCH) -> int:
        """Delete visible comments written before `before_utc` that nothing refers to.

        Works in batches of `batch` rows, each its own transaction, so live posting waits
        at most one short batch. Returns the number deleted.
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
            async with self.db.transaction() as tx:
                deleted = await tx.execute(sql, (before_utc, batch))
            total += max(deleted, 0)
            if deleted < batch:
                return total
            await asyncio.sleep(0)  # let other writers in between batches
