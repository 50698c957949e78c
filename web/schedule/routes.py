"""Everything HTTP about the schedule: the channel, exports, operators' API, pages.

Public (no session):
* `GET /api/now` — what is on (with the offset a viewer joining now starts at), what is
  next, and every broadcast marked live.
* `GET /api/schedule?date=YYYY-MM-DD` — one Seoul day of the channel as JSON.
* `GET /schedule.xml?date=` (XMLTV), `GET /schedule.ics`, `GET /broadcasts/{id}.ics`.
* `GET /api/broadcasts?from=&to=`, `GET /api/broadcasts/{id}`.
* Pages: `/` (on now, up next, today at a glance), `/schedule[?date=]` and
  `/schedule/{date}` (the day), `/broadcasts/{id}`.

Operators (role official, moderator or admin; JSON with `X-CSRF-Token`):
`POST /api/broadcasts`, `PATCH /api/broadcasts/{id}`, `POST /api/broadcasts/{id}/reschedule`,
`/live`, `/end` (makes the replay), `/cancel`; the page `/operator`.

Going live and ending reach open pages at once: a `status` frame to the broadcast's
viewers through the comment hub (every process), and a `channel` frame on room 0, which
`WS /ws/channel` (`web.schedule.channel_feed`) passes to open home and schedule pages; they also
poll every 30 s.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from livechat import CommentHub
from replay import clean_chapters
from schedule import (
    CATEGORIES,
    SEOUL,
    Broadcast,
    BroadcastError,
    ChannelSlot,
    FieldError,
    OverlapError,
    build_channel,
    day_bounds,
    icalendar,
    now_playing,
    parse_draft,
    replan,
    schedule_json,
    slot_json,
    xmltv,
)
from schedule.exports import ExportLabels, SitePaths, broadcast_json
from web.accounts.staff_pages import staff_gate
from web.http.errors import ApiError, error_body, http_status
from web.http.requests import json_body, require_access
from web.identity.roles import Access
from web.pages.errors import error_page
from web.pages.share_bar import context_for_broadcast, context_for_schedule_day
from web.rendering.i18n import translate
from web.rendering.templating import request_locale
from web.schedule.channel_feed import announce_change
from web.services import Services, services

# The site's paths and the words of the XMLTV and iCalendar exports (schedule.exports
# takes them as parameters: the routes and the Korean-language feeds are this layer's).
SITE_PATHS = SitePaths(broadcast="/broadcasts/{id}", replay="/replays/{id}", live="/live/{id}")
EXPORT_LABELS = ExportLabels(
    replay="다시보기",
    replay_cut="다시보기 (일부)",
    cast="출연: {names}",
    location="라이브서울 {url}",
    reminder="{minutes}분 뒤 라이브서울: {title}",
)
DAY_RANGE = timedelta(days=400)  # dates further from today than this are 404
ICS_PAST, ICS_FUTURE = timedelta(days=14), timedelta(days=90)
NOW_POLL_SECONDS = 30


# ---- helpers ----------------------------------------------------------------------------


def seoul_today(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(SEOUL).date()


def parse_day(raw: str | None, *, field: str = "date") -> date:
    """`YYYY-MM-DD` (default today in Seoul); 400 if malformed, 404 if out of range."""
    if raw is None or raw == "":
        return seoul_today()
    try:
        if len(raw) != 10:
            raise ValueError(raw)
        day = date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, field, "must be a date as YYYY-MM-DD") from None
    if abs(day - seoul_today()) > DAY_RANGE:
        raise ApiError(404, field, f"no schedule for {day.isoformat()}")
    return day


def broadcast_error(exc: BroadcastError) -> JSONResponse:
    """A `BroadcastError` as the API's error body, with every problem listed."""
    extra: dict[str, Any] = {
        "errors": [{"field": e.field, "message": e.message} for e in exc.errors]
    }
    if isinstance(exc, OverlapError):
        extra["conflict"] = {
            "id": exc.other.id,
            "title": exc.other.title,
            "starts_at": exc.other.starts_at.astimezone(SEOUL).isoformat(),
            "ends_at": exc.other.ends_at.astimezone(SEOUL).isoformat(),
        }
    return JSONResponse(
        error_body(exc.code, exc.message, exc.field, **extra), http_status(exc.code)
    )


def _broadcast_id(request: Request) -> int:
    return int(request.path_params["broadcast_id"])


