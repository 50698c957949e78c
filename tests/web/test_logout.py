"""Logging out ends a staff session on the server: a copy of the cookie taken before the
logout is refused afterwards, over HTTP and WebSocket, by this process and by another one
sharing the database."""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from websockets.sync.client import connect as ws_connect
from websockets.typing import Origin

from tests.support import TIMEOUT, server_pair, staff_database
from web.app import create_app
from web.identity.sessions import COOKIE
from web.settings import Settings

PASSWORD = "correct horse battery"
AUDIT = "/api/moderation/audit"


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One live broadcast and one moderator, built once (argon2 hashing is slow)."""
    return staff_database(
        tmp_path_factory.mktemp("logout") / "template.db",
        PASSWORD,
        ("mod", "moderator", "모더레이터"),
    )


@pytest.fixture
def site(settings: Settings, template_db: Path) -> Iterator[TestClient]:
    shutil.copyfile(template_db, settings.database_path)
    with TestClient(create_app(settings)) as client:
        yield client


def login(client: TestClient | httpx.Client) -> tuple[str, str]:
    """Log the moderator in with `client`'s jar; return (copy of the cookie, CSRF token)."""
    response = client.post("/api/login", json={"username": "mod", "password": PASSWORD})
    assert response.status_code == 200, response.text
    cookie = client.cookies.get(COOKIE)
    assert cookie
    return cookie, response.json()["csrf_token"]


def logout(client: TestClient | httpx.Client, cookie: str, csrf: str) -> None:
    response = client.post(
        "/api/logout", headers={"cookie": f"{COOKIE}={cookie}", "x-csrf-token": csrf}
    )
    assert response.status_code == 200, response.text
    assert f'{COOKIE}=""' in response.headers["set-cookie"]  # the browser's copy is cleared


def replay(client: TestClient | httpx.Client, cookie: str, path: str) -> Any:
    """GET `path` with `cookie` (an explicit Cookie header wins over the client's jar)."""
    return client.get(path, headers={"cookie": f"{COOKIE}={cookie}"})


def assert_moderator(client: TestClient | httpx.Client, cookie: str) -> None:
    assert replay(client, cookie, "/api/session").json()["role"] == "moderator"
    assert replay(client, cookie, AUDIT).status_code == 200


def assert_refused(client: TestClient | httpx.Client, cookie: str) -> None:
    assert replay(client, cookie, "/api/session").json()["role"] == "anonymous"
    assert replay(client, cookie, AUDIT).status_code == 401


def rows(db: Path) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute(
            "SELECT sid, account_id, expires_at FROM revoked_sessions ORDER BY expires_at"
        ).fetchall()


def write(db: Path, sql: str, params: list[tuple[Any, ...]] | None = None) -> None:
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.executemany(sql, params or [()])


def test_copied_cookie_is_refused_after_logout(site: TestClient) -> None:
    """After logout, a copy of the moderator's cookie is anonymous: no role, 401 on
    moderation reads and on a moderation action."""
    cookie, csrf = login(site)
    assert_moderator(site, cookie)
    logout(site, cookie, csrf)
    assert_refused(site, cookie)
    action = site.post(
        "/api/moderation/broadcasts/1/actions",
        json={"action": "close_chat"},
        headers={"cookie": f"{COOKIE}={cookie}", "x-csrf-token": csrf},
    )
    assert action.status_code == 401
    again = site.post("/api/logout", headers={"cookie": f"{COOKIE}={cookie}", "x-csrf-token": csrf})
    assert again.status_code == 401


def test_logout_ends_only_that_session(site: TestClient, settings: Settings) -> None:
    """The same moderator logged in elsewhere stays logged in there; one row is kept, until
    the cookie would have expired anyway."""
    here, csrf = login(site)
    site.cookies.clear()
    elsewhere, _ = login(site)
    before = datetime.now(UTC)
    logout(site, here, csrf)
    assert_refused(site, here)
    assert_moderator(site, elsewhere)
    [(_, account_id, expires_at)] = rows(settings.database_path)
    assert account_id == 1
    lifetime = timedelta(days=settings.session_max_age_days)
    assert before + lifetime <= datetime.fromisoformat(expires_at) <= before + lifetime * 1.01


def test_logging_in_again_ends_the_replaced_session(site: TestClient) -> None:
    """A second login in the same browser replaces its staff cookie and ends the old one."""
    old, _ = login(site)
    new, _ = login(site)
    assert old != new
    assert_refused(site, old)
    assert_moderator(site, new)


def test_expired_revocations_are_pruned(site: TestClient, settings: Settings) -> None:
    """A logout deletes revocation rows whose cookies have expired, and keeps the others."""
    now = datetime.now(UTC)
    write(
        settings.database_path,
        "INSERT INTO revoked_sessions (sid, account_id, revoked_at, expires_at)"
        " VALUES (?, 1, ?, ?)",
        [
            ("expired", now.isoformat(), (now - timedelta(seconds=1)).isoformat()),
            ("current", now.isoformat(), (now + timedelta(days=1)).isoformat()),
        ],
    )
    logout(site, *login(site))
    sids = [sid for sid, _, _ in rows(settings.database_path)]
    assert len(sids) == 2 and sids[0] == "current"  # "expired" gone, the new row last


