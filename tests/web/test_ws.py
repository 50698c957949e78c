from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.support import seed_broadcast
from web.app import create_app
from web.settings import Settings


@pytest.fixture
def live_client(settings: Settings) -> Iterator[TestClient]:
    seed_broadcast(settings.database_path, 1)
    with TestClient(create_app(settings)) as c:
        c.post("/api/session", json={"nickname": "시민"})
        yield c


def until(ws: Any, kind: str) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = ws.receive_json()
        if frame["type"] == kind:
            return frame


def test_hello_names_protocol_limits_and_viewer(live_client: TestClient) -> None:
    """The first frame says the protocol version, who you are, the limits and the count."""
    with live_client.websocket_connect("/ws/broadcasts/1") as ws:
        hello = ws.receive_json()
    assert hello["type"] == "hello" and hello["protocol"] == 1
    assert hello["you"]["name"] == "시민"
    assert hello["limits"]["max_chars"] == 300
    assert hello["viewers"] >= 1 and hello["slow_mode"] == 0


def test_post_ack_then_comment(live_client: TestClient) -> None:
    """A post is acknowledged with its id, and the comment arrives with that id."""
    with live_client.websocket_connect("/ws/broadcasts/1") as ws:
        ws.send_json({"type": "post", "text": "<img src=x onerror=alert(1)>", "client_id": "k1"})
        ack = until(ws, "ack")
        comments = until(ws, "comments")
    assert ack["client_id"] == "k1"
    assert comments["items"][0]["id"] == ack["id"]
    assert comments["items"][0]["text"] == "<img src=x onerror=alert(1)>"


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("not json", "malformed_json"),
        ("[]", "not_object"),
        ('{"type":"nope"}', "unknown_type"),
        ('{"type":"post","text":5,"client_id":"a"}', "bad_field"),
        ('{"type":"post","text":"' + "가" * 301 + '","client_id":"a"}', "too_long"),
        ('{"type":"post","text":"\\u202e\\u200b","client_id":"a"}', "empty"),
    ],
)
def test_bad_messages_get_error_and_connection_survives(
    live_client: TestClient, message: str, code: str
) -> None:
    """Each bad message earns an error frame with its code; the socket keeps working."""
    with live_client.websocket_connect("/ws/broadcasts/1") as ws:
        ws.send_text(message)
        error = until(ws, "error")
        ws.send_json({"type": "ping"})
        pong = until(ws, "pong")
    assert error["code"] == code
    assert pong == {"type": "pong"}


def test_oversized_frame_is_refused(live_client: TestClient) -> None:
    """A frame over the size limit is refused (the server closes with 1009 or errors)."""
    with live_client.websocket_connect("/ws/broadcasts/1") as ws:
        ws.send_text('{"type":"post","text":"' + "a" * 20000 + '","client_id":"a"}')
        error = until(ws, "error")
    assert error["code"] == "too_large"


def test_post_without_session_is_refused(settings: Settings) -> None:
    """A viewer without a nickname gets a clear error instead of posting."""
    seed_broadcast(settings.database_path, 1)
    with TestClient(create_app(settings)) as c, c.websocket_connect("/ws/broadcasts/1") as ws:
        ws.send_json({"type": "post", "text": "hi", "client_id": "a"})
        error = until(ws, "error")
    assert error["code"] == "no_session"


def test_foreign_origin_is_refused(live_client: TestClient) -> None:
    """A page on another origin cannot open the comment socket."""
    with (
        pytest.raises(WebSocketDisconnect) as info,
        live_client.websocket_connect(
            "/ws/broadcasts/1", headers={"origin": "https://evil.example"}
        ) as ws,
    ):
        ws.receive_json()
    assert info.value.code == 1008


def test_unknown_broadcast_is_refused(live_client: TestClient) -> None:
    """Connecting to a broadcast that does not exist closes with 4404."""
    with (
        pytest.raises(WebSocketDisconnect) as info,
        live_client.websocket_connect("/ws/broadcasts/999") as ws,
    ):
        ws.receive_json()
    assert info.value.code == 4404


