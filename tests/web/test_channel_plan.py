"""The published channel over HTTP: ending a live (its replay joins the catalog) or
moving one changes only the slots it touches; JSON and XMLTV agree."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from schedule import build_channel
from tests.replay.kit import stores
from tests.support import seed_broadcast
from tests.web.test_schedule_api import _accounts, error, login, new_broadcast, seoul
from web.app import create_app
from web.rendering.i18n import SEOUL
from web.settings import Settings

TITLES = [
    "도시재생 주민설명회",
    "청년 정책 타운홀 미팅",
    "서울 보행친화 도시 포럼",
    "디지털 배움터 개강",
    "한강 공원 안전 점검",
    "청책토론회",
    "기후동행카드 설명회",
    "시장 브리핑",
]


async def _catalog(settings: Settings) -> None:
    async with stores(settings.database_path) as s:
        for minutes, title in zip((40, 55, 70, 35, 50, 65, 45, 60), TITLES, strict=True):
            await s.publish(title, minutes=minutes)


@pytest.fixture
def site(settings: Settings) -> Iterator[TestClient]:
    """A live on air now (id 1), eight replays a month old, an official's account."""
    seed_broadcast(settings.database_path, 1, title="서울시장과의 대화")
    asyncio.run(_accounts(settings))
    asyncio.run(_catalog(settings))
    with TestClient(create_app(settings)) as client:
        yield client


def slots(client: TestClient, day: str) -> list[dict[str, Any]]:
    body = client.get("/api/schedule", params={"date": day})
    assert body.status_code == 200, body.text
    found: list[dict[str, Any]] = body.json()["slots"]
    return found


def untouched(
    day_slots: list[dict[str, Any]], start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """The replay slots that do not meet `[start, end)`."""
    return [
        s
        for s in day_slots
        if s["kind"] == "replay"
        and not (
            datetime.fromisoformat(s["start"]) < end and start < datetime.fromisoformat(s["end"])
        )
    ]


def untouched_programmes(xmltv: str, start: datetime, end: datetime) -> list[tuple[str, ...]]:
    """The XMLTV programmes (start, stop, titles) that do not meet `[start, end)`."""
    found = []
    for programme in ET.fromstring(xmltv).iter("programme"):
        begins, stops = (
            datetime.strptime(programme.get(k, ""), "%Y%m%d%H%M%S %z") for k in ("start", "stop")
        )
        if not (begins < end and start < stops):
            titles = tuple(t.text or "" for t in programme.iter("title"))
            found.append((programme.get("start", ""), programme.get("stop", ""), *titles))
    return found


def test_ending_a_live_keeps_the_published_replay_slots(site: TestClient) -> None:
    """End the live on air: its replay joins the catalog (a fresh build would move it into
    the coming slots); the rest of today's replay slots and all of tomorrow's stay, in JSON
    and in XMLTV; the time the live gave back is filled."""
    today = datetime.now(SEOUL).date()
    tomorrow = today + timedelta(days=1)
    live = site.get("/api/broadcasts/1").json()
    starts, ends = (datetime.fromisoformat(live[k]) for k in ("starts_at", "ends_at"))
    before = {d: slots(site, d.isoformat()) for d in (today, tomorrow)}
    # Within 90 minutes of midnight the live reaches into tomorrow: only what it does not
    # touch is compared, in XMLTV as in JSON.
    xml_before = site.get("/schedule.xml", params={"date": tomorrow.isoformat()}).text
    kept_xml = untouched_programmes(xml_before, starts, ends)
    assert kept_xml and untouched(before[tomorrow], starts, ends), "tomorrow has replay slots"
    csrf = {"X-CSRF-Token": login(site)}
    ended = site.post("/api/broadcasts/1/end", headers=csrf, json={"duration_seconds": 1800})
    assert ended.status_code == 200, ended.text
    svc = site.app_state["services"]
    catalog = site.portal.call(svc.replays.channel_candidates)
    assert ended.json()["replay_id"] in {r.id for r in catalog}
    fresh = build_channel(tomorrow, [], catalog, repeat_window=timedelta(hours=6))
    assert [s.replay_id for s in fresh] != [s["replay_id"] for s in before[tomorrow]]
    after = {d: slots(site, d.isoformat()) for d in (today, tomorrow)}
    for d in (today, tomorrow):
        assert untouched(after[d], starts, ends) == untouched(before[d], starts, ends)
    xml_after = site.get("/schedule.xml", params={"date": tomorrow.isoformat()}).text
    assert untouched_programmes(xml_after, starts, ends) == kept_xml
    now = datetime.now(UTC)
    on_at_now = [
        s
        for s in after[today] + after[tomorrow]
        if datetime.fromisoformat(s["start"]) <= now < datetime.fromisoformat(s["end"])
    ]
    assert on_at_now and on_at_now[0]["kind"] != "live"


def test_moving_a_live_changes_only_the_slots_it_touches(site: TestClient) -> None:
    """A live booked into tomorrow afternoon, then moved an hour later: each time, only the
    replay slots meeting the old or new hour change (the time they free is filled anew);
    an overlapping booking is refused."""
    tomorrow = datetime.now(SEOUL).date() + timedelta(days=1)
    csrf = {"X-CSRF-Token": login(site)}
    before = slots(site, tomorrow.isoformat())
    start = datetime.combine(tomorrow, datetime.min.time(), SEOUL) + timedelta(hours=14)
    made = site.post(
        "/api/broadcasts",
        headers=csrf,
        json=new_broadcast(starts_at=seoul(start), ends_at=seoul(start + timedelta(hours=1))),
    )
    assert made.status_code == 201, made.text
    booked = slots(site, tomorrow.isoformat())
    hour = timedelta(hours=1)
    kept = untouched(before, start, start + hour)
    assert kept and all(s in booked for s in kept)
    # the live on air (id 1) is in tomorrow's slots too when it runs past midnight
    lives_before = [s["broadcast_id"] for s in before if s["kind"] == "live"]
    assert [s["broadcast_id"] for s in booked if s["kind"] == "live"] == [
        *lives_before,
        made.json()["id"],
    ]
    moved = site.post(
        f"/api/broadcasts/{made.json()['id']}/reschedule",
        headers=csrf,
        json={"starts_at": seoul(start + hour), "ends_at": seoul(start + 2 * hour)},
    )
    assert moved.status_code == 200, moved.text
    after = slots(site, tomorrow.isoformat())
    kept = untouched(booked, start, start + 2 * hour)
    assert kept and all(s in after for s in kept)
    moved_slot = next(s for s in after if s.get("broadcast_id") == made.json()["id"])
    assert moved_slot["start"] == (start + hour).isoformat()
    clash = site.post(
        "/api/broadcasts",
        headers=csrf,
        json=new_broadcast(starts_at=seoul(start + hour), ends_at=seoul(start + 2 * hour)),
    )
    assert clash.status_code == 409 and error(clash)["conflict"]["id"] == made.json()["id"]
