"""A stored comment and its wire form."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NotRequired, TypedDict

from livechat.identity import Role


class CommentStatus(StrEnum):
    """Who sees a stored comment."""

    VISIBLE = "visible"  # everyone
    HELD = "held"  # its author and the moderators, until a moderator approves it
    REMOVED = "removed"  # nobody (the audit log keeps why)


class CommentFlag(StrEnum):
    """What a comment is besides text (stored comma-separated in `comments.flags`)."""

    MASKED = "masked"  # personal data was masked before storing
    QUESTION = "question"  # a citizen's question (`livechat.questions`)
    ANSWER = "answer"  # an official's answer; travels with `re:<question id>`


class CommentWire(TypedDict):
    """A comment as every viewer receives it (docs/protocol.md; no author key)."""

    id: int
    text: str
    author: str
    role: str
    created_at: str
    client_id: str
    department: NotRequired[str]
    mark: NotRequired[str]  # the sign-in provider of a member's comment
    offset: NotRequired[float]  # seconds into the replay
    flags: NotRequired[list[str]]
    reply_to: NotRequired[int]  # the question an answer answers


# The flag that links an answer to its question: "re:<question id>", sent as `reply_to`.
REPLY_PREFIX = "re:"


def answer_flags(question_id: int) -> str:
    """The stored flags of an answer to question `question_id`."""
    return f"{CommentFlag.ANSWER},{REPLY_PREFIX}{question_id}"


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    broadcast_id: int
    author_key: str
    author_name: str
    role: Role
    department: str
    client_id: str
    text: str
    created_at: str  # ISO-8601 UTC
    video_offset: float | None = None
    status: CommentStatus = CommentStatus.VISIBLE
    flags: str = ""  # comma-separated `CommentFlag`s and "re:<question id>"
    author_mark: str = ""  # sign-in provider of a member's comment ("kakao", …)

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Comment:
        """A comment from a row of the stores' comment columns, in field order."""
        (id_, broadcast_id, author_key, author_name, role, department, client_id, text,
         created_at, video_offset, status, flags, author_mark) = row
        return cls(id_, broadcast_id, author_key, author_name, Role.stored(role), department,
                   client_id, text, created_at, video_offset, CommentStatus(status), flags,
                   author_mark)

    @property
    def flag_set(self) -> frozenset[str]:
        return frozenset(f for f in self.flags.split(",") if f)

    def wire(self) -> CommentWire:
        """The public form sent to every viewer (no author key: it identifies a session)."""
        item: CommentWire = {
            "id": self.id,
            "text": self.text,
            "author": self.author_name,
            "role": self.role,
            "created_at": self.created_at,
            "client_id": self.client_id,
        }
        if self.department:
            item["department"] = self.department
        if self.author_mark:
            item["mark"] = self.author_mark
        if self.video_offset is not None:
            item["offset"] = round(self.video_offset, 3)
        if self.flags:
            # "re:<id>" (an answer to question <id>) travels as `reply_to`, not as a flag.
            flags = sorted(f for f in self.flag_set if not f.startswith(REPLY_PREFIX))
            item["flags"] = flags
            for flag in self.flag_set - set(flags):
                target = flag.removeprefix(REPLY_PREFIX)
                if target.isdigit():
                    item["reply_to"] = int(target)
        return item
