"""The role table (`web.identity.roles`) is what the app enforces: every HTTP route and every
WebSocket message, asked by every kind of caller, is refused exactly when the table says.

The test walks the app's own routes, so a route added without an entry in `ROUTES` fails
here (and so does an entry for a route that no longer exists)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.responses import Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.testclient import TestClient

from tests.support import seed_broadcast
from web.app import create_app
from web.identity.roles import CALLERS, MESSAGES, ROLES, ROUTES, Access, markdown_table, may
from web.identity.sessions import Session, SessionCodec, new_sid
from web.settings import Settings

TOKEN = "metrics-token-for-tests"
DOCS = Path(__file__).parent.parent.parent / "docs" / "roles.md"
# Path parameters: the live broadcast 1 for reading and commenting; schedule changes go to
# a broadcast that does not exist, so allowed callers get 404 and nothing moves under the
# other checks.
PARAMS = {
    "broadcast_id": "1",
    "replay_id": "1",
    "comment_id": "1",
    "question_id": "1",
    "day": "2026-12-01",
    "provider": "kakao",
    "token": "not-a-token",
    "account_id": "1",
}


@pytest.fixture
def app_client(settings: Settings) -> Iterator[TestClient]:
    seed_broadcast(settings.database_path, 1)
    with TestClient(create_app(dataclasses.replace(settings, metrics_token=TOKEN))) as client:
        yield client


def route_keys(app: Any) -> dict[str, Any]:
    """ "METHOD path" of every route the app serves (HEAD aside), like `ROUTES` spells it."""
    keys: dict[str, Any] = {}
    for route in app.routes:
        if isinstance(route, Mount):
            continue
        if isinstance(route, WebSocketRoute):
            keys[f"WS {route.path}"] = route
        elif isinstance(route, Route):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                keys[f"{method} {route.path}"] = route
    return keys


class Callers:
    """A fresh cookie for each request as anonymous, a guest, or each staff role."""

    def __init__(self, settings: Settings) -> None:
        self.codec = SessionCodec(settings.secret_key, settings.session_max_age_days, False)

    def session(self, caller: str) -> Session | None:
        if caller == "anonymous":
            return None
        if caller == "viewer":
            return Session(sid=new_sid(), nickname="시민")
        uid = 1000 + ROLES.index(caller)
        return Session(sid=new_sid(), nickname=f"{caller} 직원", role=caller, account_id=uid)

    def headers(self, caller: str) -> dict[str, str]:
        session = self.session(caller)
        if session is None:
            return {}
        response = Response()
        self.codec.store(response, session)
        cookie = response.headers["set-cookie"].split(";", 1)[0]
        return {"cookie": cookie, "x-csrf-token": self.codec.csrf_token(session)}


def concrete(key: str) -> tuple[str, str]:
    method, template = key.split(" ", 1)
    path = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: PARAMS[m.group(1)], template)
    if (
        method != "GET"
        and template.startswith("/api/broadcasts/{broadcast_id:id}")
        and not (template.endswith(("/comments", "/questions")))
    ):
        path = path.replace("/api/broadcasts/1", "/api/broadcasts/999", 1)
    return method, path


def refused(response: Any) -> bool:
    """Whether the answer is a refusal for who the caller is (not for what they sent)."""
    if response.status_code == 401:
        return True
    if response.status_code != 403:
        return False
    if "application/json" in response.headers.get("content-type", ""):
        code = response.json().get("error", {}).get("code")
        return code in ("forbidden", "unauthenticated")
    return 'id="login-form"' in response.text


def test_every_route_has_an_entry(app_client: TestClient) -> None:
    """The table names every route of the app and nothing else."""
    served = set(route_keys(app_client.app))
    assert sorted(served - set(ROUTES)) == [], "routes missing from ROUTES"
    assert sorted(set(ROUTES) - served) == [], "entries for routes the app does not have"


def test_every_route_refuses_exactly_whom_the_table_says(
    app_client: TestClient, settings: Settings
) -> None:
    """Each HTTP route, asked by anonymous, a guest and each staff role (CSRF token and
    all), is refused (401/403 for who they are) exactly when the table says."""
    callers = Callers(settings)
    wrong: list[str] = []
    for key, access in ROUTES.items():
        if key.startswith("WS "):
            continue
        method, path = concrete(key)
        for caller in CALLERS:
            headers = callers.headers(caller)
            headers["accept"] = "application/json" if path.startswith("/api/") else "text/html"
            app_client.cookies.clear()
            response = app_client.request(
                method,
                path,
                headers=headers,
                json={} if method != "GET" else None,
                follow_redirects=False,
            )
            if refused(response) == may(caller, access):
                wrong.append(f"{key} as {caller}: {response.status_code}")
    assert wrong == []


def test_metrics_need_the_token_whoever_asks(app_client: TestClient, settings: Settings) -> None:
    """`token` routes refuse every caller without the bearer token and answer with it."""
    callers = Callers(settings)
    for key, access in ROUTES.items():
        if access is not Access.TOKEN:
            continue
        _, path = concrete(key)
        for caller in CALLERS:
            app_client.cookies.clear()
            assert app_client.get(path, headers=callers.headers(caller)).status_code == 401
        assert app_client.get(path, headers={"authorization": f"Bearer {TOKEN}"}).is_success


# One message of each type, as a client would send it (ids that exist or fail later).
BODIES: dict[str, dict[str, Any]] = {
    "ping": {},
    "resume": {"after": 0},
    "post": {"client_id": "role-check", "text": "역할 확인"},
    "vote": {"question_id": 999},
    "unvote": {"question_id": 999},
    "answer": {"question_id": 999, "text": "답변"},
    "set_question_status": {"question_id": 999, "status": "forwarded", "department": "과"},
    "moderate": {"action": "slow_mode", "seconds": 0, "request_id": "m1"},
}


def test_every_message_type_has_an_entry(app_client: TestClient) -> None:
    """The table names every client message type the running app's hub knows."""
    hub = app_client.app_state["services"].hub
    assert set(MESSAGES) == {"ping", "resume", "post", *hub.message_types}
    assert set(BODIES) == set(MESSAGES)


def test_every_message_refuses_exactly_whom_the_table_says(
    app_client: TestClient, settings: Settings
) -> None:
    """Each WebSocket message, sent by every kind of caller, earns a refusal (`forbidden`
    or `no_session`) exactly when the table says; a ping after it marks the end."""
    callers = Callers(settings)
    wrong: list[str] = []
    for caller in CALLERS:
        app_client.cookies.clear()
        headers = {k: v for k, v in callers.headers(caller).items() if k == "cookie"}
        for kind, access in MESSAGES.items():
            with app_client.websocket_connect("/ws/broadcasts/1", headers=headers) as ws:
                assert ws.receive_json()["type"] == "hello"
                ws.send_json({"type": kind, **BODIES[kind]})
                ws.send_json({"type": "ping"})
                codes, pongs = [], 2 if kind == "ping" else 1
                while pongs:
                    frame = ws.receive_json()
                    if frame["type"] == "error":
                        codes.append(frame["code"])
                    pongs -= frame["type"] == "pong"
            was_refused = any(c in ("forbidden", "no_session") for c in codes)
            if was_refused == may(caller, access):
                wrong.append(f"{kind} as {caller}: {codes}")
    assert wrong == []


def test_roles_doc_is_the_table() -> None:
    """docs/roles.md carries the table generated from web.identity.roles, word for word."""
    text = DOCS.read_text(encoding="utf-8")
    assert markdown_table() in text, "regenerate it: python3 -m web.identity.roles"
