"""What the hubs of different processes tell each other about a broadcast, as typed events
with one encode/decode home.

On the wire an event is one compact JSON object keyed `"t"` (`c`, `p`, `frame`, `state`,
`mod`) plus `"proc"`, the sending process (so a process skips what it applied locally
already). `decode_event` never raises: a message it cannot read is `None`, dropped (the
rooms catch up from the database anyway).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from livechat.chat_state import ChatState
from livechat.comment import CommentStatus


@dataclass(frozen=True)
class NewComments:
    """Comments were committed: read after the watermark."""


@dataclass(frozen=True)
class Presence:
    """How many people one process has in the room."""

    count: int


@dataclass(frozen=True)
class StatusChange:
    """Comments now all in `status` (`reshown`: a moderator put them back)."""

    ids: tuple[int, ...]
    status: CommentStatus
    reshown: bool = False


@dataclass(frozen=True)
class FrameOut:
    """One encoded server frame for every viewer; `change`: what it tells the rings."""

    frame: str
    change: StatusChange | None = None


@dataclass(frozen=True)
class StateChanged:
    state: ChatState


@dataclass(frozen=True)
class ModerationNotice:
    """Frames for the room's moderators and for one author (moderation delivers them)."""

    frame: str | None = None
    author_key: str | None = None
    author_frame: str | None = None


Event = NewComments | Presence | FrameOut | StateChanged | ModerationNotice

_dumps = json.JSONEncoder(separators=(",", ":")).encode


def _body(event: Event) -> dict[str, Any]:
    if isinstance(event, NewComments):
        return {"t": "c"}
    if isinstance(event, Presence):
        return {"t": "p", "n": event.count}
    if isinstance(event, FrameOut):
        body: dict[str, Any] = {"t": "frame", "frame": event.frame}
        if event.change is not None:
            body["status"] = {
                "ids": list(event.change.ids),
                "status": event.change.status,
                "reshown": event.change.reshown,
            }
        return body
    if isinstance(event, StateChanged):
        return {"t": "state", "state": event.state.public()}
    body = {"t": "mod"}
    if event.frame is not None:
        body["frame"] = event.frame
    if event.author_key is not None and event.author_frame is not None:
        body["author_key"] = event.author_key
        body["author_frame"] = event.author_frame
    return body


def encode_event(event: Event, process_id: str) -> bytes:
    """The broker message for `event`, sent by `process_id`."""
    return _dumps({**_body(event), "proc": process_id}).encode()


def decode_event(message: bytes) -> tuple[str | None, Event] | None:
    """(sending process, event) of a broker message; None if it is not one."""
    try:
        data = json.loads(message)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    proc = data.get("proc")
    sender = proc if isinstance(proc, str) else None
    event = _event(data)
    return None if event is None else (sender, event)


def _event(data: dict[str, Any]) -> Event | None:
    kind = data.get("t")
    if kind == "c":
        return NewComments()
    if kind == "p":
        count = data.get("n")
        return Presence(count) if isinstance(count, int) else None
    if kind == "frame":
        text = data.get("frame")
        if not isinstance(text, str):
            return None
        changed = data.get("status")
        change = None
        if isinstance(changed, dict):
            change = StatusChange(
                tuple(i for i in changed.get("ids", ()) if isinstance(i, int)),
                CommentStatus(str(changed.get("status"))),
                bool(changed.get("reshown")),
            )
        return FrameOut(text, change)
    if kind == "state":
        state = data.get("state", {})
        if not isinstance(state, dict):
            return None
        try:
            return StateChanged(ChatState.from_public(state))
        except (TypeError, ValueError):
            return None
    if kind == "mod":
        frame, key, author_frame = (
            data.get("frame"),
            data.get("author_key"),
            data.get("author_frame"),
        )
        return ModerationNotice(
            frame if isinstance(frame, str) else None,
            key if isinstance(key, str) else None,
            author_frame if isinstance(author_frame, str) else None,
        )
    return None
