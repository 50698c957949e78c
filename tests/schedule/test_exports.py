"""Exports read back by independent parsers: the icalendar package and lxml with the
XMLTV DTD (tests/schedule/xmltv.dtd, from the XMLTV project)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import icalendar as ical
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lxml import etree

from schedule import (
    SEOUL,
    Broadcast,
    ExportLabels,
    ReplayCandidate,
    SitePaths,
    build_channel,
    icalendar,
    xmltv,
)
from schedule.exports import schedule_json

DTD = etree.DTD(str(Path(__file__).with_name("xmltv.dtd")))
DAY = date(2026, 11, 25)
T = datetime(2026, 11, 25, 14, 0, tzinfo=SEOUL)
NOW = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
# What the web layer passes in (web.schedule.routes.SITE_PATHS and EXPORT_LABELS).
PATHS = SitePaths(broadcast="/broadcasts/{id}", replay="/replays/{id}", live="/live/{id}")
LABELS = ExportLabels(
    replay="다시보기",
    replay_cut="다시보기 (일부)",
    cast="출연: {names}",
    location="라이브서울 {url}",
    reminder="{minutes}분 뒤 라이브서울: {title}",
)


def broadcast(bid: int = 1, **kw: object) -> Broadcast:
    fields: dict[str, object] = {
        "id": bid,
        "title": '교통 정책; 시민, 토론 \\ <회의> & "질문"',
        "description": "첫 줄\n둘째 줄: 버스·지하철 요금 개편 " + "긴 설명 " * 30,
        "category": "정책토론",
        "starts_at": T,
        "ends_at": T + timedelta(minutes=90),
        "status": "planned",
        "staff": ("서울시장", "교통정책과장"),
        "thumbnail_url": "/static/og/live.png",
    }
    fields.update(kw)
    return Broadcast(**fields)  # type: ignore[arg-type]


def channel() -> tuple[list, dict[int, Broadcast]]:  # type: ignore[type-arg]
    b = broadcast()
    replays = [ReplayCandidate(i, f"다시보기 {i} <&>", 1800 * i, NOW, 10 * i) for i in (1, 2, 3)]
    return build_channel(DAY, [b], replays, repeat_window=timedelta(hours=4)), {b.id: b}


def test_xmltv_is_valid_against_the_dtd_with_seoul_offsets() -> None:
    """The XMLTV document validates against xmltv.dtd and every time ends in +0900."""
    slots, broadcasts = channel()
    document = xmltv(
        slots,
        broadcasts,
        channel_id="live-seoul.example",
        channel_name="라이브서울",
        base_url="https://live.example",
        paths=PATHS,
        labels=LABELS,
    )
    root = etree.fromstring(document)
    assert DTD.validate(root), DTD.error_log.filter_from_errors()
    programmes = root.findall("programme")
    assert len(programmes) == sum(1 for s in slots if s.kind != "card")
    for p in programmes:
        assert p.get("start", "").endswith(" +0900") and p.get("stop", "").endswith(" +0900")
    live = next(p for p in programmes if p.get("start") == "20261125140000 +0900")
    assert live.findtext("title") == broadcasts[1].title
    assert [x.text for x in live.iter("presenter")] == ["서울시장", "교통정책과장"]
    assert live.get("stop") == "20261125153000 +0900"


def test_icalendar_parses_with_reminders_in_seoul_time() -> None:
    """The icalendar package reads every event back: times, text, reminder, status."""
    items = [
        broadcast(1),
        broadcast(
            2,
            status="cancelled",
            starts_at=T + timedelta(days=1),
            ends_at=T + timedelta(days=1, hours=1),
        ),
        broadcast(
            3,
            status="ended",
            starts_at=T - timedelta(days=1),
            ends_at=T - timedelta(days=1) + timedelta(hours=1),
        ),
    ]
    text = icalendar(
        items,
        base_url="https://live.example",
        name="라이브서울 편성표",
        now=NOW,
        paths=PATHS,
        labels=LABELS,
    )
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    cal = ical.Calendar.from_ical(text)
    events = {int(str(e["UID"]).split("-")[1].split("@")[0]): e for e in cal.walk("VEVENT")}
    first = events[1]
    assert first.decoded("DTSTART") == T
    assert first.decoded("DTSTART").utcoffset() == timedelta(hours=9)
    assert first.decoded("DTEND") == T + timedelta(minutes=90)
    assert str(first["SUMMARY"]) == items[0].title
    assert str(first["DESCRIPTION"]).startswith("출연: 서울시장, 교통정책과장\n첫 줄\n둘째 줄")
    alarms = first.walk("VALARM")
    assert len(alarms) == 1 and alarms[0].decoded("TRIGGER") == -timedelta(minutes=10)
    assert str(events[2]["STATUS"]) == "CANCELLED" and not events[2].walk("VALARM")
    assert not events[3].walk("VALARM")


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=300))
@example("\\N")  # the icalendar package's own escaping read it as a line break
@example("a\\,b;c\\")
def test_folding_keeps_text_and_octet_limit(text: str) -> None:
    """Folded lines are at most 75 octets and unfold to the original text (control
    characters other than the line break dropped)."""
    body = icalendar(
        [broadcast(1, title=text)],
        base_url="https://live.example",
        name="라이브서울",
        now=NOW,
        paths=PATHS,
        labels=LABELS,
    )
    assert all(len(part.encode()) <= 75 for part in body.split("\r\n"))
    event = ical.Calendar.from_ical(body).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "".join(c for c in text if c == "\n" or ord(c) >= 0x20)


def test_schedule_json_names_kinds_and_offsets() -> None:
    """The JSON day lists every slot with kind, Seoul times and ids; lives carry status."""
    slots, _broadcasts = channel()
    body = schedule_json(DAY, slots, PATHS, {1: "planned"})
    assert body["timezone"] == "Asia/Seoul"
    assert body["slots"][0]["start"] == "2026-11-25T00:00:00+09:00"
    assert body["slots"][-1]["end"] == "2026-11-26T00:00:00+09:00"
    live = [s for s in body["slots"] if s["kind"] == "live"]
    assert live == [{**live[0], "broadcast_id": 1, "status": "planned", "url": "/broadcasts/1"}]
