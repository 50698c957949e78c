"""Moderation persistence: every SQL statement of the moderation tables lives here.

Each action is one transaction that changes what it changes (a comment's status, a
restriction, the chat settings…) *and* writes its audit row, so the log never misses an
action and an action never half-happens. The comment rows and chat settings belong to
`CommentStore`: this store changes them through its `*_in(tx, …)` methods inside its own
transaction. Times are ISO-8601 UTC with microseconds, so text order is time order, and
come from the database's clock (`Database.now_sql`, `db.now_text`), never a host's: hosts
whose clocks drift still agree on when a timeout ends.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from db import Database, Executor, Row, Transaction, UniqueViolation, now_text
from livechat.chat_state import ChatState
from livechat.comment import Comment, CommentStatus
from livechat.identity import Identity, Role
from livechat.moderation.moderation import Reason
from livechat.store import _COLUMNS, CommentStore

SYSTEM = Identity(key="system", name="system", role=Role.SYSTEM)


def pseudonym(author_key: str) -> str:
    """A stable short handle for an author that reveals no session id."""
    return hashlib.sha256(("author:" + author_key).encode()).hexdigest()[:10]


class Conflict(Exception):
    """The action does not apply to the current state (already removed, appealed…)."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class AuditEntry:
    id: int
    created_at: str
    broadcast_id: int | None
    action: str
    actor_name: str
    actor_role: str
    comment_id: int | None
    target: str  # pseudonym of the author acted on ('' if none)
    target_name: str
    reason: str
    reason_text: str
    comment_text: str
    detail: dict[str, Any] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created_at": self.created_at,
            "broadcast_id": self.broadcast_id,
            "action": self.action,
            "actor": self.actor_name,
            "actor_role": self.actor_role,
            "comment_id": self.comment_id,
            "target": self.target,
            "target_name": self.target_name,
            "reason": self.reason,
            "reason_text": self.reason_text,
            "comment_text": self.comment_text,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Restriction:
    id: int
    author_key: str
    author_name: str
    broadcast_id: int | None  # None: everywhere
    kind: str  # timeout | ban
    until: str | None  # None: until lifted
    reason: str
    created_at: str

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "target": pseudonym(self.author_key),
            "target_name": self.author_name,
            "broadcast_id": self.broadcast_id,
            "scope": "broadcast" if self.broadcast_id is not None else "everywhere",
            "kind": self.kind,
            "until": self.until,
            "reason": self.reason,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class Appeal:
    id: int
    comment_id: int
    broadcast_id: int
    author_key: str
    text: str
    status: str  # open | upheld | reinstated
    created_at: str
    decided_at: str | None
    decided_by: str
    note: str

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "comment_id": self.comment_id,
            "broadcast_id": self.broadcast_id,
            "text": self.text,
            "status": self.status,
            "created_at": self.created_at,
            "decided_at": self.decided_at,
            "decided_by": self.decided_by,
            "note": self.note,
        }


@dataclass(frozen=True)
class Removal:
    comment_id: int
    reason: str
    reason_text: str
    removed_at: str


@dataclass(frozen=True)
class BlockedWord:
    id: int
    word: str
    created_by: str
    created_at: str

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "word": self.word,
            "created_by": self.created_by,
            "created_at": self.created_at,
        }


_AUDIT_COLUMNS = (
    "id, created_at, broadcast_id, action, actor_name, actor_role, comment_id,"
    " target_key, target_name, reason, reason_text, comment_text, detail"
)
_RESTRICTION_COLUMNS = "id, author_key, author_name, broadcast_id, kind, until, reason, created_at"
_APPEAL_COLUMNS = (
    "id, comment_id, broadcast_id, author_key, text, status, created_at,"
    " decided_at, decided_by, note"
)


def _audit_row(row: Row) -> AuditEntry:
    values = list(row)
    target_key = values[7]
    return AuditEntry(
        id=values[0],
        created_at=values[1],
        broadcast_id=values[2],
        action=values[3],
        actor_name=values[4],
        actor_role=values[5],
        comment_id=values[6],
        target=pseudonym(target_key) if target_key else "",
        target_name=values[8],
        reason=values[9],
        reason_text=values[10],
        comment_text=values[11],
        detail=json.loads(values[12] or "{}"),
    )


