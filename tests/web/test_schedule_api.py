"""The schedule over HTTP (in-process, lifespan running): public JSON, exports, pages,
the operators' API with its errors, and status frames reaching viewers."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import icalendar as ical
import pytest
from lxml import etree
from starlette.testclient import TestClient

from schedule import ChannelSlot
from tests.support import account_store, seed_broadcast
from web.app import create_app
from web.database import migrate
from web.pages.share_links import SLOT_ANCHOR
from web.rendering.i18n import SEOUL
from web.schedule.routes import _slot_rows
from web.settings import Settings

DTD = etree.DTD(str(Path(__file__).parent.parent / "schedule" / "xmltv.dtd"))
PASSWORD = "operator-password-1"
SEOUL_OFFSET = "+09:00"


async def _accounts(settings: Settings) -> None:
    async with account_store(settings.database_path) as store:
        await store.create("operator", PASSWORD, "operator", "김편성", "편성팀")


@pytest.fixture
def site(settings: Settings) -> Iterator[TestClient]:
    """An app with one broadcast on air now (id 1) and an operator's account (the schedule desk)."""
    seed_broadcast(settings.database_path, 1, title="서울시장과의 대화")
    asyncio.run(_accounts(settings))
    with TestClient(create_app(settings)) as client:
        yield client


def login(client: TestClient) -> str:
    response = client.post("/api/login", json={"username": "operator", "password": PASSWORD})
    assert response.status_code == 200, response.text
    token: str = response.json()["csrf_token"]
    return token


def seoul(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def future(hours: float) -> datetime:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(microsecond=0)


def new_broadcast(**kw: Any) -> dict[str, Any]:
    body = {
        "title": "버스 노선 개편안 발표",
        "category": "기자설명회",
        "starts_at": seoul(future(24)),
        "ends_at": seoul(future(25)),
        "staff": ["교통정책과장"],
        "description": "출퇴근 혼잡 완화",
    }
    body.update(kw)
    return body


def error(response: Any) -> dict[str, Any]:
    found: dict[str, Any] = response.json()["error"]
    return found


def test_now_names_what_is_on_and_next(site: TestClient) -> None:
    """/api/now: the live broadcast on now (by id, with its offset), what's next, lives."""
    body = site.get("/api/now").json()
    assert body["timezone"] == "Asia/Seoul" and body["now"].endswith(SEOUL_OFFSET)
    on_now = body["on_now"]
    assert (on_now["kind"], on_now["broadcast_id"], on_now["status"]) == ("live", 1, "live")
    assert 29 * 60 <= on_now["offset_seconds"] <= 31 * 60
    assert on_now["watch_url"] == "/live/1"
    assert body["next"]["start"] == on_now["end"]
    assert [b["id"] for b in body["live"]] == [1]


def test_schedule_day_is_gapless_json(site: TestClient) -> None:
    """/api/schedule covers the Seoul day 00:00–24:00 with slots that touch end to start."""
    day = datetime.now(UTC).astimezone().date()
    body = site.get("/api/schedule").json()
    slots = body["slots"]
    assert body["timezone"] == "Asia/Seoul"
    assert slots[0]["start"].endswith("T00:00:00+09:00")
    assert all(a["end"] == b["start"] for a, b in itertools.pairwise(slots))
    assert {s["kind"] for s in slots} <= {"live", "replay", "card"}
    assert any(s["broadcast_id"] == 1 and s["status"] == "live" for s in slots)
    other = site.get(f"/api/schedule?date={day.isoformat()}")
    assert other.status_code == 200


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/api/schedule?date=2026-13-01", 400, "date"),
        ("/api/schedule?date=25-11-2026", 400, "date"),
        ("/api/schedule?date=1999-01-01", 404, "date"),
        ("/schedule.xml?date=nope", 400, "date"),
        ("/api/broadcasts/999", 404, "broadcast_id"),
        ("/broadcasts/999.ics", 404, "broadcast_id"),
        ("/api/broadcasts?from=2026-11-02&to=2026-11-01", 400, "to"),
    ],
)
def test_bad_input_and_unknown_ids_name_the_field(
    site: TestClient, path: str, status: int, field: str
) -> None:
    """Malformed dates are 400, unknown ids and far dates 404, each naming the field."""
    response = site.get(path)
    assert response.status_code == status
    assert error(response)["field"] == field


