"""Broker events: one encode/decode home, the wire form other processes read."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from livechat.events import (
    ChatState,
    Event,
    FrameOut,
    ModerationNotice,
    NewComments,
    Presence,
    StateChanged,
    StatusChange,
    decode_event,
    encode_event,
)

EVENTS: list[Event] = [
    NewComments(),
    Presence(12),
    FrameOut('{"type":"deleted","ids":[1]}'),
    FrameOut('{"type":"comments"}', StatusChange((3, 4), "visible", reshown=True)),
    StateChanged(ChatState(30, True, 5, {"id": 5, "text": "핀"})),  # type: ignore[typeddict-item]
    ModerationNotice('{"type":"mod"}', "g:a", '{"type":"moderation"}'),
    ModerationNotice('{"type":"mod"}'),
]


def test_every_event_survives_the_round_trip_with_its_sender() -> None:
    """decode(encode(e)) is e, and the sending process comes back with it."""
    for event in EVENTS:
        assert decode_event(encode_event(event, "p-1")) == ("p-1", event)


def test_wire_form_is_the_documented_t_keyed_object() -> None:
    """The wire keeps the `t` keys other processes read (c, p, frame, state, mod)."""
    kinds = [json.loads(encode_event(e, "x"))["t"] for e in EVENTS]
    assert kinds == ["c", "p", "frame", "frame", "state", "mod", "mod"]
    frame = json.loads(encode_event(EVENTS[3], "x"))
    assert frame["status"] == {"ids": [3, 4], "status": "visible", "reshown": True}


def test_unreadable_messages_are_dropped() -> None:
    """Garbage, unknown kinds and ill-typed fields decode to None, never raise."""
    for raw in (
        b"",
        b"{",
        b"[]",
        b'{"t":"zz"}',
        b'{"t":"p","n":"3"}',
        b'{"t":"frame"}',
        b'{"t":"state","state":{"slow_mode":"x"}}',
        b'{"t":"state","state":1}',
    ):
        assert decode_event(raw) is None, raw


@given(st.binary(max_size=200))
def test_decode_never_raises(raw: bytes) -> None:
    """Any bytes: an event or None."""
    decode_event(raw)