async def _existing(svc: Services, broadcast_id: int) -> Broadcast:
    found = await svc.schedule.get(broadcast_id)
    if found is None:
        raise ApiError(404, "broadcast_id", f"no broadcast {broadcast_id}")
    return found


async def channel_day(
    svc: Services,
    day: date,
    now: datetime | None = None,
) -> tuple[list[ChannelSlot], dict[int, Broadcast]]:
    """The channel of one Seoul day and the broadcasts standing in it, by id.

    A day that starts within `CHANNEL_PUBLISH_HOURS` of now is published on first read
    (the first worker to store it wins) and from then on only `replan`ned: its replay
    slots move only where a live touches them. Later days are computed afresh."""
    start, end = day_bounds(day)
    lives = await svc.schedule.between(start, end)
    replays = await svc.replays.channel_candidates()
    window = timedelta(hours=svc.settings.replay_repeat_window_hours)
    published = await svc.schedule.channel_plan(day)
    if published is None:
        horizon = timedelta(hours=svc.settings.channel_publish_hours)
        if start >= (now or datetime.now(UTC)) + horizon:
            slots = build_channel(day, lives, replays, repeat_window=window)
            return slots, {b.id: b for b in lives}
        # Publishing: open with something other than the episode the published day
        # before ends with at midnight (no back-to-back across days).
        before = await svc.schedule.channel_plan(day - timedelta(days=1))
        last = before[-1] if before else None
        slots = build_channel(
            day,
            lives,
            replays,
            repeat_window=window,
            after_title=(
                last.title if last and last.kind == "replay" and last.end == start else None
            ),
        )
        published = await svc.schedule.publish_plan(day, slots)
    slots = replan(day, published, lives, replays, repeat_window=window)
    if [s for s in slots if s.kind != "live"] != published:
        await svc.schedule.publish_plan(day, slots, replace=True)
    return slots, {b.id: b for b in lives}


def _slot_view(
    slot: ChannelSlot | None, broadcasts: dict[int, Broadcast], offset: int = 0
) -> dict[str, Any] | None:
    if slot is None:
        return None
    view = slot_json(slot, SITE_PATHS)
    if slot.broadcast_id is not None:
        b = broadcasts.get(slot.broadcast_id)
        view["status"] = b.status if b else "planned"
        view["watch_url"] = f"/live/{slot.broadcast_id}"
    elif slot.replay_id is not None:
        view["watch_url"] = f"/replays/{slot.replay_id}" + (f"?t={offset}" if offset else "")
    else:
        view["watch_url"] = None
    view["offset_seconds"] = offset
    return view


async def now_state(svc: Services, instant: datetime) -> dict[str, Any]:
    """What `/api/now` answers (also what the home page renders first)."""
    day = seoul_today(instant)
    slots, broadcasts = await channel_day(svc, day)
    playing = now_playing(slots, instant)
    on_now, following = playing.slot, playing.next_slot
    if on_now is not None and on_now.broadcast_id is not None:
        # A live crossing midnight is one programme, not two slots: its own times.
        b = broadcasts.get(on_now.broadcast_id)
        midnight, next_midnight = day_bounds(day)
        if b is not None and on_now.start == midnight:
            on_now = replace(on_now, start=min(b.starts_at, on_now.start), offset_seconds=0)
        if b is not None and on_now.end == next_midnight:
            on_now = replace(on_now, end=max(b.ends_at, on_now.end))
    if following is None:
        tomorrow, more = await channel_day(svc, day + timedelta(days=1))
        broadcasts.update(more)
        if on_now is not None and tomorrow and tomorrow[0].start < on_now.end:
            tomorrow = tomorrow[1:]  # the rest of the live on now
        following = tomorrow[0] if tomorrow else None
    lives = await svc.schedule.with_status("live")
    return {
        "timezone": "Asia/Seoul",
        "now": instant.astimezone(SEOUL).isoformat(timespec="seconds"),
        "on_now": _slot_view(on_now, broadcasts, playing.offset_seconds),
        "next": _slot_view(following, broadcasts),
        "live": [broadcast_json(b, SITE_PATHS) for b in lives],
    }