def test_unknown_pages_are_404_html(site: TestClient) -> None:
    """An unknown broadcast page and a date without a schedule are 404 pages."""
    html = {"accept": "text/html"}
    assert site.get("/broadcasts/999", headers=html).status_code == 404
    assert site.get("/schedule?date=1999-01-01", headers=html).status_code == 404
    assert site.get("/schedule/2026-02-30", headers=html).status_code == 400


def test_operator_api_needs_staff_and_csrf(site: TestClient) -> None:
    """Anonymous is 401, a guest 403, a missing CSRF token 403 naming the header."""
    assert site.post("/api/broadcasts", json=new_broadcast()).status_code == 401
    guest = site.post("/api/session", json={"nickname": "시민"}).json()["csrf_token"]
    response = site.post("/api/broadcasts", json=new_broadcast(), headers={"X-CSRF-Token": guest})
    assert response.status_code == 403
    site.post("/api/logout", headers={"X-CSRF-Token": guest})
    login(site)
    response = site.post("/api/broadcasts", json=new_broadcast())
    assert response.status_code == 403 and error(response)["field"] == "X-CSRF-Token"


def test_create_edit_reschedule_with_precise_errors(site: TestClient) -> None:
    """Operators create, edit and reschedule; every refusal names the field and nothing
    is half-written."""
    csrf = {"X-CSRF-Token": login(site)}
    created = site.post("/api/broadcasts", json=new_broadcast(), headers=csrf)
    assert created.status_code == 201, created.text
    b = created.json()
    assert b["starts_at"].endswith(SEOUL_OFFSET) and b["status"] == "planned"

    bad = site.post(
        "/api/broadcasts",
        headers=csrf,
        json=new_broadcast(title="", ends_at=new_broadcast()["starts_at"], staff="x" * 41),
    )
    assert bad.status_code == 400
    assert error(bad)["field"] == "title"
    assert {e["field"] for e in error(bad)["errors"]} == {"title", "ends_at", "staff"}

    clash = site.post(
        "/api/broadcasts",
        headers=csrf,
        json=new_broadcast(title="겹침", starts_at=seoul(future(24.5)), ends_at=seoul(future(26))),
    )
    assert clash.status_code == 409
    assert error(clash)["field"] == "starts_at"
    assert error(clash)["conflict"]["id"] == b["id"]
    assert f"broadcast {b['id']}" in error(clash)["message"]

    edited = site.patch(
        f"/api/broadcasts/{b['id']}", headers=csrf, json={"title": "버스 노선 개편안 최종 발표"}
    )
    assert edited.status_code == 200 and edited.json()["title"] == "버스 노선 개편안 최종 발표"
    assert edited.json()["starts_at"] == b["starts_at"]

    too_long = site.post(
        f"/api/broadcasts/{b['id']}/reschedule",
        headers=csrf,
        json={"starts_at": seoul(future(30)), "ends_at": seoul(future(43))},
    )
    assert too_long.status_code == 400 and error(too_long)["field"] == "ends_at"
    missing = site.post(
        f"/api/broadcasts/{b['id']}/reschedule", headers=csrf, json={"starts_at": seoul(future(30))}
    )
    assert missing.status_code == 400 and error(missing)["field"] == "ends_at"
    moved = site.post(
        f"/api/broadcasts/{b['id']}/reschedule",
        headers=csrf,
        json={"starts_at": seoul(future(30)), "ends_at": seoul(future(31))},
    )
    assert moved.status_code == 200
    assert site.get(f"/api/broadcasts/{b['id']}").json()["starts_at"] == moved.json()["starts_at"]
    assert site.patch("/api/broadcasts/999", headers=csrf, json={}).status_code == 404
    malformed = site.post(
        "/api/broadcasts",
        headers={**csrf, "content-type": "application/json"},
        content=b"{not json",
    )
    assert malformed.status_code == 400 and error(malformed)["code"] == "malformed_json"


def frames_until(ws: Any, kind: str) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = json.loads(ws.receive_text())
        if frame.get("type") == kind:
            return frame


