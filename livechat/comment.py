"""A stored comment and its wire form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    broadcast_id: int
    author_key: str
    author_name: str
    role: str
    department: str
    client_id: str
    text: str
    created_at: str  # ISO-8601 UTC
    video_offset: float | None = None
    status: str = "visible"  # visible | held | removed
    flags: str = ""  # comma-separated: "masked", "question", …
    author_mark: str = ""  # sign-in provider of a member's comment ("kakao", …)
    reply_to: int | None = None  # a live answer: the question (comment id) it answers

    @property
    def flag_set(self) -> frozenset[str]:
        return frozenset(f for f in self.flags.split(",") if f)

    def wire(self) -> dict[str, Any]:
        """The public form sent to every viewer (no author key: it identifies a session)."""
        item: dict[str, Any] = {
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