def test_guest_logout_clears_the_cookie_and_stores_nothing(
    site: TestClient, settings: Settings
) -> None:
    """Guests stay stateless: their logout clears the cookie and writes no row."""
    response = site.post("/api/session", json={"nickname": "시민"})
    assert response.status_code == 201
    logout(site, site.cookies[COOKIE], response.json()["csrf_token"])
    assert site.get("/api/session").json()["role"] == "anonymous"
    assert rows(settings.database_path) == []


def test_disabling_an_account_ends_its_sessions(site: TestClient, settings: Settings) -> None:
    """A disabled account's cookie is refused at once, without a logout."""
    cookie, _ = login(site)
    assert_moderator(site, cookie)
    write(settings.database_path, "UPDATE accounts SET disabled = 1 WHERE username = 'mod'")
    assert_refused(site, cookie)


def comment_and_moderator(site: TestClient) -> tuple[int, str, str, dict[str, str]]:
    """A guest's comment on broadcast 1, and a moderator logged in: (comment id, the
    moderator's cookie, CSRF token, headers carrying that cookie). The client's jar is left
    empty, so only the headers decide who a socket is."""
    guest = site.post("/api/session", json={"nickname": "시민"}).json()["csrf_token"]
    posted = site.post(
        "/api/broadcasts/1/comments",
        json={"text": "댓글", "client_id": uuid.uuid4().hex},
        headers={"x-csrf-token": guest},
    )
    assert posted.status_code == 201, posted.text
    site.cookies.clear()
    cookie, csrf = login(site)
    site.cookies.clear()
    return posted.json()["id"], cookie, csrf, {"cookie": f"{COOKIE}={cookie}"}


def test_revoked_cookie_cannot_moderate_over_websocket(site: TestClient) -> None:
    """A WebSocket opened with the logged-out cookie is not a moderator: `moderate` is
    forbidden and the comment stays up."""
    comment_id, cookie, csrf, headers = comment_and_moderator(site)
    with site.websocket_connect("/ws/broadcasts/1", headers=headers) as ws:
        ws.send_json({"type": "moderate", "action": "no_such_action", "request_id": "r1"})
        assert until(ws.receive_json, "error")["code"] == "bad_field"  # a moderator here
    logout(site, cookie, csrf)
    with site.websocket_connect("/ws/broadcasts/1", headers=headers) as ws:
        ws.send_json(
            {
                "type": "moderate",
                "action": "remove",
                "comment_id": comment_id,
                "reason": "spam",
                "request_id": "r2",
            }
        )
        answer = until(ws.receive_json, "error", "moderated")
    assert (answer["type"], answer.get("code")) == ("error", "forbidden")
    visible = site.get("/api/broadcasts/1/comments").json()["items"]
    assert [c["id"] for c in visible] == [comment_id]


def test_a_socket_open_at_logout_loses_its_powers(site: TestClient) -> None:
    """A moderator's socket opened before the logout: its next command is answered
    `no_session` and does nothing, and the one after that is `forbidden`."""
    comment_id, cookie, csrf, headers = comment_and_moderator(site)
    with site.websocket_connect("/ws/broadcasts/1", headers=headers) as ws:
        ws.send_json({"type": "moderate", "action": "no_such_action", "request_id": "r1"})
        assert until(ws.receive_json, "error")["code"] == "bad_field"  # a moderator here
        logout(site, cookie, csrf)
        remove = {
            "type": "moderate",
            "action": "remove",
            "comment_id": comment_id,
            "reason": "spam",
        }
        ws.send_json({**remove, "request_id": "r2"})
        assert until(ws.receive_json, "error", "moderated")["code"] == "no_session"
        ws.send_json({**remove, "request_id": "r3"})
        assert until(ws.receive_json, "error", "moderated")["code"] == "forbidden"
    visible = site.get("/api/broadcasts/1/comments").json()["items"]
    assert [c["id"] for c in visible] == [comment_id]


def until(receive: Any, *kinds: str) -> dict[str, Any]:
    """The first frame `receive()` gives whose type is one of `kinds`."""
    while True:
        frame: dict[str, Any] = receive()
        if frame["type"] in kinds:
            return frame


@pytest.mark.e2e
def test_logout_on_one_process_is_enforced_by_another(tmp_path: Path, template_db: Path) -> None:
    """Two uvicorn processes on one database: a logout on A ends the session on B too,
    for HTTP and for a new WebSocket."""
    db = tmp_path / "shared.db"
    shutil.copyfile(template_db, db)
    with (
        server_pair(db, {}) as (a, b),
        httpx.Client(base_url=a.base, timeout=TIMEOUT) as on_a,
        httpx.Client(base_url=b.base, timeout=TIMEOUT) as on_b,
    ):
        cookie, csrf = login(on_a)
        assert_moderator(on_b, cookie)
        logout(on_a, cookie, csrf)
        assert_refused(on_a, cookie)
        assert_refused(on_b, cookie)
        with ws_connect(
            f"{b.ws_base}/ws/broadcasts/1",
            origin=Origin(b.base),
            additional_headers={"Cookie": f"{COOKIE}={cookie}"},
            open_timeout=TIMEOUT,
            proxy=None,
        ) as ws:
            ws.send(json.dumps({"type": "moderate", "action": "no_such_action", "request_id": "r"}))
            answer = until(lambda: json.loads(ws.recv(timeout=TIMEOUT)), "error", "moderated")
        assert answer["code"] == "forbidden"