def test_go_live_and_end_reach_viewers_and_make_the_replay(site: TestClient) -> None:
    """Going live and ending send status frames to open viewers; ending makes the replay,
    which the end answer and the frame both name; a cancelled one cannot go live."""
    csrf = {"X-CSRF-Token": login(site)}
    b = site.post(
        "/api/broadcasts",
        headers=csrf,
        json=new_broadcast(
            starts_at=seoul(future(1.6)),
            ends_at=seoul(future(2.5)),
            stream_url="/static/media/demo-replay/index.m3u8",
        ),
    ).json()
    with site.websocket_connect(
        f"/ws/broadcasts/{b['id']}", headers={"origin": "http://testserver"}
    ) as ws:
        early = site.post(f"/api/broadcasts/{b['id']}/live", headers=csrf)
        assert early.status_code == 409 and error(early)["conflict"]["id"] == 1
        assert site.post("/api/broadcasts/1/end", headers=csrf, json={}).status_code == 200
        live = site.post(f"/api/broadcasts/{b['id']}/live", headers=csrf)
        assert live.status_code == 200 and live.json()["status"] == "live"
        assert live.json()["starts_at"] < b["starts_at"]  # went on air early: starts now
        assert frames_until(ws, "status")["status"] == "live"
        again = site.post(f"/api/broadcasts/{b['id']}/live", headers=csrf)
        assert again.status_code == 409 and error(again)["field"] == "status"
        bad = site.post(
            f"/api/broadcasts/{b['id']}/end",
            headers=csrf,
            json={"chapters": [{"start": 999999, "title": "x"}]},
        )
        assert bad.status_code == 400 and error(bad)["field"] == "chapters"
        assert site.get(f"/api/broadcasts/{b['id']}").json()["status"] == "live"
        ended = site.post(
            f"/api/broadcasts/{b['id']}/end",
            headers=csrf,
            json={"chapters": [{"start": 0, "title": "인사"}]},
        )
        assert ended.status_code == 200, ended.text
        replay_id = ended.json()["replay_id"]
        frame = frames_until(ws, "status")
        assert (frame["status"], frame["replay_id"]) == ("ended", replay_id)
    replay = site.get(f"/api/replays/{replay_id}").json()
    assert replay["title"] == b["title"]
    assert site.get(f"/api/broadcasts/{b['id']}").json()["replay_id"] == replay_id
    other = site.post(
        "/api/broadcasts",
        headers=csrf,
        json=new_broadcast(
            title="취소될 방송", starts_at=seoul(future(40)), ends_at=seoul(future(41))
        ),
    ).json()
    assert site.post(f"/api/broadcasts/{other['id']}/cancel", headers=csrf).status_code == 200
    refused = site.post(f"/api/broadcasts/{other['id']}/live", headers=csrf)
    assert refused.status_code == 409 and "cancelled" in error(refused)["message"]
    assert site.post("/api/broadcasts/999/end", headers=csrf, json={}).status_code == 404


def test_broadcast_page_has_safe_broadcast_event_json_ld(site: TestClient) -> None:
    """The broadcast page carries schema.org BroadcastEvent JSON-LD that no title can
    break out of."""
    csrf = {"X-CSRF-Token": login(site)}
    evil = "</script><script>alert(1)</script>"
    b = site.post("/api/broadcasts", headers=csrf, json=new_broadcast(title=evil)).json()
    page = site.get(f"/broadcasts/{b['id']}").text
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert blocks and all("<" not in block for block in blocks)
    # the page's own BroadcastEvent (the share metadata adds a VideoObject beside it)
    data = next(d for d in map(json.loads, blocks) if d["@type"] == "BroadcastEvent")
    assert data["isLiveBroadcast"] is True
    assert data["name"] == evil
    assert data["startDate"] == b["starts_at"] and data["endDate"] == b["ends_at"]
    assert "<script>alert(1)" not in page