def json_ld(b: Broadcast, base: str) -> Markup:
    """schema.org BroadcastEvent, safe inside <script type="application/ld+json">."""
    data = {
        "@context": "https://schema.org",
        "@type": "BroadcastEvent",
        "name": b.title,
        "description": b.description or b.title,
        "isLiveBroadcast": True,
        "startDate": b.starts_at.astimezone(SEOUL).isoformat(),
        "endDate": b.ends_at.astimezone(SEOUL).isoformat(),
        "eventStatus": (
            "https://schema.org/EventCancelled"
            if b.status == "cancelled"
            else "https://schema.org/EventScheduled"
        ),
        "url": f"{base}/broadcasts/{b.id}",
        "inLanguage": "ko",
        "publishedOn": {"@type": "BroadcastService", "name": "라이브서울", "url": base + "/"},
        "performer": [{"@type": "Person", "name": name} for name in b.staff],
    }
    if b.thumbnail_url:
        data["image"] = b.thumbnail_url if "://" in b.thumbnail_url else base + b.thumbnail_url
    text = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
    return Markup(text)  # noqa: S704 - JSON with every "<" escaped cannot close the script


def publish_status(hub: CommentHub, b: Broadcast, replay_id: int | None = None) -> None:
    """Tell the broadcast's viewers (every process) and the channel feed of a change."""
    if hub.chat_window is not None:
        hub.chat_window.forget(b.id)  # comments open or close with the status, here at once
    frame: dict[str, Any] = {"type": "status", "status": b.status, "broadcast_id": b.id}
    if replay_id is not None:
        frame["replay_id"] = replay_id
        frame["replay_url"] = f"/replays/{replay_id}"
    hub.broadcast_frame(b.id, frame)
    announce_change(hub)


# ---- public JSON and exports -------------------------------------------------------------


async def api_now(request: Request) -> Response:
    state = await now_state(services(request), datetime.now(UTC))
    return JSONResponse(state, headers={"Cache-Control": "no-store"})


async def api_schedule(request: Request) -> Response:
    svc = services(request)
    day = parse_day(request.query_params.get("date"))
    slots, broadcasts = await channel_day(svc, day)
    body = schedule_json(day, slots, SITE_PATHS, {b.id: b.status for b in broadcasts.values()})
    return JSONResponse(body, headers={"Cache-Control": "no-cache"})


async def schedule_xml(request: Request) -> Response:
    svc = services(request)
    day = parse_day(request.query_params.get("date"))
    slots, broadcasts = await channel_day(svc, day)
    base = svc.settings.public_origin
    host = urlsplit(base).hostname or "live-seoul"
    body = xmltv(
        slots,
        broadcasts,
        channel_id=f"live-seoul.{host}",
        channel_name="라이브서울",
        base_url=base,
        paths=SITE_PATHS,
        labels=EXPORT_LABELS,
    )
    return Response(
        body,
        media_type="application/xml",
        headers={"Content-Disposition": f'inline; filename="live-seoul-{day}.xml"'},
    )


def _ics(svc: Services, items: list[Broadcast], filename: str) -> Response:
    body = icalendar(
        items,
        base_url=svc.settings.public_origin,
        name="라이브서울 편성표",
        now=datetime.now(UTC),
        paths=SITE_PATHS,
        labels=EXPORT_LABELS,
    )
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


async def schedule_ics(request: Request) -> Response:
    svc = services(request)
    now = datetime.now(UTC)
    items = await svc.schedule.between(now - ICS_PAST, now + ICS_FUTURE, include_cancelled=True)
    return _ics(svc, items, "live-seoul.ics")


async def broadcast_ics(request: Request) -> Response:
    svc = services(request)
    b = await _existing(svc, _broadcast_id(request))
    return _ics(svc, [b], f"live-seoul-{b.id}.ics")


async def api_list(request: Request) -> Response:
    svc = services(request)
    params = request.query_params
    first = (
        parse_day(params.get("from"), field="from")
        if params.get("from")
        else (seoul_today() - timedelta(days=1))
    )
    last = (
        parse_day(params.get("to"), field="to")
        if params.get("to")
        else (first + timedelta(days=14))
    )
    if last < first:
        raise ApiError(400, "to", "must not be before from")
    if last - first > timedelta(days=62):
        raise ApiError(400, "to", "at most 62 days at once")
    start, _ = day_bounds(first)
    _, end = day_bounds(last)
    items = await svc.schedule.between(start, end, include_cancelled=True)
    return JSONResponse(
        {
            "timezone": "Asia/Seoul",
            "from": first.isoformat(),
            "to": last.isoformat(),
            "broadcasts": [broadcast_json(b, SITE_PATHS) for b in items],
        }
    )


async def api_get(request: Request) -> Response:
    svc = services(request)
    b = await _existing(svc, _broadcast_id(request))
    replay = await svc.replays.for_broadcast(b.id)
    return JSONResponse(
        {**broadcast_json(b, SITE_PATHS), "replay_id": replay.id if replay else None}
    )


