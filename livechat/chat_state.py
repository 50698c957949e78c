"""A broadcast's chat switches: slow mode, closed, the pinned comment. One shape for what
the store reads, what a room keeps, what the broker carries and what viewers are told."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, cast

from livechat.comment import CommentWire


@dataclass(frozen=True)
class ChatState:
    slow_mode: int = 0  # seconds between one author's comments; 0: off
    closed: bool = False
    pinned_id: int | None = None  # the pinned comment, as stored
    pinned: CommentWire | None = None  # its wire form, once looked up (None if hidden)

    def with_pinned(self, wire: CommentWire | None) -> ChatState:
        """This state with the pinned comment's wire form (None: not visible)."""
        return replace(self, pinned=wire)

    def public(self) -> dict[str, Any]:
        """The `state` a viewer receives (docs/protocol.md)."""
        return {"slow_mode": self.slow_mode, "closed": self.closed, "pinned": self.pinned}

    @classmethod
    def from_public(cls, data: Mapping[str, Any]) -> ChatState:
        """Back from `public()` (as the broker carries it)."""
        found = data.get("pinned")
        # As this process's `public()` wrote it (the broker carries our own events).
        pinned = cast(CommentWire, found) if isinstance(found, dict) else None
        pinned_id = pinned.get("id") if pinned else None
        return cls(
            slow_mode=int(data.get("slow_mode", 0)),
            closed=bool(data.get("closed", False)),
            pinned_id=pinned_id if isinstance(pinned_id, int) else None,
            pinned=pinned,
        )