def test_resume_by_query_parameter(live_client: TestClient) -> None:
    """Reconnecting with ?after= gives exactly the comments after that id."""
    ids = []
    for i in range(4):
        r = live_client.post(
            "/api/broadcasts/1/comments",
            json={"text": f"m{i}", "client_id": f"h{i}"},
            headers={"x-csrf-token": _csrf(live_client)},
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    with live_client.websocket_connect(f"/ws/broadcasts/1?after={ids[1]}") as ws:
        frame = until(ws, "comments")
    assert [i["id"] for i in frame["items"]] == ids[2:]


def _csrf(client: TestClient) -> str:
    token: str = client.get("/api/session").json()["csrf_token"]
    return token


messages = st.one_of(
    st.text(max_size=200),
    st.dictionaries(
        st.sampled_from(["type", "text", "client_id", "after", "question", "x"]),
        st.one_of(
            st.none(),
            st.integers(),
            st.text(max_size=20),
            st.booleans(),
            st.lists(st.integers(), max_size=3),
        ),
        max_size=5,
    ).map(json.dumps),
)


@given(st.lists(messages, min_size=1, max_size=5))
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_fuzzed_client_messages_never_crash(live_client: TestClient, batch: list[str]) -> None:
    """Random client messages get an error, ack or pong each; the connection survives."""
    with live_client.websocket_connect("/ws/broadcasts/1") as ws:
        for message in batch:
            ws.send_text(message)
        ws.send_json({"type": "ping"})
        kinds = []
        while True:
            frame = ws.receive_json()
            kinds.append(frame["type"])
            if frame["type"] == "pong" and kinds.count("pong") > sum(
                1 for m in batch if _is_ping(m)
            ):
                break
    assert set(kinds) <= {"hello", "presence", "comments", "error", "ack", "pong", "state"}
    answered = kinds.count("error") + kinds.count("ack") + kinds.count("pong")
    resumes = sum(1 for m in batch if _type_of(m) == "resume")
    assert answered >= len(batch) + 1 - resumes  # one answer per message, resume aside


def _type_of(message: str) -> object:
    try:
        data = json.loads(message)
    except ValueError:
        return None
    return data.get("type") if isinstance(data, dict) else None


def _is_ping(message: str) -> bool:
    return _type_of(message) == "ping"


def test_connection_cap_says_busy_with_retry(settings: Settings) -> None:
    """Past the connection cap a viewer gets a `busy` error with retry_after and close 1013,
    and the HTTP API answers 503 with Retry-After."""
    import dataclasses

    seed_broadcast(settings.database_path, 1)
    capped = dataclasses.replace(settings, max_connections=1)
    with TestClient(create_app(capped)) as c, c.websocket_connect("/ws/broadcasts/1") as first:
        first.receive_json()
        with c.websocket_connect("/ws/broadcasts/1") as second:
            error = second.receive_json()
            with pytest.raises(WebSocketDisconnect) as info:
                second.receive_json()
        r = c.get("/api/broadcasts/1/comments")
    assert error["code"] == "busy" and error["retry_after"] > 0
    assert info.value.code == 1013
    assert r.status_code == 503 and r.headers["retry-after"] == "5"


def test_admission_rate_says_busy_with_each_refused_client_s_turn(settings: Settings) -> None:
    """Past the broadcast's admission burst a viewer gets `busy` with the `retry_after` of
    its turn, then close 1013; the next one refused is given the next turn (one interval
    of the rate later), so the refused come back spread out, not all at once."""
    import dataclasses

    seed_broadcast(settings.database_path, 1)
    slow = dataclasses.replace(settings, admission_burst=1, admission_rate=0.1)
    refused = []
    with TestClient(create_app(slow)) as c, c.websocket_connect("/ws/broadcasts/1") as first:
        assert first.receive_json()["type"] == "hello"
        for _ in range(2):
            with c.websocket_connect("/ws/broadcasts/1") as late:
                refused.append(late.receive_json())
                with pytest.raises(WebSocketDisconnect) as info:
                    late.receive_json()
            assert info.value.code == 1013
    assert [f["code"] for f in refused] == ["busy", "busy"]
    first_turn, second_turn = (f["retry_after"] for f in refused)
    assert 9 < first_turn <= 10  # the next token, at 0.1 a second
    assert 19 < second_turn <= 20  # and one interval after it