# ---- operators ---------------------------------------------------------------------------


async def api_create(request: Request) -> Response:
    require_access(request, Access.SCHEDULE)
    svc = services(request)
    data = await json_body(request)
    try:
        b = await svc.schedule.create(parse_draft(data))
    except BroadcastError as exc:
        return broadcast_error(exc)
    announce_change(svc.hub)
    return JSONResponse(
        broadcast_json(b, SITE_PATHS),
        status_code=201,
        headers={"Location": f"/api/broadcasts/{b.id}"},
    )


async def _edit(request: Request, data: dict[str, Any]) -> Response:
    svc = services(request)
    current = await _existing(svc, _broadcast_id(request))
    try:
        draft = parse_draft(data, base=current)
        updated = await svc.schedule.update(current.id, draft)
    except BroadcastError as exc:
        return broadcast_error(exc)
    if updated is None:
        raise ApiError(404, "broadcast_id", f"no broadcast {current.id}")
    announce_change(svc.hub)
    return JSONResponse(broadcast_json(updated, SITE_PATHS))


async def api_edit(request: Request) -> Response:
    require_access(request, Access.SCHEDULE)
    return await _edit(request, await json_body(request))


async def api_reschedule(request: Request) -> Response:
    require_access(request, Access.SCHEDULE)
    data = await json_body(request)
    for name in ("starts_at", "ends_at"):
        if name not in data:
            raise ApiError(400, name, "required")
    unknown = sorted(set(data) - {"starts_at", "ends_at"})
    if unknown:
        raise ApiError(400, unknown[0], "unknown field: reschedule takes starts_at and ends_at")
    return await _edit(request, data)


async def _move(request: Request, status: str) -> tuple[Services, Broadcast]:
    svc = services(request)
    broadcast_id = _broadcast_id(request)
    await _existing(svc, broadcast_id)
    moved = await svc.schedule.set_status(broadcast_id, status)
    if moved is None:
        raise ApiError(404, "broadcast_id", f"no broadcast {broadcast_id}")
    return svc, moved


async def api_go_live(request: Request) -> Response:
    require_access(request, Access.SCHEDULE)
    try:
        svc, b = await _move(request, "live")
    except BroadcastError as exc:
        return broadcast_error(exc)
    publish_status(svc.hub, b)
    for went_live in svc.on_go_live:
        went_live(b)
    return JSONResponse(broadcast_json(b, SITE_PATHS))


def _end_options(
    data: dict[str, Any], b: Broadcast
) -> tuple[str, int | None, list[tuple[int, str]]]:
    url = data.get("recording_url", b.stream_url)
    if (
        not isinstance(url, str)
        or len(url) > 500
        or (url and not url.startswith(("https://", "http://", "/")))
    ):
        raise ApiError(400, "recording_url", "must be an http(s) URL or a path, at most 500")
    duration = data.get("duration_seconds")
    if duration is not None and (
        not isinstance(duration, int) or isinstance(duration, bool) or not 0 < duration <= 86400
    ):
        raise ApiError(400, "duration_seconds", "must be a whole number of seconds, 1–86400")
    raw = data.get("chapters", [])
    if not isinstance(raw, list) or len(raw) > 200:
        raise ApiError(400, "chapters", "must be a list of at most 200 {start, title}")
    chapters: list[tuple[int, str]] = []
    for item in raw:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("start"), int)
            or not isinstance(item.get("title"), str)
        ):
            raise ApiError(400, "chapters", "each chapter is {start: seconds, title: text}")
        chapters.append((item["start"], item["title"]))
    unknown = sorted(set(data) - {"recording_url", "duration_seconds", "chapters"})
    if unknown:
        raise ApiError(400, unknown[0], "unknown field")
    return url, duration, chapters


async def api_end(request: Request) -> Response:
    require_access(request, Access.SCHEDULE)
    svc = services(request)
    data = await json_body(request)
    current = await _existing(svc, _broadcast_id(request))
    url, duration, chapters = _end_options(data, current)
    if current.status != "live":
        return broadcast_error(
            BroadcastError(
                [
                    FieldError(
                        "status", f"only a live broadcast can end (this one is {current.status})"
                    )
                ]
            )
        )
    try:
        # Check the chapters against the recording before anything is written.
        length = duration or max(current.duration_seconds, 1)
        clean_chapters(chapters, length)
    except ValueError as exc:
        raise ApiError(400, "chapters", str(exc)) from None
    try:
        svc, b = await _move(request, "ended")
    except BroadcastError as exc:
        return broadcast_error(exc)
    replay = await svc.replays.create_from_broadcast(
        b, recording_url=url, duration_seconds=duration, chapters=chapters
    )
    publish_status(svc.hub, b, replay.id)
    return JSONResponse(
        {
            **broadcast_json(b, SITE_PATHS),
            "replay_id": replay.id,
            "replay_url": f"/replays/{replay.id}",
        }
    )


