"""Hostile parameters found by exploratory testing: each gets a 4xx naming what is wrong
(never a 500), in process against the demo channel."""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.web.test_questions_api import Users, make_staff
from web.app import create_app
from web.settings import Settings

HUGE = "99999999999999999999"  # past SQLite's 64-bit integers


@pytest.fixture
def demo(settings: Settings) -> Iterator[Users]:
    make_staff(settings.database_path, "kim", "official", "교통정책과")
    make_staff(settings.database_path, "mod", "moderator", "")
    make_staff(settings.database_path, "op", "operator", "")
    with TestClient(create_app(dataclasses.replace(settings, demo=True))) as client:
        users = Users(client)
        users.guest("시민A")
        users.login("kim")
        users.login("mod")
        users.login("op")
        yield users


def live_id(users: Users) -> int:
    broadcast_id: int = users.get("시민A", "/api/now").json()["live"][0]["id"]
    return broadcast_id


def replay_id(users: Users) -> int:
    found: int = users.get("시민A", "/api/replays?limit=1").json()["items"][0]["id"]
    return found


def error(response: object) -> dict[str, str]:
    body: dict[str, dict[str, str]] = response.json()  # type: ignore[attr-defined]
    return body["error"]


@pytest.mark.parametrize(
    "path",
    [
        "/live/{n}",
        "/replays/{n}",
        "/broadcasts/{n}",
        "/broadcasts/{n}/questions",
        "/broadcasts/{n}.ics",
        "/embed/replays/{n}",
        "/api/broadcasts/{n}",
        "/api/broadcasts/{n}/comments",
        "/api/replays/{n}",
        "/api/replays/{n}/comments",
        "/api/questions/{n}",
        "/live/9223372036854775808",
    ],
)
def test_ids_past_64_bits_are_unknown_ids(demo: Users, path: str) -> None:
    """An id no database can hold is a 404 like any unknown id, not a driver error."""
    assert demo.get("시민A", path.format(n=HUGE)).status_code == 404


def test_ws_to_an_unknown_or_impossible_broadcast(demo: Users) -> None:
    """A socket to a broadcast that does not exist is told so (4404), after the handshake;
    an `after` in non-ASCII digits is a policy close (1008), not a crash."""
    client = demo.use("시민A")
    origin = {"origin": "http://testserver"}
    with (
        pytest.raises(WebSocketDisconnect) as info,
        client.websocket_connect("/ws/broadcasts/999999", headers=origin) as ws,
    ):
        ws.receive_json()
    assert info.value.code == 4404
    for after in ("%C2%B2", "%D9%A1%D9%A2", "-1"):
        with (
            pytest.raises(WebSocketDisconnect) as info,
            client.websocket_connect(
                f"/ws/broadcasts/{live_id(demo)}?after={after}", headers=origin
            ) as ws,
        ):
            ws.receive_json()
        assert info.value.code == 1008, after


def test_deeply_nested_json_is_malformed(demo: Users) -> None:
    """5,000 nested arrays are a 400 `malformed_json`, even before any session exists."""
    client = demo.use("시민A")
    for url in ("/api/session", "/api/login", f"/api/broadcasts/{live_id(demo)}/comments"):
        response = client.post(
            url,
            content="[" * 5000 + "]" * 5000,
            headers={
                "content-type": "application/json",
                "origin": "http://testserver",
                "x-csrf-token": demo.tokens["시민A"],
            },
        )
        assert response.status_code == 400, (url, response.text)
        assert error(response)["code"] == "malformed_json"


@pytest.mark.parametrize(
    "query",
    [
        "broadcast_id=%C2%B2",
        "limit=%C2%B2",
        "before=%C2%B9",
        "limit=%D9%A1%D9%A2",
        "limit=1_0",
        "limit=%201",
    ],
)
def test_integers_are_ascii_digits(demo: Users, query: str) -> None:
    """Query integers are ASCII digits: `²`, Arabic-Indic digits, `1_0` and spaces are
    400 naming the parameter."""
    response = demo.get("mod", f"/api/moderation/audit?{query}")
    assert response.status_code == 400, response.text
    assert error(response)["field"] == query.split("=")[0]
    comments = demo.get("시민A", f"/api/broadcasts/{live_id(demo)}/comments?{query}")
    if query.startswith("limit"):
        assert comments.status_code == 400 and error(comments)["field"] == "limit"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("to=9999-12-31", "to"),
        ("from=0001-01-01", "from"),
        ("from=9999-12-31T23:00:00-09:00", "from"),
        ("from=0001-01-01T00:00:00%2B09:00", "from"),
    ],
)
def test_catalog_dates_out_of_range(demo: Users, query: str, field: str) -> None:
    for path in ("/api/replays", "/replays"):
        response = demo.get("시민A", f"{path}?{query}")
        assert response.status_code == 400, (path, response.text)
    assert error(demo.get("시민A", f"/api/replays?{query}"))["field"] == field


