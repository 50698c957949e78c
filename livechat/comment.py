"""A stored comment and its wire form."""

from __future__ import annotations

from collections.abc import Iterable
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
    flags: str = ""  # comma-separated `CommentFlag`s
    author_mark: str = ""  # sign-in provider of a member's comment ("kakao", …)
    reply_to: int | None = None  # a live answer: the question (comment id) it answers

    @classmethod
    def from_row(cls, row: Iterable[Any]) -> Comment:
        """A comment from a row of the stores' comment columns, in field order."""
        (
            id_,
            broadcast_id,
            author_key,
            author_name,
            role,
            department,
            client_id,
            text,
            created_at,
            video_offset,
            status,
            flags,
            author_mark,
            reply_to,
        ) = row
        return cls(
            id_,
            broadcast_id,
            author_key,
            author_name,
            Role.stored(role),
            department,
            client_id,
            text,
            created_at,
            video_offset,
            CommentStatus(status),
            flags,
            author_mark,
            None if reply_to is None else int(reply_to),
        )

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
            item["flags"] = sorted(self.flag_set)
        if self.reply_to is not None:
            item["reply_to"] = self.reply_to
        return item