async def api_cancel(request: Request) -> Response:
    require_access(request, Access.SCHEDULE)
    try:
        svc, b = await _move(request, "cancelled")
    except BroadcastError as exc:
        return broadcast_error(exc)
    publish_status(svc.hub, b)
    return JSONResponse(broadcast_json(b, SITE_PATHS))


# ---- pages -------------------------------------------------------------------------------


async def _page_error(request: Request, status: int, message: str) -> Response:
    return await error_page(request, status, translate(request_locale(request), message))


def _slot_rows(
    slots: list[ChannelSlot], broadcasts: dict[int, Broadcast], instant: datetime
) -> list[dict[str, Any]]:
    rows = []
    anchors: set[str] = set()
    for index, slot in enumerate(slots):
        b = broadcasts.get(slot.broadcast_id) if slot.broadcast_id is not None else None
        now = slot.start <= instant < slot.end
        elapsed = int((instant - slot.start).total_seconds()) if now else 0
        rows.append(
            {
                "slot": slot,
                "broadcast": b,
                "now": now,
                "index": index,
                "status": b.status if b else None,
                "href": _slot_href(slot, slot.offset_seconds + elapsed),
                "elapsed": elapsed,
                "anchor": slot_anchor(slot.start, anchors),
            }
        )
    return rows


def _slot_href(slot: ChannelSlot, offset: int) -> str | None:
    """Where a slot's title leads: a replay opens where the channel is in it."""
    if slot.broadcast_id is not None:
        return f"/broadcasts/{slot.broadcast_id}"
    if slot.replay_id is not None:
        return f"/replays/{slot.replay_id}" + (f"?t={offset}" if offset else "")
    return None


def slot_anchor(start: datetime, taken: set[str]) -> str:
    """The fragment a link to a slot uses: `at-1400` (Seoul time), `at-140030` when two
    slots start in the same minute (a short card)."""
    local = start.astimezone(SEOUL)
    anchor = f"at-{local:%H%M}"
    if anchor in taken:
        anchor = f"at-{local:%H%M%S}"
    taken.add(anchor)
    return anchor


async def home_page(request: Request) -> Response:
    svc = services(request)
    instant = datetime.now(UTC)
    state = await now_state(svc, instant)
    today = seoul_today(instant)
    slots, broadcasts = await channel_day(svc, today)
    playing = now_playing(slots, instant)
    upcoming = [s for s in slots if s.start > instant][:4]
    lives_today = [
        b for b in broadcasts.values() if day_bounds(today)[0] <= b.starts_at < day_bounds(today)[1]
    ]
    context = {
        "state": state,
        "playing": playing,
        "on_now": broadcasts.get(playing.slot.broadcast_id)
        if playing.slot and playing.slot.broadcast_id
        else None,
        "upcoming": upcoming,
        "broadcasts": broadcasts,
        "today": today,
        "lives_today": sorted(lives_today, key=lambda b: b.starts_at),
        "now_instant": instant,
        "poll_seconds": NOW_POLL_SECONDS,
    }
    return svc.templates.TemplateResponse(
        request, "schedule/home.html", context, headers={"Cache-Control": "no-cache"}
    )


async def schedule_page(request: Request) -> Response:
    svc = services(request)
    raw = request.path_params.get("day") or request.query_params.get("date")
    try:
        day = parse_day(raw)
    except ApiError as exc:
        message = (
            "날짜 형식이 올바르지 않습니다." if exc.status == 400 else "편성표가 없는 날짜입니다."
        )
        return await _page_error(request, exc.status, message)
    instant = datetime.now(UTC)
    slots, broadcasts = await channel_day(svc, day)
    today = seoul_today(instant)
    locale = request_locale(request)
    week = [
        {"day": d, "label": short_day(d, locale)}
        for d in (today + timedelta(days=n) for n in range(-3, 4))
    ]
    context: dict[str, Any] = {
        "day": day,
        "today": today,
        "week": week,
        "prev_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
        "rows": _slot_rows(slots, broadcasts, instant),
        "is_today": day == today,
        "day_start": day_bounds(day)[0],
    }
    context.update(context_for_schedule_day(request, day))
    return svc.templates.TemplateResponse(
        request, "schedule/schedule.html", context, headers={"Cache-Control": "no-cache"}
    )


