"""Question persistence: every SQL statement of the question track lives here.

The one store that writes the question tables. A question's row is written inside the
transaction that stores its comment (`record_in`, a `CommentStore` insert hook), so there
is never a question comment without its row. A status change or an answer reads the
question (`SELECT … FOR UPDATE` on PostgreSQL; SQLite's single writer serialises anyway),
applies the pure rules of `livechat.questions` and writes the new state with its
`question_events` row inside that one transaction, so two officials acting at once (on any
process or host) can never both move a question from the same status. A live answer's chat
comment is inserted by `CommentStore.insert_in` in the same transaction as the answer,
under the broadcast's comment lock.

Every read joins `comments` and shows a question only while its comment is `visible`:
moderation of the comment is moderation of the question.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from db import Database, Executor, Row, Transaction, now_text
from livechat.comment import Comment
from livechat.identity import Identity
from livechat.questions.questions import (
    Answer,
    Question,
    Tally,
    after_answer,
    check_owner,
    check_transition,
    require_answerer,
)
from livechat.store import CommentStore, NewComment, comment_lock
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


def _question(row: Row) -> Question:
    answer = None
    if row[18] is not None:
        answer = Answer(
            text=row[14],
            author=row[15],
            role=row[16],
            department=row[17],
            at=row[18],
            comment_id=row[19],
        )
    return Question(
        id=row[0],
        broadcast_id=row[1],
        text=row[2],
        author=row[3],
        role=row[4],
        created_at=row[5],
        asker_key=row[6],
        status=row[7],
        status_note=row[8],
        department=row[9],
        votes=row[10],
        version=row[11],
        updated_at=row[12],
        comment_status=row[13],
        answer=answer,
        mark=row[20],
    )


ANSWER_FLAGS = "answer"  # a live answer's comment; its `reply_to` is the question


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
        return {
            "id": self.id,
            "question_id": self.comment_id,
            "from": self.from_status,
            "to": self.to_status,
            "note": self.note,
            "department": self.department,
            "by": self.actor_name,
            "role": self.actor_role,
            "kind": self.kind,
            "at": self.at,
        }


@dataclass(frozen=True)
class Notification:
    question: Question
    last_seen_status: str
    events: tuple[Event, ...]

    def public(self) -> dict[str, Any]:
        return {
            "question": self.question.public(),
            "previous_status": self.last_seen_status,
            "events": [e.public() for e in self.events],
        }


_EVENT_COLUMNS = (
    "id, comment_id, from_status, to_status, note, department, actor_name, actor_role, kind, at"
)


class QuestionStore:
    """The question tables; a live answer's comment through `comments` (its one writer)."""

    def __init__(self, db: Database, comments: CommentStore) -> None:
        self.db = db
        self.comments = comments

    async def _fetch(self, sql: str, params: tuple[Any, ...] = ()) -> list[Row]:
        return await self.db.fetch(sql, params)

    @staticmethod
    async def _one(db: Executor, sql: str, params: tuple[Any, ...]) -> Row | None:
        return await db.fetchone(sql, params)

    # -- asking ------------------------------------------------------------------------
    async def record_in(self, tx: Transaction, comment: Comment) -> None:
        """A `CommentStore` insert hook: a new comment flagged `question` gets its row, and
        its asker follows it, in the comment's own transaction."""
        if "question" not in comment.flag_set:
            return
        await tx.execute(
            "INSERT INTO questions (comment_id, broadcast_id, asker_key, updated_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (comment_id) DO NOTHING",
            (comment.id, comment.broadcast_id, comment.author_key, comment.created_at),
        )
        await tx.execute(
            "INSERT INTO question_follows (session_key, comment_id, last_seen_status,"
            " last_seen_event, followed_at) VALUES (?, ?, 'open', 0, ?)"
            " ON CONFLICT (session_key, comment_id) DO NOTHING",
            (comment.author_key, comment.id, comment.created_at),
        )

    # -- reading -----------------------------------------------------------------------
    async def get(self, question_id: int) -> Question | None:
        """The question with its comment status (visible or not)."""
        rows = await self._fetch(_SELECT + " WHERE q.comment_id = ?", (question_id,))
        return _question(rows[0]) if rows else None

    async def of_broadcast(
        self, broadcast_id: int, sort: str = "votes", limit: int = 1000
    ) -> list[Question]:
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
            tallies.setdefault(int(bid), Tally()).add(
                str(status), int(count), answered=bool(answered)
            )
        return tallies

    async def departments(self) -> list[str]:
        """Every department a question was forwarded to or answered from, A–Z."""
        rows = await self._fetch(
            "SELECT department FROM questions WHERE department <> '' UNION"
            " SELECT answer_department FROM questions WHERE answer_department <> ''"
            " ORDER BY 1",
            (),
        )
        return [str(r[0]) for r in rows]

    # -- votes -------------------------------------------------------------------------
    async def vote(self, question_id: int, voter_key: str, up: bool) -> tuple[bool, Question]:
        """Add (`up`) or withdraw a vote; return (changed, question after).

        The (question, voter) primary key makes a vote count once however many processes
        receive it at the same moment; the count changes in the same transaction.
        """
        async with self.db.transaction() as db:
            if up:
                count = await db.execute(
                    "INSERT INTO question_votes (comment_id, voter_key, voted_at) VALUES"
                    f" (?, ?, {self.db.now_sql}) ON CONFLICT (comment_id, voter_key) DO NOTHING",
                    (question_id, voter_key),
                )
            else:
                count = await db.execute(
                    "DELETE FROM question_votes WHERE comment_id = ? AND voter_key = ?",
                    (question_id, voter_key),
                )
            changed = count == 1
            if changed:
                await db.execute(
                    "UPDATE questions SET votes = votes + ?, version = version + 1"
                    " WHERE comment_id = ?",
                    (1 if up else -1, question_id),
                )
            row = await self._one(db, _SELECT + " WHERE q.comment_id = ?", (question_id,))
        assert row is not None
        return changed, _question(row)

    # -- status and answers ------------------------------------------------------------
    async def _current(self, db: Transaction, question_id: int) -> Question:
        """The question, locked until the transaction ends (PostgreSQL: other hosts'
        transitions of it wait; SQLite: the transaction already has the only writer)."""
        lock = "" if self.db.engine == "sqlite" else " FOR UPDATE OF q"
        row = await self._one(db, _SELECT + " WHERE q.comment_id = ?" + lock, (question_id,))
        if row is None or row[13] != "visible":
            raise CommentRejected("not_found", f"no question {question_id}")
        return _question(row)

    async def _event(
        self,
        db: Transaction,
        question: Question,
        to_status: str,
        note: str,
        department: str,
        actor: Identity,
        kind: str,
        at: str,
    ) -> None:
        await db.execute(
            "INSERT INTO question_events (comment_id, broadcast_id, from_status, to_status,"
            " note, department, actor_key, actor_name, actor_role, kind, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                question.id,
                question.broadcast_id,
                question.status,
                to_status,
                note,
                department,
                actor.key,
                actor.name,
                actor.role,
                kind,
                at,
            ),
        )

    async def set_status(
        self, question_id: int, actor: Identity, target: str, note: str, department: str
    ) -> Question:
        """Move a question to `target` with a public note (rules checked in the transaction).

        Raises `CommentRejected` (not_found, forbidden, bad_transition, no_change, …).
        """
        now = await now_text(self.db)
        async with self.db.transaction() as db:
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
        assert row is not None
        return _question(row)

    async def answer(
        self,
        question_id: int,
        broadcast_id: int,
        actor: Identity,
        text: str,
        live_client_id: str | None,
    ) -> tuple[Question, int | None]:
        """Record an answer; with `live_client_id`, also post it as a chat comment (same
        transaction). Returns the question after and the new comment's id (None when
        written, or when this live answer was already stored: a retry changes nothing)."""
        now = await now_text(self.db)
        async with self.db.transaction(lock=comment_lock(broadcast_id)) as db:
            current = await self._current(db, question_id)
            require_answerer(actor.role)
            check_owner(actor.role, actor.department, current.status, current.department)
            if current.broadcast_id != broadcast_id:
                raise CommentRejected("not_found", f"no question {question_id} here")
            comment_id: int | None = None
            if live_client_id is not None:
                comment, created = await self.comments.insert_in(
                    db,
                    NewComment(
                        broadcast_id,
                        actor,
                        live_client_id,
                        text,
                        flags=ANSWER_FLAGS,
                        created_at=now,
                        reply_to=question_id,
                    ),
                )
                if not created:
                    return current, None
                comment_id = comment.id
            target = after_answer(current.status)
            department = current.department or actor.department
            await db.execute(
                "UPDATE questions SET status = ?, department = ?, answered_by = ?,"
                " answered_by_key = ?, answer_role = ?, answer_department = ?,"
                " answer_text = ?, answer_comment_id = ?, answered_at = ?,"
                " version = version + 1, updated_at = ? WHERE comment_id = ?",
                (
                    target,
                    department,
                    actor.name,
                    actor.key,
                    actor.role,
                    actor.department,
                    text,
                    comment_id,
                    now,
                    now,
                    question_id,
                ),
            )
            await self._event(db, current, target, "", actor.department, actor, "answer", now)
            row = await self._one(db, _SELECT + " WHERE q.comment_id = ?", (question_id,))
        assert row is not None
        return _question(row), comment_id

    # -- follows and notifications -----------------------------------------------------
    async def follow(self, session_key: str, question_id: int) -> bool:
        """Follow from now on (changes before this moment are not news); idempotent."""
        async with self.db.transaction() as db:
            count = await db.execute(
                "INSERT INTO question_follows (session_key, comment_id, last_seen_status,"
                " last_seen_event, followed_at) SELECT CAST(? AS TEXT), q.comment_id, q.status,"
                f" {_LAST_EVENT}, {self.db.now_sql} FROM questions q WHERE q.comment_id = ?"
                " ON CONFLICT (session_key, comment_id) DO NOTHING",
                (session_key, question_id),
            )
        return count == 1

    async def unfollow(self, session_key: str, question_id: int) -> bool:
        count = await self.db.execute(
            "DELETE FROM question_follows WHERE session_key = ? AND comment_id = ?",
            (session_key, question_id),
        )
        return count == 1

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
        changed = await self.db.execute(
            "UPDATE question_follows SET"
            " last_seen_status = (SELECT status FROM questions q"
            "   WHERE q.comment_id = question_follows.comment_id),"
            " last_seen_event = COALESCE((SELECT MAX(e.id) FROM question_events e"
            "   WHERE e.comment_id = question_follows.comment_id), 0)"
            f" WHERE session_key = ?{where}",
            (session_key, *params),
        )
        return max(changed, 0)
