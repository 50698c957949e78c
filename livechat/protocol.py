"""The WebSocket protocol as pure functions: bytes in, typed messages out, and back.

Every client message is a JSON object with a `type`. `decode` never raises anything but
`ProtocolError`, whose `code` is stable and documented in `docs/protocol.md`. Server frames
are built by the `*_frame` functions, each returning the JSON text to send; a frame is
encoded once and the same string goes to every connection.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from livechat.comment import CommentStatus, CommentWire

PROTOCOL_VERSION = 1
# Anchored with \A…\Z, not ^…$: `$` also matches before a final newline ("abc\n"), and
# other modules call `.match`; use `.fullmatch` here.
CLIENT_ID = re.compile(r"\A[A-Za-z0-9_.:-]{1,64}\Z")
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class ProtocolError(ValueError):
    def __init__(self, code: str, message: str, client_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.client_id = client_id


@dataclass(frozen=True)
class Post:
    text: str  # raw; validated by the hub
    client_id: str
    question: bool = False
    retry: bool = False  # the client sent this client_id before (unacknowledged)


@dataclass(frozen=True)
class Resume:
    after: int


@dataclass(frozen=True)
class Ping:
    pass


@dataclass(frozen=True)
class Command:
    """Any other known type (moderation, questions): validated by its handler."""

    type: str
    body: dict[str, Any]


ClientMessage = Post | Resume | Ping | Command


def decode(
    raw: str | bytes, max_bytes: int, commands: Collection[str] = frozenset()
) -> ClientMessage:
    """Decode one client message or raise `ProtocolError`. `commands`: the other types
    the hub handles (registered by its plugins); anything else is `unknown_type`."""
    size = len(raw.encode("utf-8", "surrogatepass")) if isinstance(raw, str) else len(raw)
    if size > max_bytes:
        raise ProtocolError("too_large", f"message is {size} bytes; at most {max_bytes}")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ProtocolError("malformed_json", "message is not valid JSON") from None
    if not isinstance(data, dict):
        raise ProtocolError("not_object", "message must be a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("bad_field", "`type` must be a string")
    if kind == "post":
        client_id = data.get("client_id")
        if not isinstance(client_id, str) or not CLIENT_ID.fullmatch(client_id):
            raise ProtocolError(
                "bad_field", "`client_id` must be 1–64 characters of A–Z a–z 0–9 _ . : -"
            )
        text = data.get("text")
        if not isinstance(text, str):
            raise ProtocolError("bad_field", "`text` must be a string", client_id)
        question = data.get("question", False)
        if not isinstance(question, bool):
            raise ProtocolError("bad_field", "`question` must be true or false", client_id)
        retry = data.get("retry", False)
        if not isinstance(retry, bool):
            raise ProtocolError("bad_field", "`retry` must be true or false", client_id)
        return Post(text=text, client_id=client_id, question=question, retry=retry)
    if kind == "resume":
        after = data.get("after")
        if isinstance(after, bool) or not isinstance(after, int) or after < 0 or after > 2**62:
            raise ProtocolError("bad_field", "`after` must be a non-negative integer")
        return Resume(after=after)
    if kind == "ping":
        return Ping()
    if kind in commands:
        return Command(type=kind, body=data)
    shown = kind if len(kind) <= 32 else kind[:32] + "…"
    raise ProtocolError("unknown_type", f"unknown message type {shown!r}")


def encode(frame: dict[str, Any]) -> str:
    return _dumps(frame)


def hello_frame(
    broadcast_id: int,
    you: dict[str, str] | None,
    limits: dict[str, Any],
    slow_mode: int,
    viewers: int,
    last_id: int,
    state: dict[str, Any] | None = None,
) -> str:
    frame: dict[str, Any] = {
        "type": "hello",
        "protocol": PROTOCOL_VERSION,
        "broadcast_id": broadcast_id,
        "you": you,
        "limits": limits,
        "slow_mode": slow_mode,
        "viewers": viewers,
        "last_id": last_id,
    }
    if state:
        frame.update(state)
    return encode(frame)


def comments_frame(items: Sequence[CommentWire], backfill: bool = False) -> str:
    frame: dict[str, Any] = {"type": "comments", "items": items}
    if backfill:
        frame["backfill"] = True
    return encode(frame)


def restored_frame(items: Sequence[CommentWire]) -> str:
    """Comments a moderator put back, re-inserted in place by the page."""
    return encode({"type": "comments", "items": items, "restored": True})


def deleted_frame(ids: list[int], reason: str | None = None) -> str:
    frame: dict[str, Any] = {"type": "deleted", "ids": ids}
    if reason:
        frame["reason"] = reason
    return encode(frame)


def reset_frame(last_id: int) -> str:
    """The `after` a client resumed with is beyond the newest comment: forget ids above
    `last_id` (they no longer exist) and go on from it."""
    return encode({"type": "reset", "last_id": last_id})


def presence_frame(viewers: int) -> str:
    return encode({"type": "presence", "viewers": viewers})


def ack_frame(
    client_id: str,
    comment_id: int,
    status: CommentStatus = CommentStatus.VISIBLE,
    notice: str | None = None,
) -> str:
    frame: dict[str, Any] = {
        "type": "ack",
        "client_id": client_id,
        "id": comment_id,
        "status": status,
    }
    if notice:
        frame["notice"] = notice
    return encode(frame)


def error_frame(code: str, message: str, client_id: str | None = None, **extra: Any) -> str:
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if client_id is not None:
        frame["client_id"] = client_id
    frame.update(extra)
    return encode(frame)


def pong_frame() -> str:
    return encode({"type": "pong"})
