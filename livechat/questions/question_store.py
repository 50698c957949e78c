"""Question persistence: every SQL statement of the question track lives here.

Writes go through one writer connection under `BEGIN IMMEDIATE`. A status change or an
answer reads the question, applies the pure rules of `livechat.questions` and writes the
new state with its `question_events` row inside that one transaction, so two officials
acting at once (on any process) can never both move a question from the same status. A
live answer's chat comment is inserted in the same transaction as the answer itself.

Every read joins `comments` and shows a question only while its comment is `visible`:
moderation of the comment is moderation of the question.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

import aiosqlite

from livechat.identity import Identity
from livechat.questions import (
    Answer,
    Question,
    Tally,
    after_answer,
    check_owner,
    check_transition,
    require_answerer,
)
from livechat.store import utc_now_iso, write_transaction
from livechat.text import CommentRejected

_SELECT = (
    "SELECT q.comment_id, q.broadcast_id, c.text, c.author_name, c.role, c.created_at,"
    " q.asker_key, q.status, q.status_note, q.department, q.votes, q.version, q.updated_at,"
    " c.status, q.answer_text, q.answered_by, q.answer_role, q.answer_department,"
    " q.answered_at, q.answer_comment_id, c.author_mark"
    " FROM questions q JOIN comments c ON c.id = q.comment_id"
)
_LAST_EVENT = (
    "COALESCE((SELECT MAX(e.id) FROM question_events e WHERE e.comment_id = q.comment_id), 0)"
)
ADOPT_WINDOW = 100_000  # how many recent comments `adopt_orphans` looks through


def _question(row: Any) -> Question:
    answer = None
    if row[18] is not None:
        answer = Answer(text=row[14], author=row[15], role=row[16], department=row[17],
                        at=row[18], comment_id=row[19])
    return Question(
        id=row[0], broadcast_id=row[1], text=row[2], author=row[3], role=row[4],
        created_at=row[5], asker_key=row[6], status=row[7], status_note=row[8],
        department=row[9], votes=row[10], version=row[11], updated_at=row[12],
        comment_status=row[13], answer=answer, mark=row[20],
    )


def answer_flags(question_id: int) -> str:
    """Flags of a live answer's comment: `answer` and `re:<question id>`."""
    return f"answer,re:{question_id}"


@dataclass(frozen=True)
class Event:
    id: int
    comment_id: int
    from_status: str
    to_status: str
    note: str
    department: str
    actor_name: str
    actor_role: str
    kind: str
    at: str

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "question_id": self.comment_id, "from": self.from_status,
                "to": self.to_status, "note": self.note, "department": self.department,
                "by": self.actor_name, "role": self.actor_role, "kind": self.kind,
                "at": self.at}


@dataclass(frozen=True)
class Notification:
    question: Question
    last_seen_status: str
    events: tuple[Event, ...]

    def public(self) -> dict[str, Any]:
        return {"question": self.question.public(), "previous_status": self.last_seen_status,
                "events": [e.public() for e in self.events]}


_EVENT_COLUMNS = (
    "id, comment_id, from_status, to_status, note, department, actor_name, actor_role,"
    " kind, at"
)


