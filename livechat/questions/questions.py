"""Citizen questions as pure rules: statuses, who may change them, votes, order, tally.

A question is a comment flagged `question`. Its life is a small state machine:

    open ──► forwarded | will_reflect | not_in_remit      (and ──► answered by answering)
    forwarded ──► will_reflect | not_in_remit             (and ──► answered by answering)
    answered ──► will_reflect | forwarded
    not_in_remit ──► forwarded
    (any but open) ──► open        moderators and admins only (correcting a mistake)

Officials, moderators and admins make the moves; viewers never. A question forwarded to
a department is that department's: only its officials (and moderators and admins) answer
it or move it on (`check_owner`). Answering is its own
action (`after_answer`), the only way to `answered`: it records an answer and moves the
question there, except that a question already promised to be reflected in policy keeps that
status. A status change never says "answered" without an answer, and the tally counts
questions with a real answer (`Tally.answers`).

Votes: one per viewer identity and question, undone freely; nobody votes for their own
question. Nothing here does I/O; every rule raises `CommentRejected` with a stable code, so
the WebSocket layer turns it into an `error` frame and HTTP into a 4xx.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from livechat.comment import CommentStatus
from livechat.identity import MODERATORS, Role
from livechat.text import CommentRejected, clean_text, grapheme_count, has_visible


class QuestionStatus(StrEnum):
    """Where a question stands (the state machine above)."""

    OPEN = "open"
    ANSWERED = "answered"
    FORWARDED = "forwarded"
    WILL_REFLECT = "will_reflect"
    NOT_IN_REMIT = "not_in_remit"


STATUSES: tuple[QuestionStatus, ...] = tuple(QuestionStatus)

ANSWERERS = frozenset({Role.OFFICIAL, Role.MODERATOR, Role.ADMIN})
REOPENERS = MODERATORS

_S = QuestionStatus
TRANSITIONS: dict[QuestionStatus, frozenset[QuestionStatus]] = {
    _S.OPEN: frozenset({_S.FORWARDED, _S.WILL_REFLECT, _S.NOT_IN_REMIT}),
    _S.FORWARDED: frozenset({_S.WILL_REFLECT, _S.NOT_IN_REMIT}),
    _S.ANSWERED: frozenset({_S.WILL_REFLECT, _S.FORWARDED}),
    _S.NOT_IN_REMIT: frozenset({_S.FORWARDED}),
    _S.WILL_REFLECT: frozenset(),
}

NOTE_MAX = 200
DEPARTMENT_MAX = 60
ANSWER_MAX = 2000
SORTS = ("votes", "time")
VOTE_BURST = 10  # votes and unvotes one identity may cast at once...
VOTES_PER_MINUTE = 30.0  # ...and then per minute: flipping a vote cannot flood every page
VOTES_PER_ADDRESS = 10  # votes on one question a day from one address, whatever its cookies
VOTES_PER_NETWORK = 30  # ...and from one network block (IPv4 /24, IPv6 /64)


def require_answerer(role: Role | None) -> None:
    """Raise `forbidden` unless `role` may answer and change statuses."""
    if role not in ANSWERERS:
        raise CommentRejected("forbidden", "only city officials and moderators may do this")


def allowed_moves(role: Role | None, current: QuestionStatus) -> frozenset[QuestionStatus]:
    """The statuses `role` may move a question in `current` to."""
    if role not in ANSWERERS:
        return frozenset()
    moves = TRANSITIONS.get(current, frozenset())
    if current != QuestionStatus.OPEN and role in REOPENERS:
        moves = moves | {QuestionStatus.OPEN}
    return moves


def check_transition(role: Role, current: QuestionStatus, target: str) -> None:
    """Raise unless `role` may move a question from `current` to `target`."""
    if target not in STATUSES:
        raise CommentRejected("bad_status", f"status must be one of {', '.join(STATUSES)}")
    require_answerer(role)
    if target == current:
        raise CommentRejected("no_change", f"the question is already {current}")
    if target == QuestionStatus.ANSWERED:
        raise CommentRejected(
            "answer_required", "a question becomes answered by answering it, not by its status"
        )
    if target not in allowed_moves(role, current):
        if target == QuestionStatus.OPEN:
            raise CommentRejected("forbidden", "only moderators may reopen a question")
        raise CommentRejected("bad_transition", f"a question cannot go from {current} to {target}")


def check_department(target: str, department: str) -> None:
    """A question forwarded to a department must say which."""
    if target == QuestionStatus.FORWARDED and not department:
        raise CommentRejected(
            "bad_field", "say which department the question goes to", field="department"
        )


def same_department(a: str, b: str) -> bool:
    """Department names compared as people type them: spacing and case do not count."""
    return "".join(a.split()).casefold() == "".join(b.split()).casefold()


def check_owner(
    role: Role, actor_department: str, current: QuestionStatus, department: str
) -> None:
    """Raise `forbidden` when an official of another department answers or moves a
    question forwarded to `department`; moderators and admins may always."""
    if (
        current == QuestionStatus.FORWARDED
        and department
        and role not in REOPENERS
        and not same_department(actor_department, department)
    ):
        raise CommentRejected(
            "forbidden",
            f"this question was forwarded to {department}: only its officials"
            " or a moderator may answer it or change its status",
        )


def after_answer(current: QuestionStatus) -> QuestionStatus:
    """The status of a question once answered (a policy promise is kept)."""
    if current == QuestionStatus.WILL_REFLECT:
        return current
    return QuestionStatus.ANSWERED


def check_vote(voter_key: str, asker_key: str) -> None:
    if voter_key == asker_key:
        raise CommentRejected("own_question", "you cannot vote for your own question")


def _bounded(raw: object, name: str, limit: int, *, required: bool = False) -> str:
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise CommentRejected("bad_field", f"`{name}` must be a string", field=name)
    text = clean_text(raw).strip()
    if not has_visible(text):
        if required:
            raise CommentRejected("empty", f"`{name}` must not be empty", field=name)
        return ""
    count = grapheme_count(text)
    if count > limit or len(text) > 4 * limit:
        raise CommentRejected(
            "too_long", f"`{name}` is {count} characters; at most {limit}", field=name
        )
    return text


def clean_note(raw: object) -> str:
    """A short public note on a status change (may be empty)."""
    return _bounded(raw, "note", NOTE_MAX)


def clean_department(raw: object) -> str:
    return " ".join(_bounded(raw, "department", DEPARTMENT_MAX).split())


def clean_answer(raw: object) -> str:
    """A written answer: required, at most ANSWER_MAX characters."""
    return _bounded(raw, "text", ANSWER_MAX, required=True)


def parse_sort(raw: object) -> str:
    if raw is None or raw == "":
        return "votes"
    if raw not in SORTS:
        raise CommentRejected("bad_sort", "sort must be votes or time")
    return str(raw)


@dataclass(frozen=True)
class Answer:
    text: str
    author: str
    role: Role
    department: str
    at: str
    comment_id: int | None = None  # set when the answer was given live in the chat

    @property
    def live(self) -> bool:
        return self.comment_id is not None

    def public(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "author": self.author,
            "role": self.role,
            "department": self.department,
            "at": self.at,
            "comment_id": self.comment_id,
            "live": self.live,
        }


@dataclass(frozen=True)
class Question:
    """A question as everyone may see it (no author key)."""

    id: int  # the comment id
    broadcast_id: int
    text: str
    author: str
    role: Role
    created_at: str
    asker_key: str
    status: QuestionStatus = QuestionStatus.OPEN
    status_note: str = ""
    department: str = ""
    votes: int = 0
    version: int = 0
    updated_at: str = ""
    comment_status: CommentStatus = CommentStatus.VISIBLE
    answer: Answer | None = None
    mark: str = ""  # the asker's sign-in provider, if signed in

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "broadcast_id": self.broadcast_id,
            "text": self.text,
            "author": self.author,
            "role": self.role,
            "created_at": self.created_at,
            "status": self.status,
            "status_note": self.status_note,
            "department": self.department,
            "votes": self.votes,
            "version": self.version,
            "updated_at": self.updated_at,
            "answer": self.answer.public() if self.answer else None,
            **({"mark": self.mark} if self.mark else {}),
        }


def sort_questions(questions: Iterable[Question], by: str) -> list[Question]:
    """`votes`: most votes first, older first among equals; `time`: newest first."""
    if by == "time":
        return sorted(questions, key=lambda q: -q.id)
    return sorted(questions, key=lambda q: (-q.votes, q.id))


@dataclass
class Tally:
    """How many questions were received and what became of them."""

    received: int = 0
    answers: int = 0  # questions with a real answer (whatever their status now)
    by_status: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))

    @classmethod
    def of(cls, statuses: Iterable[str | tuple[str, bool]]) -> Tally:
        """From statuses, or (status, has an answer) pairs; a bare `answered` counts as an
        answer."""
        tally = cls()
        for item in statuses:
            if isinstance(item, tuple):
                status, answered = item
            else:
                status, answered = item, item == QuestionStatus.ANSWERED
            tally.add(status, 1, answered=answered)
        return tally

    def add(self, status: str, count: int, *, answered: bool = False) -> None:
        self.received += count
        self.by_status[status] = self.by_status.get(status, 0) + count
        if answered:
            self.answers += count

    @property
    def responded(self) -> int:
        """Questions that got any response (answered, forwarded, reflected, out of remit)."""
        return self.received - self.by_status.get(QuestionStatus.OPEN, 0)

    @property
    def percent(self) -> int:
        """Answers as a whole percent of questions, rounded down (856 of 1,196 is 71%)."""
        return 100 * self.answers // self.received if self.received else 0

    def public(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "responded": self.responded,
            "answers": self.answers,
            "percent": self.percent,
            **self.by_status,
        }


def merge_tallies(tallies: Sequence[Tally]) -> Tally:
    total = Tally()
    for tally in tallies:
        for status, count in tally.by_status.items():
            total.add(status, count)
        total.answers += tally.answers
    return total
