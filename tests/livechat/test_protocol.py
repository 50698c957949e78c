from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livechat import protocol
from livechat.protocol import Ping, Post, ProtocolError, Resume, decode

MAX = 8192

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


@given(st.binary(max_size=300) | st.text(max_size=300))
@settings(max_examples=400)
def test_decode_arbitrary_input_never_crashes(raw: bytes | str) -> None:
    """Any bytes or text decode to a message or a ProtocolError with a stable code."""
    try:
        decode(raw, MAX)
    except ProtocolError as exc:
        assert exc.code in {
            "too_large",
            "malformed_json",
            "not_object",
            "bad_field",
            "unknown_type",
        }


@given(
    st.dictionaries(
        st.sampled_from(["type", "text", "client_id", "after", "question"]), json_values, max_size=5
    )
)
@settings(max_examples=400)
def test_decode_structured_fuzz(message: dict[str, object]) -> None:
    """Objects with the right keys but any values decode or fail with a stable code."""
    try:
        result = decode(json.dumps(message), MAX)
    except ProtocolError as exc:
        assert exc.code in {"bad_field", "unknown_type"}
    else:
        assert isinstance(result, Post | Resume | Ping | protocol.Command)


def test_post_decodes() -> None:
    """A well-formed post gives its text, client id and question flag."""
    msg = decode('{"type":"post","text":"안녕","client_id":"c-1","question":true}', MAX)
    assert msg == Post(text="안녕", client_id="c-1", question=True)
    again = decode('{"type":"post","text":"안녕","client_id":"c-1","retry":true}', MAX)
    assert again == Post(text="안녕", client_id="c-1", retry=True)


def test_resume_decodes() -> None:
    """A resume gives the last id seen."""
    assert decode('{"type":"resume","after":42}', MAX) == Resume(after=42)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{", "malformed_json"),
        ("[1,2]", "not_object"),
        ('{"type":5}', "bad_field"),
        ('{"type":"dance"}', "unknown_type"),
        ('{"type":"post","text":"x"}', "bad_field"),
        ('{"type":"post","text":"x","client_id":"has space"}', "bad_field"),
        ('{"type":"post","text":1,"client_id":"a"}', "bad_field"),
        ('{"type":"post","text":"x","client_id":"a","retry":"yes"}', "bad_field"),
        ('{"type":"resume","after":-1}', "bad_field"),
        ('{"type":"resume","after":true}', "bad_field"),
        ('{"type":"resume","after":"5"}', "bad_field"),
    ],
)
def test_bad_messages_get_precise_codes(raw: str, code: str) -> None:
    """Each kind of malformed message has its own code."""
    with pytest.raises(ProtocolError) as info:
        decode(raw, MAX)
    assert info.value.code == code


def test_oversized_message_rejected_before_parsing() -> None:
    """A message over the byte limit is rejected as too large."""
    with pytest.raises(ProtocolError) as info:
        decode('{"type":"post","text":"' + "가" * 5000 + '","client_id":"a"}', MAX)
    assert info.value.code == "too_large"


def test_error_frame_echoes_client_id() -> None:
    """An error about a post names the post's client id so the client can mark it failed."""
    frame = json.loads(protocol.error_frame("too_long", "too long", "c-9"))
    assert frame == {"type": "error", "code": "too_long", "message": "too long", "client_id": "c-9"}
