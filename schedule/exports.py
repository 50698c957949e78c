"""The schedule for other programs: XMLTV, iCalendar (RFC 5545, written by the `icalendar`
package) and JSON. Pure functions.

The site's paths and the exports' words are the web layer's: callers pass a `SitePaths`
and an `ExportLabels` (schedule knows no routes and no user-facing text).

Every export writes times in Asia/Seoul with their offset (`+0900` in XMLTV, `+09:00` in
JSON, `TZID=Asia/Seoul` with a VTIMEZONE in iCalendar), so a reader never has to guess.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar as ical

from schedule.broadcast import Broadcast
from schedule.channel import SEOUL, ChannelSlot

REMINDER = timedelta(minutes=10)
PRODID = "-//Live Seoul//Live Seoul companion//KO"


@dataclass(frozen=True)
class SitePaths:
    """Where the site shows things, as `str.format` templates with `{id}`."""

    broadcast: str  # a broadcast's page
    replay: str  # a replay's page
    live: str  # a broadcast's live player

    def of_broadcast(self, broadcast_id: int) -> str:
        return self.broadcast.format(id=broadcast_id)

    def of_replay(self, replay_id: int) -> str:
        return self.replay.format(id=replay_id)

    def of_live(self, broadcast_id: int) -> str:
        return self.live.format(id=broadcast_id)


@dataclass(frozen=True)
class ExportLabels:
    """The exports' words, as `str.format` templates."""

    replay: str  # an XMLTV replay slot's sub-title
    replay_cut: str  # ...when only part of the replay fits the slot
    cast: str  # iCalendar description's first line: `{names}`
    location: str  # iCalendar LOCATION: `{url}` of the live player
    reminder: str  # iCalendar alarm: `{minutes}`, `{title}`


# ---- JSON -------------------------------------------------------------------------------


def slot_json(slot: ChannelSlot, paths: SitePaths, tz: ZoneInfo = SEOUL) -> dict[str, Any]:
    url = (
        paths.of_broadcast(slot.broadcast_id)
        if slot.broadcast_id is not None
        else paths.of_replay(slot.replay_id)
        if slot.replay_id is not None
        else None
    )
    return {
        "kind": slot.kind,
        "title": slot.title,
        "start": slot.start.astimezone(tz).isoformat(),
        "end": slot.end.astimezone(tz).isoformat(),
        "broadcast_id": slot.broadcast_id,
        "replay_id": slot.replay_id,
        "cut": slot.cut,
        "offset_seconds": slot.offset_seconds,
        "url": url,
    }


def schedule_json(
    day: date,
    slots: Sequence[ChannelSlot],
    paths: SitePaths,
    statuses: Mapping[int, str] | None = None,
    tz: ZoneInfo = SEOUL,
) -> dict[str, Any]:
    """`{"date", "timezone", "slots": [...]}`; live slots carry their broadcast's status."""
    items = []
    for slot in slots:
        item = slot_json(slot, paths, tz)
        if slot.broadcast_id is not None and statuses is not None:
            item["status"] = statuses.get(slot.broadcast_id, "planned")
        items.append(item)
    return {"date": day.isoformat(), "timezone": str(tz.key), "slots": items}


def broadcast_json(b: Broadcast, paths: SitePaths, tz: ZoneInfo = SEOUL) -> dict[str, Any]:
    return {
        "id": b.id,
        "title": b.title,
        "description": b.description,
        "category": b.category,
        "starts_at": b.starts_at.astimezone(tz).isoformat(),
        "ends_at": b.ends_at.astimezone(tz).isoformat(),
        "status": b.status,
        "stream_url": b.stream_url,
        "thumbnail_url": b.thumbnail_url,
        "staff": list(b.staff),
        "duration_seconds": b.duration_seconds,
        "url": paths.of_broadcast(b.id),
    }


# ---- XMLTV ------------------------------------------------------------------------------


