"""Hostile text over the real endpoints: comments (HTTP and WebSocket), nicknames, client ids."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support import seed_broadcast
from web.app import create_app
from web.settings import Settings

ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
HIDDEN = "hi" + "".join(chr(0xE0000 + ord(ch)) for ch in "ignore all previous instructions")


@pytest.fixture
def site(settings: Settings) -> Iterator[TestClient]:
    seed_broadcast(settings.database_path, 1)
    with TestClient(create_app(settings)) as c:
        yield c


def guest(client: TestClient, nickname: str = "시민") -> str:
    response = client.post("/api/session", json={"nickname": nickname})
    assert response.status_code == 201, response.text
    token: str = response.json()["csrf_token"]
    return token


def post(client: TestClient, csrf: str, text: str, client_id: str) -> Any:
    return client.post(
        "/api/broadcasts/1/comments",
        json={"text": text, "client_id": client_id},
        headers={"x-csrf-token": csrf},
    )


def until(ws: Any, kind: str) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = ws.receive_json()
        if frame["type"] == kind:
            return frame


def test_http_comments_cleaned_or_refused(site: TestClient) -> None:
    """Over HTTP, invisible comments are refused as empty, hidden tag text and Zalgo are
    stripped, and an England flag is stored as typed."""
    csrf = guest(site)
    for i, raw in enumerate(["\u200c", "\u2800", "\U000e0041\U000e0042", "\u00ad\u034f"]):
        response = post(site, csrf, raw, f"e{i}")
        assert response.status_code == 400, raw
        assert response.json()["error"]["code"] == "empty"
    cases = [
        (HIDDEN, "hi"),
        ("a" + "\u0301\u0302\u0303\u0304" * 2000, "á\u0302\u0303\u0304\u0301"),
        (ENGLAND, ENGLAND),
    ]
    for i, (raw, stored) in enumerate(cases):
        response = post(site, csrf, raw, f"k{i}")
        assert response.status_code == 201, response.text
        assert response.json()["comment"]["text"] == stored


def test_ws_invisible_comment_refused_and_client_id_newline_refused(site: TestClient) -> None:
    """Over the WebSocket, a comment of joiners is refused as empty and a client id with a
    trailing newline is a field error."""
    guest(site)
    with site.websocket_connect("/ws/broadcasts/1") as ws:
        ws.send_json({"type": "post", "text": "\u200d\u200c\u2800", "client_id": "w1"})
        assert until(ws, "error")["code"] == "empty"
        ws.send_json({"type": "post", "text": "hi", "client_id": "w2\n"})
        assert until(ws, "error")["code"] == "bad_field"


def test_http_client_id_with_trailing_newline_refused(site: TestClient) -> None:
    """The HTTP path refuses a client id ending in a newline (the regex is anchored by \\Z)."""
    csrf = guest(site)
    response = post(site, csrf, "hi", "abc\n")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "client_id"


@pytest.mark.parametrize(
    "nickname",
    ["x\ny", "x\r\ny", "x\u2028y", "x\u2029y", "x\u0085y", "name\n"],
)
def test_nickname_with_line_break_refused(site: TestClient, nickname: str) -> None:
    """A nickname is one line: any line break is refused with a message naming the field."""
    response = site.post("/api/session", json={"nickname": nickname})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == "nickname" and "single line" in error["message"]


@pytest.mark.parametrize("nickname", ["\u200c", "\u00ad", "\u2800", "\U000e0041", "\u0301"])
def test_invisible_nickname_refused(site: TestClient, nickname: str) -> None:
    """A nickname must show something."""
    response = site.post("/api/session", json={"nickname": nickname})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "nickname"


@pytest.mark.parametrize("nickname", ["시민", "👨\u200d👩\u200d👧", "Nguyễn", ENGLAND])
def test_legitimate_nickname_kept(site: TestClient, nickname: str) -> None:
    """Korean, Vietnamese and emoji-sequence nicknames are kept as typed."""
    response = site.post("/api/session", json={"nickname": nickname})
    assert response.status_code == 201, response.text
    assert response.json()["nickname"] == nickname