class QuestionStore:
    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self._writer = writer
        self._reader = reader
        self._lock = asyncio.Lock()

    def _transaction(self) -> contextlib.AbstractAsyncContextManager[aiosqlite.Connection]:
        return write_transaction(self._writer, self._lock)

    async def _fetch(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        return list(await self._reader.execute_fetchall(sql, params))

    @staticmethod
    async def _one(conn: aiosqlite.Connection, sql: str, params: tuple[Any, ...]) -> Any:
        cursor = await conn.execute(sql, params)
        row = await cursor.fetchone()
        await cursor.close()
        return row

    # -- asking ------------------------------------------------------------------------
    async def create(self, comment_id: int, broadcast_id: int, asker_key: str,
                     asked_at: str) -> bool:
        """Record that comment `comment_id` is a question; its asker follows it. Idempotent."""
        async with self._transaction() as db:
            cursor = await db.execute(
                "INSERT INTO questions (comment_id, broadcast_id, asker_key, updated_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (comment_id) DO NOTHING",
                (comment_id, broadcast_id, asker_key, asked_at),
            )
            created = cursor.rowcount == 1
            await cursor.close()
            if created:
                await db.execute(
                    "INSERT OR IGNORE INTO question_follows (session_key, comment_id,"
                    " last_seen_status, last_seen_event, followed_at) VALUES (?, ?, 'open', 0, ?)",
                    (asker_key, comment_id, asked_at),
                )
        return created

    async def adopt_orphans(self) -> int:
        """Create the rows of recent question comments that have none (a process died
        between storing the comment and recording the question); return how many."""
        async with self._transaction() as db:
            cursor = await db.execute(
                "INSERT INTO questions (comment_id, broadcast_id, asker_key, updated_at)"
                " SELECT c.id, c.broadcast_id, c.author_key, c.created_at FROM comments c"
                " WHERE c.id > (SELECT COALESCE(MAX(id), 0) FROM comments) - ?"
                " AND (',' || c.flags || ',') LIKE '%,question,%'"
                " AND NOT EXISTS (SELECT 1 FROM questions q WHERE q.comment_id = c.id)",
                (ADOPT_WINDOW,),
            )
            adopted = cursor.rowcount
            await cursor.close()
        return max(adopted, 0)

    # -- reading -----------------------------------------------------------------------
    async def get(self, question_id: int) -> Question | None:
        """The question with its comment status (visible or not)."""
        rows = await self._fetch(_SELECT + " WHERE q.comment_id = ?", (question_id,))
        return _question(rows[0]) if rows else None

    async def of_broadcast(self, broadcast_id: int, sort: str = "votes",
                   limit: int = 1000) -> list[Question]:
        """Visible questions of a broadcast: by votes (then oldest) or newest first."""
        order = "q.comment_id DESC" if sort == "time" else "q.votes DESC, q.comment_id"
        rows = await self._fetch(
            _SELECT + " WHERE q.broadcast_id = ? AND c.status = 'visible'"
            f" ORDER BY {order} LIMIT ?",
            (broadcast_id, limit),
        )
        return [_question(r) for r in rows]

    async def voted(self, broadcast_id: int, voter_key: str) -> set[int]:
        rows = await self._fetch(
            "SELECT v.comment_id FROM question_votes v JOIN questions q"
            " ON q.comment_id = v.comment_id WHERE q.broadcast_id = ? AND v.voter_key = ?",
            (broadcast_id, voter_key),
        )
        return {int(r[0]) for r in rows}

    async def followed(self, broadcast_id: int, session_key: str) -> set[int]:
        rows = await self._fetch(
            "SELECT f.comment_id FROM question_follows f JOIN questions q"
            " ON q.comment_id = f.comment_id WHERE q.broadcast_id = ? AND f.session_key = ?",
            (broadcast_id, session_key),
        )
        return {int(r[0]) for r in rows}

    async def vote_count(self, question_id: int) -> int:
        rows = await self._fetch(
            "SELECT COUNT(*) FROM question_votes WHERE comment_id = ?", (question_id,)
        )
        return int(rows[0][0])

    async def events(self, question_id: int) -> list[Event]:
        rows = await self._fetch(
            f"SELECT {_EVENT_COLUMNS} FROM question_events WHERE comment_id = ? ORDER BY id",
            (question_id,),
        )
        return [Event(*r) for r in rows]

    async def broadcast_events(self, broadcast_id: int) -> list[Event]:
        rows = await self._fetch(
            f"SELECT {_EVENT_COLUMNS} FROM question_events WHERE broadcast_id = ? ORDER BY id",
            (broadcast_id,),
        )
        return [Event(*r) for r in rows]

    async def tallies(self, broadcast_id: int | None = None) -> dict[int, Tally]:
        """Per broadcast: visible questions counted by status, and those with an answer."""
        where: str = ""
        params: tuple[int, ...] = ()
        if broadcast_id is not None:
            where, params = " AND q.broadcast_id = ?", (broadcast_id,)
        rows = await self._fetch(
            "SELECT q.broadcast_id, q.status, q.answer_text <> '', COUNT(*) FROM questions q"
            f" JOIN comments c ON c.id = q.comment_id WHERE c.status = 'visible'{where}"
            " GROUP BY 1, 2, 3",
            params,
        )
        tallies: dict[int, Tally] = {}
        for bid, status, answered, count in rows:
            tallies.setdefault(int(bid), Tally()).add(str(status), int(count),
                                                      answered=bool(answered))
        return tallies

    async def departments(self) -> list[str]:
        """Every department a question was forwarded to or answered from, A–Z."""
        rows = await self._fetch(
            "SELECT department FROM questions WHERE department <> '' UNION"
            " SELECT answer_department FROM questions WHERE answer_department <> ''"
            " ORDER BY 1", ())
        return [str(r[0]) for r in rows]

    # -- votes -------------------------------------------------------------------------
    async def vote(self, question_id: int, voter_key: str, up: bool) -> tuple[bool, Question]:
        """Add (`up`) or withdraw a vote; return (changed, question after).

        The (question, voter) primary key makes a vote count once however many processes
        receive it at the same moment; the count changes in the same transaction.
        """
        now = utc_now_iso()
        async with self._transaction() as db:
            if up:
                cursor = await db.execute(
                    "INSERT INTO question_votes (comment_id, voter_key, voted_at) VALUES"
                    " (?, ?, ?) ON CONFLICT (comment_id, voter_key) DO NOTHING",
                    (question_id, voter_key, now),
                )
            else:
                cursor = await db.execute(
                    "DELETE FROM question_votes WHERE comment_id = ? AND voter_key = ?",
                    (question_id, voter_key),
                )
            changed = cursor.rowcount == 1
            await cursor.close()
            if changed:
                await db.execute(
                    "UPDATE questions SET votes = votes + ?, version = version + 1"
                    " WHERE comment_id = ?",
                    (1 if up else -1, question_id),
                )
            row = await self._one(db, _SELECT + " WHERE q.comment_id = ?", (question_id,))
        return changed, _question(row)

    # -- status and answers ------------------------------------------------------------
    async def _current(self, db: aiosqlite.Connection, question_id: int) -> Question:
        row = await self._one(db, _SELECT + " WHERE q.comment_id = ?", (question_id,))
        if row is None or row[13] != "visible":
            raise CommentRejected("not_found", f"no question {question_id}")
        return _question(row)

    async def _event(self, db: aiosqlite.Connection, question: Question, to_status: str,
                     note: str, department: str, actor: Identity, kind: str, at: str) -> None:
        await db.execute(
            "INSERT INTO question_events (comment_id, broadcast_id, from_status, to_status,"
            " note, department, actor_key, actor_name, actor_role, kind, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (question.id, question.broadcast_id, question.status, to_status, note,
             department, actor.key, actor.name, actor.role, kind, at),
        )

    async def set_status(self, question_id: int, actor: Identity, target: str, note: str,
                         department: str) -> Question:
        """Move a question to `target` with a public note (rules checked in the transaction).

        Raises `CommentRejected` (not_found, forbidden, bad_transition, no_change, …).
        """
        now = utc_now_iso()
        async with self._transaction() as db:
            current = await self._current(db, question_id)
            check_transition(actor.role, current.status, target)
            check_owner(actor.role, actor.department, current.status, current.department)
            department = department or current.department
            await db.execute(
                "UPDATE questions SET status = ?, status_note = ?, department = ?,"
                " version = version + 1, updated_at = ? WHERE comment_id = ?",
                (target, note, department, now, question_id),
            )
            await self._event(db, current, target, note, department, actor, "status", now)
            row = await self._one(db, _SELECT + " WHERE q.comment_id = ?", (question_id,))
        return _question(row)

    async def answer(self, question_id: int, broadcast_id: int, actor: Identity, text: str,
                     live_client_id: str | None) -> tuple[Question, int | None]:
        """Record an answer; with `live_client_id`, also post it as a chat comment (same
        transaction). Returns the question after and the new comment's id (None when
        written, or when this live answer was already stored: a retry changes nothing)."""
        now = utc_now_iso()
        async with self._transaction() as db:
            current = await self._current(db, question_id)
            require_answerer(actor.role)
            check_owner(actor.role, actor.department, current.status, current.department)
            if current.broadcast_id != broadcast_id:
                raise CommentRejected("not_found", f"no question {question_id} here")
            comment_id: int | None = None
            if live_client_id is not None:
                row = await self._one(
                    db,
                    "INSERT INTO comments (broadcast_id, author_key, author_name, role,"
                    " department, client_id, text, created_at, video_offset, status, flags)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, 'visible', ?)"
                    " ON CONFLICT (broadcast_id, author_key, client_id) DO NOTHING RETURNING id",
                    (current.broadcast_id, actor.key, actor.name, actor.role,
                     actor.department, live_client_id, text, now, answer_flags(question_id)),
                )
                if row is None:
                    return current, None
                comment_id = int(row[0])
            target = after_answer(current.status)
            department = current.department or actor.department
            await db.execute(
                "UPDATE questions SET status = ?, department = ?, answered_by = ?,"
                " answered_by_key = ?, answer_role = ?, answer_department = ?,"
                " answer_text = ?, answer_comment_id = ?, answered_at = ?,"
                " version = version + 1, updated_at = ? WHERE comment_id = ?",
                (target, department, actor.name, actor.key, actor.role, actor.department,
                 text, comment_id, now, now, question_id),
            )
            await self._event(db, current, target, "", actor.department, actor, "answer", now)
            row = await self._one(db, _SELECT + " WHERE q.comment_id = ?", (question_id,))
        return _question(row), comment_id

    # -- follows and notifications -----------------------------------------------------
    async def follow(self, session_key: str, question_id: int) -> bool:
        """Follow from now on (changes before this moment are not news); idempotent."""
        async with self._transaction() as db:
            cursor = await db.execute(
                "INSERT INTO question_follows (session_key, comment_id, last_seen_status,"
                f" last_seen_event, followed_at) SELECT ?, q.comment_id, q.status, {_LAST_EVENT},"
                " ? FROM questions q WHERE q.comment_id = ?"
                " ON CONFLICT (session_key, comment_id) DO NOTHING",
                (session_key, utc_now_iso(), question_id),
            )
            created = cursor.rowcount == 1
            await cursor.close()
        return created

    async def unfollow(self, session_key: str, question_id: int) -> bool:
        async with self._transaction() as db:
            cursor = await db.execute(
                "DELETE FROM question_follows WHERE session_key = ? AND comment_id = ?",
                (session_key, question_id),
            )
            removed = cursor.rowcount == 1
            await cursor.close()
        return removed

    async def notifications(self, session_key: str, limit: int = 50) -> list[Notification]:
        """Followed, visible questions that changed since the session last looked."""
        rows = await self._fetch(
            "SELECT q.comment_id, f.last_seen_status, f.last_seen_event"
            " FROM question_follows f JOIN questions q ON q.comment_id = f.comment_id"
            " JOIN comments c ON c.id = q.comment_id"
            f" WHERE f.session_key = ? AND c.status = 'visible' AND {_LAST_EVENT}"
            " > f.last_seen_event ORDER BY q.updated_at DESC LIMIT ?",
            (session_key, limit),
        )
        found = []
        for question_id, seen_status, seen_event in rows:
            question = await self.get(int(question_id))
            if question is None:
                continue
            events = [e for e in await self.events(question.id) if e.id > seen_event]
            found.append(Notification(question, str(seen_status), tuple(events)))
        return found

    async def mark_seen(self, session_key: str, question_ids: list[int] | None = None) -> int:
        """Mark followed questions (all, or those listed) as seen now; return how many."""
        where: str = ""
        params: tuple[int, ...] = ()
        if question_ids is not None:
            if not question_ids:
                return 0
            where = f" AND comment_id IN ({','.join('?' * len(question_ids))})"
            params = tuple(question_ids)
        async with self._transaction() as db:
            cursor = await db.execute(
                "UPDATE question_follows SET"
                " last_seen_status = (SELECT status FROM questions q"
                "   WHERE q.comment_id = question_follows.comment_id),"
                " last_seen_event = COALESCE((SELECT MAX(e.id) FROM question_events e"
                "   WHERE e.comment_id = question_follows.comment_id), 0)"
                f" WHERE session_key = ?{where}",
                (session_key, *params),
            )
            changed = cursor.rowcount
            await cursor.close()
        return max(changed, 0)