def _comment(row: Row) -> Comment:
    return Comment.from_row(row)


@dataclass(frozen=True)
class Change:
    """What one action did: its audit rows and the comments whose status changed."""

    entries: list[AuditEntry]
    changed: list[Comment] = field(default_factory=list)


class ModerationStore:
    """The moderation tables; comment rows through `comments` (their one writer)."""

    def __init__(self, db: Database, comments: CommentStore) -> None:
        self.db = db
        self.comments = comments

    async def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return await self.db.fetch(sql, params)

    @staticmethod
    async def _all(db: Executor, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return await db.fetch(sql, params)

    async def forget_in(self, tx: Transaction, author_key: str, name: str) -> None:
        """An author left: their name leaves the moderation record too (the key there is
        an opaque number). Inside `CommentStore.forget_author`'s transaction."""
        await tx.execute(
            "UPDATE moderation_actions SET target_name = ? WHERE target_key = ?", (name, author_key)
        )
        await tx.execute(
            "UPDATE chat_restrictions SET author_name = ? WHERE author_key = ?", (name, author_key)
        )

    async def _audit(
        self,
        db: Transaction,
        actor: Identity,
        action: str,
        *,
        broadcast_id: int | None,
        comment: Comment | None = None,
        target_key: str = "",
        target_name: str = "",
        reason: str = "",
        reason_text: str = "",
        detail: dict[str, Any] | None = None,
        now: str | None = None,
    ) -> AuditEntry:
        if comment is not None:
            target_key = target_key or comment.author_key
            target_name = target_name or comment.author_name
        rows = await self._all(
            db,
            "INSERT INTO moderation_actions (created_at, broadcast_id, action, actor_key,"
            " actor_name, actor_role, comment_id, target_key, target_name, reason,"
            f" reason_text, comment_text, detail) VALUES (COALESCE(?, {self.db.now_sql}),"
            f" ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_AUDIT_COLUMNS}",
            (
                now,
                broadcast_id,
                action,
                actor.key,
                actor.name,
                actor.role,
                comment.id if comment else None,
                target_key,
                target_name,
                reason,
                reason_text,
                comment.text if comment else "",
                json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
            ),
        )
        return _audit_row(rows[0])

    # -- comments ----------------------------------------------------------------------
    async def comment(self, comment_id: int) -> Comment | None:
        rows = await self._fetch(f"SELECT {_COLUMNS} FROM comments WHERE id = ?", (comment_id,))
        return _comment(rows[0]) if rows else None

    async def recent_all(
        self, broadcast_id: int, limit: int, before_id: int | None = None
    ) -> list[Comment]:
        """The last `limit` comments of every status (for moderators), oldest first."""
        rows = await self._fetch(
            f"SELECT {_COLUMNS} FROM comments WHERE broadcast_id = ? AND id < ?"
            " ORDER BY id DESC LIMIT ?",
            (broadcast_id, before_id or 2**62, limit),
        )
        return [_comment(r) for r in reversed(rows)]

    async def held(self, broadcast_id: int, limit: int = 500) -> list[Comment]:
        rows = await self._fetch(
            f"SELECT {_COLUMNS} FROM comments WHERE broadcast_id = ? AND status = 'held'"
            " ORDER BY id LIMIT ?",
            (broadcast_id, limit),
        )
        return [_comment(r) for r in rows]

    async def by_author(self, broadcast_id: int, author_key: str) -> list[Comment]:
        rows = await self._fetch(
            f"SELECT {_COLUMNS} FROM comments WHERE broadcast_id = ? AND author_key = ?"
            " ORDER BY id",
            (broadcast_id, author_key),
        )
        return [_comment(r) for r in rows]

    async def set_status(
        self,
        actor: Identity,
        action: str,
        comments: list[Comment],
        status: CommentStatus,
        *,
        from_statuses: tuple[CommentStatus, ...],
        reason: str = "",
        reason_text: str = "",
        detail: dict[str, Any] | None = None,
    ) -> Change:
        """Move `comments` that are in one of `from_statuses` to `status`, one audit row
        each. A removal records its reason; any other status forgets it."""
        if not comments:
            return Change([])
        now = await now_text(self.db)
        ids = [c.id for c in comments]
        async with self.db.transaction() as db:
            changed_ids = set(await self.comments.set_status_in(db, ids, status, from_statuses))
            changed = [c for c in comments if c.id in changed_ids]
            entries = []
            for c in changed:
                entry = await self._audit(
                    db,
                    actor,
                    action,
                    broadcast_id=c.broadcast_id,
                    comment=c,
                    reason=reason,
                    reason_text=reason_text,
                    detail=detail,
                    now=now,
                )
                entries.append(entry)
                if status == CommentStatus.REMOVED:
                    await db.execute(
                        "INSERT INTO comment_removals (comment_id, broadcast_id, reason,"
                        " reason_text, action_id, removed_at) VALUES (?, ?, ?, ?, ?, ?)"
                        " ON CONFLICT (comment_id) DO UPDATE SET reason = excluded.reason,"
                        " reason_text = excluded.reason_text, action_id = excluded.action_id,"
                        " removed_at = excluded.removed_at",
                        (c.id, c.broadcast_id, reason or "other", reason_text, entry.id, now),
                    )
                else:
                    await db.execute("DELETE FROM comment_removals WHERE comment_id = ?", (c.id,))
        return Change(entries, [replace(c, status=status) for c in changed])

    async def removal(self, comment_id: int) -> Removal | None:
        rows = await self._fetch(
            "SELECT comment_id, reason, reason_text, removed_at FROM comment_removals"
            " WHERE comment_id = ?",
            (comment_id,),
        )
        return Removal(*rows[0]) if rows else None

    # -- restrictions ------------------------------------------------------------------
    async def restrict(
        self,
        actor: Identity,
        target: Comment,
        kind: str,
        until: str | None,
        broadcast_id: int | None,
        reason: str,
        reason_text: str,
        detail: dict[str, Any],
        origin_until: str | None = None,
    ) -> tuple[Restriction, AuditEntry]:
        """Restrict the author of `target`; with `origin_until`, also the place that
        comment came from (its `origin`), whoever posts from there, until then."""
        now = await now_text(self.db)
        async with self.db.transaction() as db:
            origin = ""
            if origin_until is not None:
                origin = await self.comments.origin_in(db, target.id)
            rows = await self._all(
                db,
                "INSERT INTO chat_restrictions (author_key, author_name, broadcast_id, kind,"
                " until, reason, created_at, origin, origin_until)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                f" RETURNING {_RESTRICTION_COLUMNS}",
                (
                    target.author_key,
                    target.author_name,
                    broadcast_id,
                    kind,
                    until,
                    reason,
                    now,
                    origin,
                    origin_until if origin else None,
                ),
            )
            restriction = Restriction(*rows[0])
            entry = await self._audit(
                db,
                actor,
                kind,
                broadcast_id=target.broadcast_id,
                comment=target,
                reason=reason,
                reason_text=reason_text,
                detail={
                    **detail,
                    "restriction_id": restriction.id,
                    "until": until,
                    "scope": "broadcast" if broadcast_id is not None else "everywhere",
                },
                now=now,
            )
        return restriction, entry

    async def active_restriction(
        self,
        author_key: str,
        broadcast_id: int,
        now: str | None = None,
        origin: str = "",
    ) -> Restriction | None:
        """The restriction that keeps `author_key` — or anyone posting from `origin` while
        a restriction binds it — from posting in `broadcast_id`, if any (the author's own
        first: a ban before a timeout, the later end before the earlier; then one bound to
        the place, its end the shorter of the two). One read: every post asks this."""
        now_sql = f"COALESCE(?, {self.db.now_sql})"
        active = (
            f" AND lifted_at IS NULL AND (broadcast_id IS NULL OR broadcast_id = ?)"
            f" AND (until IS NULL OR until > {now_sql})"
        )
        rows = await self._fetch(
            f"SELECT 0, {_RESTRICTION_COLUMNS} FROM chat_restrictions WHERE author_key = ?"
            + active
            + " UNION ALL SELECT 1, id, author_key, author_name, broadcast_id, kind,"
            " CASE WHEN until IS NULL OR origin_until < until THEN origin_until ELSE until END,"
            " reason, created_at FROM chat_restrictions WHERE origin = ? AND origin != ''"
            f" AND origin_until > {now_sql}" + active,
            (author_key, broadcast_id, now, origin, now, broadcast_id, now),
        )
        own = [Restriction(*tuple(r)[1:]) for r in rows if r[0] == 0]
        if own:  # no end (a ban) first, then the latest end
            return max(own, key=lambda r: (r.until is None, r.until or ""))
        # Another identity from a restricted place: bound by the shorter of the two ends.
        placed = [Restriction(*tuple(r)[1:]) for r in rows]
        return max(placed, key=lambda r: r.until or "") if placed else None

    async def restrictions(self, broadcast_id: int) -> list[Restriction]:
        """Active restrictions that apply in `broadcast_id` (its own and everywhere-bans)."""
        rows = await self._fetch(
            f"SELECT {_RESTRICTION_COLUMNS} FROM chat_restrictions WHERE lifted_at IS NULL"
            " AND (broadcast_id IS NULL OR broadcast_id = ?)"
            f" AND (until IS NULL OR until > {self.db.now_sql}) ORDER BY id",
            (broadcast_id,),
        )
        return [Restriction(*r) for r in rows]

    async def lift(
        self, actor: Identity, broadcast_id: int, restriction_id: int, reason: str, reason_text: str
    ) -> tuple[Restriction, AuditEntry]:
        now = await now_text(self.db)
        async with self.db.transaction() as db:
            rows = await self._all(
                db,
                "UPDATE chat_restrictions SET lifted_at = ? WHERE id = ? AND lifted_at IS NULL"
                " AND (broadcast_id IS NULL OR broadcast_id = ?)"
                f" RETURNING {_RESTRICTION_COLUMNS}",
                (now, restriction_id, broadcast_id),
            )
            if not rows:
                raise Conflict("restriction_id", f"no active restriction {restriction_id}")
            restriction = Restriction(*rows[0])
            entry = await self._audit(
                db,
                actor,
                "unban",
                broadcast_id=broadcast_id,
                target_key=restriction.author_key,
                target_name=restriction.author_name,
                reason=reason,
                reason_text=reason_text,
                detail={"restriction_id": restriction.id, "kind": restriction.kind},
                now=now,
            )
        return restriction, entry

    # -- chat settings -----------------------------------------------------------------
    async def update_chat(
        self,
        actor: Identity,
        broadcast_id: int,
        action: str,
        values: dict[str, Any],
        *,
        comment: Comment | None = None,
        reason: str = "",
        reason_text: str = "",
    ) -> tuple[ChatState, AuditEntry]:
        """Change slow mode / closed / pinned and log it; return the full new settings."""
        async with self.db.transaction() as db:
            await self.comments.write_chat_settings(db, broadcast_id, values)
            settings = await self.comments.chat_settings_in(db, broadcast_id)
            entry = await self._audit(
                db,
                actor,
                action,
                broadcast_id=broadcast_id,
                comment=comment,
                reason=reason,
                reason_text=reason_text,
                detail={k: v for k, v in values.items()},
            )
        return settings, entry

    # -- blocked words -----------------------------------------------------------------
    async def words(self) -> list[BlockedWord]:
        rows = await self._fetch(
            "SELECT id, word, created_by, created_at FROM blocked_words ORDER BY id"
        )
        return [BlockedWord(*r) for r in rows]

    async def add_word(
        self, actor: Identity, word: str, folded: str
    ) -> tuple[BlockedWord, AuditEntry]:
        now = await now_text(self.db)
        async with self.db.transaction() as db:
            try:
                rows = await self._all(
                    db,
                    "INSERT INTO blocked_words (word, folded, created_by, created_at)"
                    " VALUES (?, ?, ?, ?) RETURNING id, word, created_by, created_at",
                    (word, folded, actor.name, now),
                )
            except UniqueViolation:
                raise Conflict(
                    "word", "this word (or a spelling of it) is already blocked"
                ) from None
            entry = await self._audit(
                db, actor, "word_add", broadcast_id=None, detail={"word": word}, now=now
            )
        return BlockedWord(*rows[0]), entry

    async def remove_word(self, actor: Identity, word_id: int) -> AuditEntry:
        async with self.db.transaction() as db:
            rows = await self._all(
                db, "DELETE FROM blocked_words WHERE id = ? RETURNING word", (word_id,)
            )
            if not rows:
                raise Conflict("word_id", f"no blocked word {word_id}")
            return await self._audit(
                db, actor, "word_remove", broadcast_id=None, detail={"word": rows[0][0]}
            )

    # -- reports -----------------------------------------------------------------------
    async def has_commented(self, broadcast_id: int, author_key: str) -> bool:
        """Whether `author_key` has a visible comment in `broadcast_id` (one index probe)."""
        rows = await self._fetch(
            "SELECT EXISTS (SELECT 1 FROM comments WHERE broadcast_id = ? AND author_key = ?"
            " AND status = 'visible')",
            (broadcast_id, author_key),
        )
        return bool(rows[0][0])

    async def report(
        self,
        comment: Comment,
        reporter_key: str,
        reason: str,
        reason_text: str,
        hide_at: float | None,
        network: str = "",
        weight: float = 1.0,
    ) -> tuple[int, Change]:
        """Record one viewer's report; return the number of distinct reporters and, when
        the reports' weight reaches `hide_at` (None: never), the hold that hid the comment.

        The weight counts each network block once (its heaviest reporter): many cookies
        from one place weigh what one of them does (`livechat.moderation.report_weight`)."""
        now = await now_text(self.db)
        async with self.db.transaction() as db:
            try:
                await db.execute(
                    "INSERT INTO comment_reports (comment_id, reporter_key, reason, reason_text,"
                    " created_at, network, weight) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (comment.id, reporter_key, reason, reason_text, now, network, weight),
                )
            except UniqueViolation:
                raise Conflict("comment_id", "you have already reported this comment") from None
            rows = await self._all(
                db,
                "SELECT COUNT(*), COALESCE(SUM(w), 0) FROM (SELECT COUNT(*) AS n,"
                " MAX(weight) AS w FROM comment_reports WHERE comment_id = ?"
                " GROUP BY CASE WHEN network = '' THEN reporter_key ELSE network END)"
                " AS by_place",
                (comment.id,),
            )
            groups, weighed = int(rows[0][0]), float(rows[0][1])
            count = int(
                (
                    await self._all(
                        db,
                        "SELECT COUNT(*) FROM comment_reports WHERE comment_id = ?",
                        (comment.id,),
                    )
                )[0][0]
            )
            # Above a weight of 1, at least two network blocks: never one place alone.
            if hide_at is None or weighed + 1e-9 < hide_at or groups < (2 if hide_at > 1 else 1):
                return count, Change([])
            if not await self.comments.set_status_in(db, [comment.id], "held", ("visible",)):
                return count, Change([])
            entry = await self._audit(
                db,
                SYSTEM,
                "auto_hide",
                broadcast_id=comment.broadcast_id,
                comment=comment,
                reason=Reason.REPORTS,
                detail={"reporters": count, "networks": groups, "weight": round(weighed, 2)},
                now=now,
            )
        return count, Change([entry], [replace(comment, status=CommentStatus.HELD)])

    async def report_counts(self, comment_ids: list[int]) -> dict[int, dict[str, int]]:
        """Reasons reported, per comment: {comment_id: {reason: reporters}}."""
        if not comment_ids:
            return {}
        marks = ",".join("?" * len(comment_ids))
        rows = await self._fetch(
            f"SELECT comment_id, reason, COUNT(*) FROM comment_reports WHERE comment_id IN"
            f" ({marks}) GROUP BY comment_id, reason",
            comment_ids,
        )
        out: dict[int, dict[str, int]] = {}
        for comment_id, reason, count in rows:
            out.setdefault(int(comment_id), {})[reason] = int(count)
        return out

    # -- appeals -----------------------------------------------------------------------
    async def appeal_for(self, comment_id: int) -> Appeal | None:
        rows = await self._fetch(
            f"SELECT {_APPEAL_COLUMNS} FROM appeals WHERE comment_id = ?", (comment_id,)
        )
        return Appeal(*rows[0]) if rows else None

    async def appeal(self, appeal_id: int) -> Appeal | None:
        rows = await self._fetch(
            f"SELECT {_APPEAL_COLUMNS} FROM appeals WHERE id = ?", (appeal_id,)
        )
        return Appeal(*rows[0]) if rows else None

    async def appeals(self, broadcast_id: int, status: str | None = None) -> list[Appeal]:
        if status is None:
            rows = await self._fetch(
                f"SELECT {_APPEAL_COLUMNS} FROM appeals WHERE broadcast_id = ? ORDER BY id",
                (broadcast_id,),
            )
        else:
            rows = await self._fetch(
                f"SELECT {_APPEAL_COLUMNS} FROM appeals WHERE broadcast_id = ? AND status = ?"
                " ORDER BY id",
                (broadcast_id, status),
            )
        return [Appeal(*r) for r in rows]

    async def add_appeal(
        self, comment: Comment, author: Identity, text: str
    ) -> tuple[Appeal, AuditEntry]:
        now = await now_text(self.db)
        async with self.db.transaction() as db:
            status = await self._all(db, "SELECT status FROM comments WHERE id = ?", (comment.id,))
            if not status or status[0][0] != "removed":
                raise Conflict("comment_id", "only a removed comment can be appealed")
            try:
                rows = await self._all(
                    db,
                    "INSERT INTO appeals (comment_id, broadcast_id, author_key, text,"
                    f" created_at) VALUES (?, ?, ?, ?, ?) RETURNING {_APPEAL_COLUMNS}",
                    (comment.id, comment.broadcast_id, author.key, text, now),
                )
            except UniqueViolation:
                raise Conflict("comment_id", "this removal has already been appealed") from None
            appeal = Appeal(*rows[0])
            entry = await self._audit(
                db,
                author,
                "appeal",
                broadcast_id=comment.broadcast_id,
                comment=comment,
                reason_text=text,
                detail={"appeal_id": appeal.id},
                now=now,
            )
        return appeal, entry

    async def decide_appeal(
        self, actor: Identity, appeal_id: int, reinstate: bool, note: str
    ) -> tuple[Appeal, Change]:
        """Uphold the removal or reinstate the comment; log the outcome."""
        now = await now_text(self.db)
        outcome = "reinstated" if reinstate else "upheld"
        async with self.db.transaction() as db:
            rows = await self._all(
                db,
                "UPDATE appeals SET status = ?, decided_at = ?, decided_by = ?, note = ?"
                f" WHERE id = ? AND status = 'open' RETURNING {_APPEAL_COLUMNS}",
                (outcome, now, actor.name, note, appeal_id),
            )
            if not rows:
                raise Conflict("appeal_id", f"no open appeal {appeal_id}")
            appeal = Appeal(*rows[0])
            comment = await self.comments.get_in(db, appeal.comment_id)
            assert comment is not None
            changed: list[Comment] = []
            if reinstate and comment.status == "removed":
                await self.comments.set_status_in(db, [comment.id], "visible", ("removed",))
                await db.execute("DELETE FROM comment_removals WHERE comment_id = ?", (comment.id,))
                changed.append(replace(comment, status=CommentStatus.VISIBLE))
            entry = await self._audit(
                db,
                actor,
                "appeal_reinstate" if reinstate else "appeal_uphold",
                broadcast_id=appeal.broadcast_id,
                comment=comment,
                reason_text=note,
                detail={"appeal_id": appeal.id},
                now=now,
            )
        return appeal, Change([entry], changed)

    async def reshown_among_latest(
        self, broadcast_id: int, upto: int, window: int
    ) -> list[Comment]:
        """Visible comments among the last `window` with id <= `upto` that a moderator
        put back (restored, approved, reinstated on appeal), oldest first."""
        rows = await self._fetch(
            f"SELECT {_COLUMNS} FROM comments WHERE id IN (SELECT id FROM comments"
            " WHERE broadcast_id = ? AND id <= ? ORDER BY id DESC LIMIT ?)"
            " AND status = 'visible' AND EXISTS (SELECT 1 FROM moderation_actions AS a"
            " WHERE a.comment_id = comments.id"
            " AND a.action IN ('restore', 'approve', 'appeal_reinstate'))"
            " ORDER BY id",
            (broadcast_id, upto, window),
        )
        return [_comment(r) for r in rows]

    # -- audit and transparency --------------------------------------------------------
    async def search_audit(
        self,
        *,
        query: str = "",
        action: str = "",
        broadcast_id: int | None = None,
        since: str = "",
        until: str = "",
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """Newest first. `query` matches actor, author, reason text and comment text."""
        where: list[str] = ["id < ?"]
        params: list[Any] = [before_id or 2**62]
        if query:
            like = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            # SQLite's LIKE ignores ASCII case; PostgreSQL's ILIKE does the same here.
            like_op = "LIKE" if self.db.engine == "sqlite" else "ILIKE"
            likes = [
                f"{column} {like_op} ? ESCAPE '\\'"
                for column in ("actor_name", "target_name", "reason_text", "comment_text")
            ]
            where.append(
                "(" + " OR ".join([*likes, "reason = ?", f"detail {like_op} ? ESCAPE '\\'"]) + ")"
            )
            params += [like, like, like, like, query, like]
        if action:
            where.append("action = ?")
            params.append(action)
        if broadcast_id is not None:
            where.append("broadcast_id = ?")
            params.append(broadcast_id)
        if since:
            where.append("created_at >= ?")
            params.append(since)
        if until:
            where.append("created_at < ?")
            params.append(until)
        rows = await self._fetch(
            f"SELECT {_AUDIT_COLUMNS} FROM moderation_actions WHERE {' AND '.join(where)}"
            " ORDER BY id DESC LIMIT ?",
            (*params, limit),
        )
        return [_audit_row(r) for r in rows]

    async def transparency(self, broadcast_id: int) -> dict[str, Any]:
        """Counts only, for the public page: nothing names a person or quotes a comment."""
        removed = await self._fetch(
            "SELECT r.reason, COUNT(*) FROM comment_removals r JOIN comments c"
            " ON c.id = r.comment_id WHERE r.broadcast_id = ? AND c.status = 'removed'"
            " GROUP BY r.reason",
            (broadcast_id,),
        )
        actions = await self._fetch(
            "SELECT action, COUNT(*) FROM moderation_actions WHERE broadcast_id = ?"
            " GROUP BY action",
            (broadcast_id,),
        )
        appeals = await self._fetch(
            "SELECT status, COUNT(*) FROM appeals WHERE broadcast_id = ? GROUP BY status",
            (broadcast_id,),
        )
        totals = await self._fetch(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE status = 'held') FROM comments"
            " WHERE broadcast_id = ?",
            (broadcast_id,),
        )
        by_action = {a: int(n) for a, n in actions}
        return {
            "broadcast_id": broadcast_id,
            "comments": int(totals[0][0] or 0),
            "removed_by_reason": {r: int(n) for r, n in removed},
            "removed": sum(int(n) for _, n in removed),
            "held_pending": int(totals[0][1] or 0),
            "held_approved": by_action.get("approve", 0),
            "held_rejected": by_action.get("reject", 0),
            "hidden_by_reports": by_action.get("auto_hide", 0),
            "timeouts": by_action.get("timeout", 0),
            "bans": by_action.get("ban", 0),
            "appeals": {s: int(n) for s, n in appeals},
        }