async def broadcast_page(request: Request) -> Response:
    svc = services(request)
    b = await svc.schedule.get(_broadcast_id(request))
    if b is None:
        return await _page_error(request, 404, "방송을 찾을 수 없습니다.")
    replay = await svc.replays.for_broadcast(b.id)
    context = {
        "broadcast": b,
        "replay": replay if replay is not None and replay.public else None,
        "json_ld": json_ld(b, svc.settings.public_origin),
        "seoul_day": b.starts_at.astimezone(SEOUL).date(),
        **context_for_broadcast(request, b),
    }
    return svc.templates.TemplateResponse(request, "schedule/broadcast.html", context)


async def operator_page(request: Request) -> Response:
    svc = services(request)
    session = staff_gate(request, Access.SCHEDULE)
    if isinstance(session, Response):
        return session
    today = seoul_today()
    start, _ = day_bounds(today - timedelta(days=1))
    _, end = day_bounds(today + timedelta(days=14))
    items = await svc.schedule.between(start, end, include_cancelled=True)
    context = {
        "allowed": True,
        "broadcasts": items,
        "categories": CATEGORIES,
        "csrf": svc.sessions.csrf_token(session),
        "signed_in_as": session.nickname,
        "local_input": local_input,
    }
    return svc.templates.TemplateResponse(
        request, "ops/operator.html", context, headers={"Cache-Control": "no-store"}
    )


async def schedule_redirect(request: Request) -> Response:
    return RedirectResponse("/schedule", status_code=308)


_WEEKDAYS = {
    "ko": "월화수목금토일",
    "ja": "月火水木金土日",
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}


def short_day(day: date, locale: str) -> str:
    """A compact day label for the week bar: `25일 (수)`, `Wed 25`, `25日(水)`."""
    names = _WEEKDAYS.get(locale, _WEEKDAYS["ko"])
    weekday = names[day.weekday()]
    if locale == "en":
        return f"{weekday} {day.day}"
    if locale == "ja":
        return f"{day.day}日({weekday})"
    return f"{day.day}일 ({weekday})"


def local_input(moment: datetime) -> str:
    """`YYYY-MM-DDTHH:MM` in Seoul, for <input type="datetime-local">."""
    return moment.astimezone(SEOUL).strftime("%Y-%m-%dT%H:%M")


routes: list[BaseRoute] = [
    Route("/api/now", api_now, methods=["GET"]),
    Route("/api/schedule", api_schedule, methods=["GET"]),
    Route("/schedule.xml", schedule_xml, methods=["GET", "HEAD"]),
    Route("/schedule.ics", schedule_ics, methods=["GET", "HEAD"]),
    Route("/broadcasts/{broadcast_id:id}.ics", broadcast_ics, methods=["GET", "HEAD"]),
    Route("/api/broadcasts", api_list, methods=["GET"]),
    Route("/api/broadcasts", api_create, methods=["POST"]),
    Route("/api/broadcasts/{broadcast_id:id}", api_get, methods=["GET"]),
    Route("/api/broadcasts/{broadcast_id:id}", api_edit, methods=["PATCH"]),
    Route("/api/broadcasts/{broadcast_id:id}/reschedule", api_reschedule, methods=["POST"]),
    Route("/api/broadcasts/{broadcast_id:id}/live", api_go_live, methods=["POST"]),
    Route("/api/broadcasts/{broadcast_id:id}/end", api_end, methods=["POST"]),
    Route("/api/broadcasts/{broadcast_id:id}/cancel", api_cancel, methods=["POST"]),
    Route("/", home_page, methods=["GET", "HEAD"]),
    Route("/schedule", schedule_page, methods=["GET", "HEAD"]),
    Route("/schedule/", schedule_redirect, methods=["GET", "HEAD"]),
    Route("/schedule/{day}", schedule_page, methods=["GET", "HEAD"]),
    Route("/broadcasts/{broadcast_id:id}", broadcast_page, methods=["GET", "HEAD"]),
    Route("/operator", operator_page, methods=["GET", "HEAD"]),
]

__all__ = ["channel_day", "now_state", "publish_status", "routes"]
