"""Limits that are not local to one host: two apps on one Redis (two processes' worth)
share the admission rate and the share-click limit; a limit spent on one is seen on the
other. (Login failures: tests/web/test_login_abuse.py.)"""

from __future__ import annotations

import dataclasses

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from livechat.admission import BACKLOG_HORIZON
from tests.support import RedisServer, seed_broadcast
from web.app import create_app
from web.settings import Settings


def test_admission_rate_is_shared_by_two_apps(
    settings: Settings, redis_server: RedisServer
) -> None:
    """With a burst of two per broadcast, one socket admitted on each app spends it: a
    third on either app is told `busy` (each app alone has admitted only one)."""
    seed_broadcast(settings.database_path, 1)
    shared = dataclasses.replace(
        settings, redis_url=redis_server.url, admission_burst=2, admission_rate=0.01
    )
    with TestClient(create_app(shared)) as one, TestClient(create_app(shared)) as two:
        with (
            one.websocket_connect("/ws/broadcasts/1") as a,
            two.websocket_connect("/ws/broadcasts/1") as b,
        ):
            assert a.receive_json()["type"] == "hello"
            assert b.receive_json()["type"] == "hello"
        with two.websocket_connect("/ws/broadcasts/1") as third:
            error = third.receive_json()
            with pytest.raises(WebSocketDisconnect) as info:
                third.receive_json()
        with two.websocket_connect("/ws/broadcasts/1") as fourth:
            later = fourth.receive_json()
    assert error["code"] == "busy" and 1 < error["retry_after"] <= 100
    assert info.value.code == 1013
    # Behind the client refused before it: a later turn (100 s later, here capped).
    assert later["code"] == "busy" and later["retry_after"] == BACKLOG_HORIZON


def test_admission_rate_is_per_process_without_redis(settings: Settings) -> None:
    """Without Redis each process keeps its own admission buckets (burst of one here)."""
    seed_broadcast(settings.database_path, 1)
    alone = dataclasses.replace(settings, admission_burst=1, admission_rate=0.01)
    with TestClient(create_app(alone)) as one, TestClient(create_app(alone)) as two:
        for client in (one, two):
            with client.websocket_connect("/ws/broadcasts/1") as ws:
                assert ws.receive_json()["type"] == "hello"
        with one.websocket_connect("/ws/broadcasts/1") as refused:
            assert refused.receive_json()["code"] == "busy"


def test_share_click_limit_is_shared_by_two_apps(
    settings: Settings, redis_server: RedisServer
) -> None:
    """30 counted clicks from one address, alternating between two apps, spend its limit
    on both: the 31st is refused (429, Retry-After), wherever it lands."""
    seed_broadcast(settings.database_path, 1)
    shared = dataclasses.replace(settings, redis_url=redis_server.url)
    body = {"network": "x", "url": "http://testserver/live/1"}
    with TestClient(create_app(shared)) as one, TestClient(create_app(shared)) as two:
        for n in range(30):
            assert (one if n % 2 else two).post("/api/share/click", json=body).status_code == 204
        refused = one.post("/api/share/click", json=body)
        assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 2
        assert two.post("/api/share/click", json=body).status_code == 429
    assert b"share-click:testclient" in redis_server.command("KEYS", "live-seoul:{bucket}:*")