def test_exports_over_http_parse(site: TestClient) -> None:
    """schedule.xml validates against the XMLTV DTD; both .ics parse with icalendar."""
    xml = site.get("/schedule.xml")
    assert xml.headers["content-type"].startswith("application/xml")
    root = etree.fromstring(xml.content)
    assert DTD.validate(root), DTD.error_log.filter_from_errors()
    assert all(p.get("start", "").endswith("+0900") for p in root.iter("programme"))
    ics = site.get("/schedule.ics")
    assert ics.headers["content-type"].startswith("text/calendar")
    cal = ical.Calendar.from_ical(ics.text)
    assert [str(e["SUMMARY"]) for e in cal.walk("VEVENT")] == ["서울시장과의 대화"]
    one = ical.Calendar.from_ical(site.get("/broadcasts/1.ics").text)
    assert len(one.walk("VEVENT")) == 1 and one.walk("VALARM")


def test_pages_render(site: TestClient) -> None:
    """Home shows what is on, the schedule day has its navigation and now marker, the
    operator page asks anonymous visitors to log in and shows staff the list."""
    home = site.get("/").text
    assert "서울시장과의 대화" in home and 'href="/live/1"' in home
    day = site.get("/schedule").text
    assert 'rel="prev"' in day and 'rel="next"' in day and 'aria-current="time"' in day
    assert 'href="/broadcasts/1"' in day
    assert 'id="login-form"' in site.get("/operator").text
    login(site)
    staff = site.get("/operator").text
    assert 'id="broadcast-form"' in staff and "서울시장과의 대화" in staff


def test_slot_links_open_where_the_channel_is() -> None:
    """Each slot has a unique `at-HHMM` anchor (seconds added when two start in the same
    minute), the form a shared slot link uses; the replay on now links to the second the
    channel has reached in it, other replays to their start."""
    t0 = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)  # 14:00 in Seoul
    slots = [
        ChannelSlot("replay", "다시보기 1", t0, t0 + timedelta(minutes=30), replay_id=3),
        ChannelSlot(
            "card",
            "다음 방송 안내",
            t0 + timedelta(minutes=30),
            t0 + timedelta(minutes=30, seconds=40),
        ),
        ChannelSlot(
            "replay",
            "다시보기 2",
            t0 + timedelta(minutes=30, seconds=40),
            t0 + timedelta(hours=1),
            replay_id=4,
            offset_seconds=5,
        ),
    ]
    rows = _slot_rows(slots, {}, t0 + timedelta(minutes=7, seconds=3))
    assert [r["anchor"] for r in rows] == ["at-1400", "at-1430", "at-143040"]
    assert all(SLOT_ANCHOR.fullmatch(r["anchor"]) for r in rows)
    assert [r["href"] for r in rows] == ["/replays/3?t=423", None, "/replays/4?t=5"]


def test_a_live_crossing_midnight_is_one_programme(settings: Settings) -> None:
    """At 23:09 during a live from 23:02 to 00:02, /api/now's state shows the live with its
    own times and, as next, what follows it at 00:02 — not the live's after-midnight part.
    At 00:01 the same live is on, from 23:02, 61 minutes in."""
    import sqlite3

    from web.schedule.routes import now_state

    day = datetime.now(SEOUL).date() + timedelta(days=3)
    starts = datetime.combine(day, datetime.min.time(), SEOUL) + timedelta(hours=23, minutes=2)
    ends = starts + timedelta(hours=1)
    migrate(settings.database_path)
    with sqlite3.connect(settings.database_path) as conn:
        conn.execute(
            "INSERT INTO broadcasts (id, title, description, category, starts_at, ends_at,"
            " status, created_at, updated_at) VALUES (5, '심야 토론', '', '회의', ?, ?,"
            " 'planned', ?, ?)",
            (seoul(starts), seoul(ends), seoul(starts), seoul(starts)),
        )
    with TestClient(create_app(settings)) as client:
        svc = client.app_state["services"]
        evening = client.portal.call(now_state, svc, starts + timedelta(minutes=7))
        after_midnight = client.portal.call(now_state, svc, ends - timedelta(minutes=1))
    for state, offset in ((evening, 7 * 60), (after_midnight, 59 * 60)):
        on_now = state["on_now"]
        assert on_now["broadcast_id"] == 5
        assert datetime.fromisoformat(on_now["start"]) == starts
        assert datetime.fromisoformat(on_now["end"]) == ends
        assert on_now["offset_seconds"] == offset
        assert state["next"]["broadcast_id"] != 5
        assert datetime.fromisoformat(state["next"]["start"]) == ends