@pytest.mark.parametrize(
    "payload",
    [
        ["newest", "2026-11-25T10:30:00+00:00", 10**29],
        ["newest", "garbage", 22],
        ["most_viewed", -5, 3],
        "[" * 3000 + "]" * 3000,
    ],
)
def test_forged_cursors_are_refused(demo: Users, payload: object) -> None:
    raw = payload if isinstance(payload, str) else json.dumps(payload)
    cursor = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    sort = "most_viewed" if isinstance(payload, list) and payload[0] == "most_viewed" else ""
    response = demo.get("시민A", f"/api/replays?cursor={cursor}&sort={sort or 'newest'}")
    assert response.status_code == 400 and error(response)["field"] == "cursor"


def test_numbers_out_of_range_in_bodies(demo: Users) -> None:
    """A 400-digit offset, a 31-digit question id and broadcasts in year 1 or 9999 are
    400s naming the field."""
    rid = replay_id(demo)
    big = demo.use("시민A").post(
        f"/api/replays/{rid}/comments",
        content='{"text":"x","client_id":"a1","offset":1' + "0" * 400 + "}",
        headers={"content-type": "application/json", "x-csrf-token": demo.tokens["시민A"]},
    )
    assert big.status_code == 400 and error(big)["field"] == "offset"
    seen = demo.post("시민A", "/api/me/notifications/seen", {"ids": [10**30]})
    assert seen.status_code == 400 and error(seen)["field"] == "ids"
    for starts in (
        "0001-01-01T00:00:00+09:00",
        "9999-12-31T23:00:00-09:00",
        "9999-12-31T23:00:00+09:00",
    ):
        created = demo.post(
            "op",
            "/api/broadcasts",
            {
                "title": "먼 미래",
                "category": "회의",
                "starts_at": starts,
                "ends_at": "2026-12-31T10:00:00+09:00",
            },
        )
        assert created.status_code == 400, created.text
        assert "starts_at" in [e["field"] for e in created.json()["error"]["errors"]]


def test_error_bodies_name_the_parameter_that_was_sent(demo: Users) -> None:
    """A question note or department too long names `note`/`department`; a share by
    kind and id names `id`; a replay window far past any recording names `from`."""
    ask = demo.post(
        "시민A", f"/api/broadcasts/{live_id(demo)}/questions", {"text": "질문", "client_id": "q1"}
    )
    qid = ask.json()["question"]["id"]
    for body, field in (
        ({"status": "forwarded", "department": "x" * 61}, "department"),
        ({"status": "answered", "note": "n" * 201}, "note"),
    ):
        response = demo.post("kim", f"/api/questions/{qid}/status", body)
        assert response.status_code == 400, response.text
        assert error(response)["field"] == field
    share = demo.get("시민A", "/api/share?kind=replay&id=99999")
    assert share.status_code == 404 and error(share)["field"] == "id"
    window = demo.get("시민A", f"/api/replays/{replay_id(demo)}/comments?from=1e300")
    assert window.status_code == 400 and error(window)["field"] == "from"


def test_clients_without_cookies_count_a_bounded_number_of_views(demo: Users) -> None:
    """Thirty cookie-less GETs of a replay page from one address count at most the
    per-address burst; a browser that keeps its cookie counts once however often it
    reloads."""
    from web.services import COOKIELESS_VIEW_BURST

    rid = replay_id(demo)
    client = demo.client

    def views() -> int:
        count: int = demo.get("시민A", f"/api/replays/{rid}").json()["view_count"]
        return count

    before = views()
    for _ in range(COOKIELESS_VIEW_BURST + 10):
        client.cookies.clear()
        assert client.get(f"/replays/{rid}").status_code == 200
    assert views() == before + COOKIELESS_VIEW_BURST
    demo.use("시민A")
    for _ in range(3):
        client.get(f"/replays/{rid}")
    assert views() == before + COOKIELESS_VIEW_BURST + 1
