"""Live comments only while a broadcast is on air, over HTTP and WebSocket (in process)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support import seed_broadcast
from tests.web.test_questions_api import PASSWORD, make_staff
from web.app import create_app
from web.settings import Settings


def until(ws: Any, kind: str) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = ws.receive_json()
        if frame["type"] == kind:
            return frame


def guest_post(client: TestClient, csrf: str, text: str, **extra: Any) -> Any:
    return client.post(
        "/api/broadcasts/1/comments",
        headers={"X-CSRF-Token": csrf},
        json={"text": text, "client_id": uuid.uuid4().hex, **extra},
    )


@pytest.mark.parametrize("status", ["planned", "ended", "cancelled"])
def test_comments_are_refused_outside_the_live_window(settings: Settings, status: str) -> None:
    """Planned, ended and cancelled broadcasts refuse comments and questions with 403
    chat_closed (naming the status) over HTTP; `hello` says closed with the reason; a
    WebSocket post earns the same error and nothing is stored."""
    seed_broadcast(settings.database_path, 1, status=status)
    with TestClient(create_app(settings)) as client:
        csrf = client.post("/api/session", json={"nickname": "시민"}).json()["csrf_token"]
        for response in (
            guest_post(client, csrf, "끝난 방송에 댓글"),
            client.post(
                "/api/broadcasts/1/questions",
                headers={"X-CSRF-Token": csrf},
                json={"text": "질문", "client_id": "q1"},
            ),
        ):
            assert response.status_code == 403, response.text
            error = response.json()["error"]
            assert error["code"] == "chat_closed" and status in error["message"]
        with client.websocket_connect("/ws/broadcasts/1") as ws:
            hello = until(ws, "hello")
            assert hello["closed"] is True and hello["closed_reason"] == status
            ws.send_json({"type": "post", "text": "소켓으로", "client_id": "w1"})
            error = until(ws, "error")
        assert error["code"] == "chat_closed" and error["client_id"] == "w1"
        assert error["reason"] == status
        assert client.get("/api/broadcasts/1/comments").json()["items"] == []


def test_a_live_broadcast_takes_comments_and_hello_says_open(settings: Settings) -> None:
    """On air: the post is stored and `hello` says the chat is open (no reason)."""
    seed_broadcast(settings.database_path, 1, status="live")
    with TestClient(create_app(settings)) as client:
        csrf = client.post("/api/session", json={"nickname": "시민"}).json()["csrf_token"]
        assert guest_post(client, csrf, "생방송 댓글").status_code == 201
        with client.websocket_connect("/ws/broadcasts/1") as ws:
            hello = until(ws, "hello")
        assert hello["closed"] is False and "closed_reason" not in hello


def test_ending_a_broadcast_closes_its_chat_at_once(settings: Settings) -> None:
    """The operator ends the broadcast: the very next post is refused (no stale cache)."""
    seed_broadcast(settings.database_path, 1, status="live")
    make_staff(settings.database_path, "op", "operator")
    with TestClient(create_app(settings)) as client:
        login = client.post("/api/login", json={"username": "op", "password": PASSWORD})
        staff_csrf = login.json()["csrf_token"]
        staff_cookies = dict(client.cookies)
        client.cookies.clear()
        csrf = client.post("/api/session", json={"nickname": "시민"}).json()["csrf_token"]
        assert guest_post(client, csrf, "방송 중").status_code == 201
        guest_cookies = dict(client.cookies)
        client.cookies.clear()
        client.cookies.update(staff_cookies)
        ended = client.post("/api/broadcasts/1/end", json={}, headers={"X-CSRF-Token": staff_csrf})
        assert ended.status_code == 200, ended.text
        client.cookies.clear()
        client.cookies.update(guest_cookies)
        late = guest_post(client, csrf, "끝난 뒤")
        assert late.status_code == 403 and late.json()["error"]["code"] == "chat_closed"
