"""The operator status page and its JSON twin: staff only; viewers, rates, queue, health."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support import ROOT, TIMEOUT, AppServer, RedisServer, seed_broadcast
from web.app import create_app
from web.settings import Settings

PASSWORD = "correct horse battery staple"


def make_account(db: Path, username: str, role: str) -> None:
    """`live-seoul create-user` in its own process (as an operator would)."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "SECRET_KEY": "t",
        "LIVE_SEOUL_PASSWORD": PASSWORD,
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "web.cli",
            "create-user",
            username,
            "--role",
            role,
            "--display-name",
            "운영 담당",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT * 3,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def add_held(db: Path, broadcast_id: int) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO comments (broadcast_id, author_key, author_name, role, client_id, text,"
            " created_at, status) VALUES (?, 'h', 'H', 'guest', 'held-1', '검토 필요', ?, 'held')",
            (broadcast_id, datetime.now(UTC).isoformat(timespec="microseconds")),
        )


@pytest.fixture
def ops_client(settings: Settings) -> Iterator[TestClient]:
    seed_broadcast(settings.database_path, 1, title="시장과의 대화")
    make_account(settings.database_path, "ops", "operator")
    add_held(settings.database_path, 1)
    with TestClient(create_app(settings)) as c:
        yield c


def login(client: TestClient, username: str = "ops") -> None:
    r = client.post("/api/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text


def test_anonymous_and_guests_get_a_login_form(ops_client: TestClient) -> None:
    """Without a staff session the page is 401 with a login form and its script; the JSON
    twin is 401 for nobody and 403 for a guest."""
    page = ops_client.get("/operator/status")
    assert page.status_code == 401
    assert 'id="login-form"' in page.text and "/static/js/accounts/login.js?v=" in page.text
    assert "<script>" not in page.text
    assert ops_client.get("/api/operator/status").status_code == 401
    ops_client.post("/api/session", json={"nickname": "시민"})
    assert ops_client.get("/operator/status").status_code == 401
    denied = ops_client.get("/api/operator/status")
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "forbidden"


def test_staff_see_viewers_rates_queue_and_health(ops_client: TestClient) -> None:
    """An operator sees each active broadcast with its viewers, comment rate and held
    comments, plus the broker, the database and every worker."""
    csrf = ops_client.post("/api/session", json={"nickname": "시민"}).json()["csrf_token"]
    with ops_client.websocket_connect("/ws/broadcasts/1") as ws:
        assert ws.receive_json()["type"] == "hello"
        for n in range(3):
            r = ops_client.post(
                "/api/broadcasts/1/comments",
                headers={"X-CSRF-Token": csrf},
                json={"text": f"질문 {n}", "client_id": f"s{n}"},
            )
            assert r.status_code in (200, 201), r.text
        login(ops_client)
        data: dict[str, Any] = ops_client.get("/api/operator/status").json()
        page = ops_client.get("/operator/status")
    row = next(b for b in data["broadcasts"] if b["id"] == 1)
    assert row["title"] == "시장과의 대화"
    assert row["viewers"] == 1
    assert row["comments_last_minute"] == 4  # three posted and the held one
    assert row["held"] == 1
    assert data["totals"] == {"viewers": 1, "comments_last_minute": 4, "held": 1}
    assert data["broker"] == {"kind": "memory", "healthy": True}
    assert data["database"]["ok"] and 0 <= data["database"]["ping_ms"] < TIMEOUT * 1000
    assert [w["connections"] for w in data["workers"]] == [1]
    assert page.status_code == 200
    assert "시장과의 대화" in page.text and 'id="ops-broadcasts"' in page.text
    assert "/static/js/ops/status.js?v=" in page.text
    assert page.headers["cache-control"] == "no-store"


def test_status_page_login_form_works_in_a_browser(tmp_path: Path, browser: Any) -> None:
    """In Chromium, the 401 page's form logs a moderator in and the status page appears."""
    db = tmp_path / "ui.db"
    seed_broadcast(db, 1, title="구청장 브리핑")
    make_account(db, "mod", "moderator")
    server = AppServer(db)
    server.start()
    try:
        page = browser.new_page(locale="ko-KR")
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        response = page.goto(server.base + "/operator/status")
        assert response is not None and response.status == 401
        page.fill("#login-username", "mod")
        page.fill("#login-password", "wrong password")
        page.click("button[type=submit]")
        page.wait_for_selector("#login-error:not([hidden])", timeout=TIMEOUT * 1000)
        page.fill("#login-password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("#ops-status", timeout=TIMEOUT * 1000)
        assert page.locator("h1").inner_text() == "운영 현황"
        page.close()
        assert [e for e in errors if "401" not in e and "403" not in e] == []
    finally:
        server.stop()


def test_status_lists_every_worker_of_every_host(
    settings: Settings, redis_server: RedisServer
) -> None:
    """Workers announce themselves through Redis: the status page lists this worker and a
    worker of another host (its announcement written to the same Redis), with that host's
    viewers."""
    import dataclasses
    import json
    import time

    seed_broadcast(settings.database_path, 1, title="시장과의 대화")
    make_account(settings.database_path, "ops", "operator")
    snapshot = {
        "host": "host-b",
        "pid": 4242,
        "written_at": time.time(),
        "connections": 7,
        "rooms": 1,
        "viewers": {"1": 5},
        "broker_healthy": 1,
        "rss_bytes": 2**27,
    }
    # as RedisBroker.announce writes it (livechat.redis_broker.GROUP_PREFIX + WORKERS)
    assert (
        redis_server.command(
            "HSET", "live-seoul:group:workers", "host-b:4242", json.dumps(snapshot)
        )
        == b":1\r\n"
    )
    shared = dataclasses.replace(settings, redis_url=redis_server.url, host_id="host-a")
    with TestClient(create_app(shared)) as client:
        login(client)
        data: dict[str, Any] = client.get("/api/operator/status").json()
    hosts = [(w["host"], w["connections"]) for w in data["workers"]]
    assert hosts == [("host-a", 0), ("host-b", 7)]
    assert data["answered_host"] == "host-a"
    assert next(b for b in data["broadcasts"] if b["id"] == 1)["viewers"] == 5