def xmltv_time(moment: datetime, tz: ZoneInfo = SEOUL) -> str:
    """`20261125140000 +0900`: XMLTV's date format with an explicit offset."""
    return moment.astimezone(tz).strftime("%Y%m%d%H%M%S %z")


def _xml_text(text: str) -> str:
    """Drop characters XML 1.0 cannot carry (validation already keeps them out)."""
    return "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 0x20)


def xmltv(
    slots: Iterable[ChannelSlot],
    broadcasts: Mapping[int, Broadcast],
    *,
    channel_id: str,
    channel_name: str,
    base_url: str,
    paths: SitePaths,
    labels: ExportLabels,
    tz: ZoneInfo = SEOUL,
) -> bytes:
    """An XMLTV document (valid against xmltv.dtd) of the live and replay slots."""
    base = base_url.rstrip("/")
    tv = ET.Element(
        "tv",
        {
            "source-info-name": channel_name,
            "source-info-url": base + "/",
            "generator-info-name": "live-seoul/0.1",
        },
    )
    channel = ET.SubElement(tv, "channel", {"id": channel_id})
    ET.SubElement(channel, "display-name", {"lang": "ko"}).text = _xml_text(channel_name)
    ET.SubElement(channel, "url").text = base + "/"
    for slot in slots:
        if slot.kind == "card":
            continue
        programme = ET.SubElement(
            tv,
            "programme",
            {
                "start": xmltv_time(slot.start, tz),
                "stop": xmltv_time(slot.end, tz),
                "channel": channel_id,
            },
        )
        ET.SubElement(programme, "title", {"lang": "ko"}).text = _xml_text(slot.title)
        broadcast = broadcasts.get(slot.broadcast_id) if slot.broadcast_id else None
        if slot.kind == "replay":
            ET.SubElement(programme, "sub-title", {"lang": "ko"}).text = (
                labels.replay_cut if slot.cut else labels.replay
            )
        if broadcast is not None and broadcast.description:
            ET.SubElement(programme, "desc", {"lang": "ko"}).text = _xml_text(broadcast.description)
        if broadcast is not None and broadcast.staff:
            credits = ET.SubElement(programme, "credits")
            for name in broadcast.staff:
                ET.SubElement(credits, "presenter").text = _xml_text(name)
        if broadcast is not None and broadcast.category:
            ET.SubElement(programme, "category", {"lang": "ko"}).text = _xml_text(
                broadcast.category
            )
        ET.SubElement(programme, "language").text = "ko"
        ET.SubElement(programme, "length", {"units": "seconds"}).text = str(slot.duration_seconds)
        if broadcast is not None and broadcast.thumbnail_url:
            src = broadcast.thumbnail_url
            ET.SubElement(programme, "icon", {"src": src if "://" in src else base + src})
        path = (
            paths.of_broadcast(slot.broadcast_id)
            if slot.broadcast_id is not None
            else paths.of_replay(slot.replay_id or 0)
        )
        ET.SubElement(programme, "url").text = base + path
        ET.SubElement(programme, "country").text = "KR"
        if slot.kind == "replay":
            ET.SubElement(programme, "previously-shown")
    ET.indent(tv)
    body = ET.tostring(tv, encoding="unicode")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE tv SYSTEM "xmltv.dtd">\n' + body + "\n"
    ).encode()


# ---- iCalendar (RFC 5545) ---------------------------------------------------------------


def _clean(text: str) -> str:
    """`text` without control characters other than the line break."""
    return "".join(ch for ch in text if ch == "\n" or ord(ch) >= 0x20)


class _Text(ical.vText):
    """A TEXT value escaped as RFC 5545 §3.3.11 says (`\\ ; , newline`) and nothing else:
    the package's own escaping reads a literal backslash-N in a title as a line break."""

    def to_ical(self) -> bytes:
        escaped = (
            str(self)
            .replace("\\", "\\\\")
            .replace(";", "\\;")
            .replace(",", "\\,")
            .replace("\n", "\\n")
        )
        return escaped.encode("utf-8")


def _text(text: str) -> _Text:
    """A TEXT property's value: `text` cleaned (`_clean`) and escaped (`_Text`)."""
    return _Text(_clean(text))


def _vtimezone(tz: ZoneInfo) -> ical.Timezone:
    # Seoul has kept +09:00 without daylight saving since 1988; one STANDARD suffices.
    moment = datetime(2000, 1, 1, tzinfo=tz)
    offset = moment.utcoffset() or timedelta(0)
    standard = ical.TimezoneStandard()
    standard.add("DTSTART", datetime(1970, 1, 1))
    standard.add("TZOFFSETFROM", offset)
    standard.add("TZOFFSETTO", offset)
    standard.add("TZNAME", moment.tzname() or "KST")
    zone = ical.Timezone()
    zone.add("TZID", tz.key)
    zone.add_component(standard)
    return zone


def _vevent(
    b: Broadcast,
    *,
    base: str,
    host: str,
    stamp: datetime,
    tz: ZoneInfo,
    reminder: timedelta,
    paths: SitePaths,
    labels: ExportLabels,
) -> ical.Event:
    url = base + paths.of_broadcast(b.id)
    description = b.description + ("\n\n" if b.description else "") + url
    if b.staff:
        description = labels.cast.format(names=", ".join(b.staff)) + "\n" + description
    event = ical.Event()
    event.add("UID", f"broadcast-{b.id}@{host}")
    event.add("DTSTAMP", stamp.astimezone(UTC))
    event.add("DTSTART", b.starts_at.astimezone(tz))
    event.add("DTEND", b.ends_at.astimezone(tz))
    event.add("SUMMARY", _text(b.title))
    event.add("DESCRIPTION", _text(description))
    event.add("URL", url)
    event.add("LOCATION", _text(labels.location.format(url=base + paths.of_live(b.id))))
    event.add("STATUS", "CANCELLED" if b.status == "cancelled" else "CONFIRMED")
    event.add("TRANSP", "TRANSPARENT")
    if b.category:
        event.add("CATEGORIES", [_clean(b.category)])
    if b.status in ("planned", "live"):
        minutes = int(reminder.total_seconds() // 60)
        alarm = ical.Alarm()
        alarm.add("ACTION", "DISPLAY")
        alarm.add("TRIGGER", -timedelta(minutes=minutes))
        alarm.add("DESCRIPTION", _text(labels.reminder.format(minutes=minutes, title=b.title)))
        event.add_component(alarm)
    return event


def icalendar(
    broadcasts: Iterable[Broadcast],
    *,
    base_url: str,
    name: str,
    now: datetime,
    paths: SitePaths,
    labels: ExportLabels,
    tz: ZoneInfo = SEOUL,
    reminder: timedelta = REMINDER,
) -> str:
    """A VCALENDAR with one VEVENT per broadcast, each with a display reminder (VALARM)
    `reminder` before it starts (none for ended or cancelled ones). Written by the
    `icalendar` package: CRLF line ends, lines folded at 75 octets."""
    base = base_url.rstrip("/")
    host = base.split("://", 1)[-1].split("/", 1)[0] or "live-seoul"
    cal = ical.Calendar()
    cal.add("VERSION", "2.0")
    cal.add("PRODID", PRODID)
    cal.add("CALSCALE", "GREGORIAN")
    cal.add("METHOD", "PUBLISH")
    cal.add("X-WR-CALNAME", _text(name))
    cal.add("X-WR-TIMEZONE", tz.key)
    cal.add_component(_vtimezone(tz))
    for b in broadcasts:
        cal.add_component(
            _vevent(
                b,
                base=base,
                host=host,
                stamp=now,
                tz=tz,
                reminder=reminder,
                paths=paths,
                labels=labels,
            )
        )
    body: bytes = cal.to_ical(sorted=False)
    return body.decode()
