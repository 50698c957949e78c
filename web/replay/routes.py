"""The replay catalog over HTTP: JSON API, operator edits, replayed comments, two pages.

* `GET /api/replays` — search and filters, keyset pages (`next_cursor`).
* `GET /api/replays/suggestions?q=` — staff names and titles containing `q` (spacing
  aside), for the search fields' suggestion lists.
* `GET /api/replays/{id}` — one replay with chapters, captions and related replays.
* `PATCH /api/replays/{id}` — operators (official, moderator, admin; CSRF) edit, hide
  (`{"hidden": true}`) or unpublish (`{"status": "unpublished"}`).
* `GET /api/replays/{id}/comments?from=&to=` — the visible comments of a window of the
  recording (seconds), each with its `offset` into the recording; see `replay.timeline`
  for how bad times are treated.
* `POST /api/replays/{id}/comments` — a new comment at an offset, through the comment hub
  (validated, rate-limited and moderated like a live one).
* `/replays` and `/replays/{id}` — the catalog page and the player page (a view is counted
  once per viewer session).

Unpublished replays are 404 for everyone but staff.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from livechat import Comment, CommentRejected
from livechat.ratelimit import Bucket
from livechat.text import one_line
from replay import (
    SORTS,
    Caption,
    Chapter,
    CursorError,
    QueryError,
    Replay,
    ReplayEdit,
    ReplayQuery,
    Sort,
    TimeError,
    format_clock,
    recording_offset,
    start_position,
    stored_offset,
    window,
)
from replay.search import MAX_TERMS
from replay.store import MAX_LIMIT
from replay.timeline import MAX_OFFSET_SECONDS
from web.http.errors import ApiError, rejected
from web.http.requests import (
    body_client_id,
    current_session,
    json_body,
    query_int,
    require_access,
    require_session,
    search_text,
)
from web.identity.roles import Access, may
from web.identity.sessions import NICKNAME_MAX
from web.pages.errors import error_page
from web.pages.share_bar import context_for_replay
from web.rendering.i18n import SEOUL, translate
from web.rendering.templating import request_locale, static_url
from web.services import (
    COOKIELESS_VIEW_BURST,
    COOKIELESS_VIEWS_PER_HOUR,
    Services,
    services,
)

VIEWER_COOKIE = "ls_viewer"
WINDOW_LIMIT = 2000
PAGE = 20  # replays per catalog page
HLS_VENDOR = Path(__file__).parent.parent / "static" / "vendor" / "hls.min.js"
_TEXT_LIMITS = {
    "title": 200,
    "description": 5000,
    "category": 40,
    "thumbnail_url": 1000,
    "recording_url": 1000,
}


# -- parameters ----------------------------------------------------------------------------


def _seconds(request: Request, name: str) -> float | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ApiError(400, name, f"must be a number of seconds, got {raw[:20]!r}") from None
    if not math.isfinite(value):
        raise ApiError(400, name, "must be a finite number of seconds")
    return value


MIN_YEAR, MAX_YEAR = 1900, 2999  # dates the catalog filters take


def _moment(raw: str, name: str, *, end: bool) -> datetime:
    """`YYYY-MM-DD` is a day in Seoul (`to` includes that whole day); a full ISO
    date-time needs an offset."""
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            if not MIN_YEAR <= day.year <= MAX_YEAR:
                raise OverflowError
            if end:
                day += timedelta(days=1)
            return datetime.combine(day, time(0), SEOUL).astimezone(UTC)
        moment = datetime.fromisoformat(raw)
        if moment.tzinfo is None:
            raise ApiError(400, name, "a date-time needs a UTC offset, e.g. +09:00")
        if not MIN_YEAR <= moment.year <= MAX_YEAR:
            raise OverflowError
        return moment.astimezone(UTC)
    except ValueError:
        raise ApiError(400, name, "must be a date (YYYY-MM-DD) or an ISO date-time") from None
    except OverflowError:
        raise ApiError(400, name, f"must be in the years {MIN_YEAR}–{MAX_YEAR}") from None


def catalog_query(request: Request) -> ReplayQuery:
    """The `ReplayQuery` of a catalog request; ApiError(400) naming a bad parameter."""
    params = request.query_params
    sort = params.get("sort") or "newest"
    if sort not in SORTS:
        raise ApiError(400, "sort", f"must be one of {', '.join(SORTS)}")
    checked_sort: Sort = "newest" if sort == "newest" else "most_viewed"
    aired_from = _moment(params["from"], "from", end=False) if params.get("from") else None
    aired_to = _moment(params["to"], "to", end=True) if params.get("to") else None
    if aired_from and aired_to and aired_to <= aired_from:
        raise ApiError(400, "to", "must not be before from")
    text, category, staff = (search_text(request, name) for name in ("q", "category", "staff"))
    return ReplayQuery(
        text=text,
        category=category or None,
        staff=staff or None,
        aired_from=aired_from,
        aired_to=aired_to,
        sort=checked_sort,
        cursor=params.get("cursor") or None,
        limit=query_int(request, "limit", PAGE, 1, MAX_LIMIT),
    )


# -- JSON shapes ---------------------------------------------------------------------------
def summary(replay: Replay) -> dict[str, Any]:
    return {
        "id": replay.id,
        "title": replay.title,
        "description": replay.description,
        "category": replay.category,
        "staff": list(replay.staff),
        "duration_seconds": replay.duration_seconds,
        "aired_at": replay.aired_at.isoformat(),
        "published_at": replay.published_at.isoformat(),
        "view_count": replay.view_count,
        "thumbnail_url": replay.thumbnail_url,
        "url": f"/replays/{replay.id}",
    }


def detail(replay: Replay, related: list[Replay]) -> dict[str, Any]:
    return {
        **summary(replay),
        "broadcast_id": replay.broadcast_id,
        "recording_url": replay.recording_url,
        "recording_started_at": replay.recording_started_at.isoformat(),
        "status": replay.status,
        "hidden": replay.hidden,
        "chapters": [{"start": c.start_seconds, "title": c.title} for c in replay.chapters],
        "captions": [
            {"language": c.language, "label": c.label, "url": c.url} for c in replay.captions
        ],
        "related": [summary(r) for r in related],
    }


def replayed(replay: Replay, comment: Comment) -> dict[str, Any]:
    """A comment's wire form with `offset` = seconds into this replay's recording."""
    return {
        **comment.wire(),
        "offset": round(recording_offset(replay, comment.created_at, comment.video_offset), 3),
    }


# -- lookups -------------------------------------------------------------------------------
def _is_staff(request: Request) -> bool:
    session = current_session(request)
    return session is not None and may(session.role, Access.SCHEDULE)


async def visible_replay(request: Request) -> Replay:
    """The replay of the path; 404 if unknown, or unpublished and the caller is not staff."""
    replay_id = int(request.path_params["replay_id"])
    replay = await services(request).replays.get(replay_id)
    if replay is None or (not replay.public and not _is_staff(request)):
        raise ApiError(404, "replay_id", f"no replay {replay_id}")
    return replay


# -- catalog -------------------------------------------------------------------------------
async def list_replays(request: Request) -> Response:
    query = catalog_query(request)
    try:
        page = await services(request).replays.search(query)
    except QueryError as exc:
        raise ApiError(400, "q", str(exc)) from None
    except CursorError as exc:
        raise ApiError(400, "cursor", str(exc)) from None
    return JSONResponse(
        {"items": [summary(r) for r in page.items], "next_cursor": page.next_cursor}
    )


async def suggest_names(request: Request) -> Response:
    text = request.query_params.get("q", "")
    if len(text) > 200:
        raise ApiError(400, "q", "at most 200 characters")
    try:
        staff, titles = await services(request).replays.suggest(text)
    except QueryError as exc:
        raise ApiError(400, "q", str(exc)) from None
    return JSONResponse(
        {"q": text, "staff": staff, "titles": titles},
        headers={"Cache-Control": "public, max-age=60"},
    )


async def get_replay(request: Request) -> Response:
    replay = await visible_replay(request)
    related = await services(request).replays.related(replay)
    return JSONResponse(detail(replay, related))


# -- operators -----------------------------------------------------------------------------
def _text(data: dict[str, Any], name: str) -> str | None:
    if name not in data:
        return None
    value = data[name]
    if not isinstance(value, str):
        raise ApiError(400, name, "must be a string")
    value = value.strip()
    if name == "title" and not value:
        raise ApiError(400, name, "must not be empty")
    if len(value) > _TEXT_LIMITS[name]:
        raise ApiError(400, name, f"at most {_TEXT_LIMITS[name]} characters")
    if name.endswith("_url") and value and not value.startswith(("/", "https://", "http://")):
        raise ApiError(400, name, "must be a path on this site or an http(s) URL")
    return value


def _chapters(raw: object) -> tuple[Chapter, ...]:
    if not isinstance(raw, list) or len(raw) > 200:
        raise ApiError(400, "chapters", "must be a list of at most 200 {start, title}")
    out = []
    for item in raw:
        start = item.get("start") if isinstance(item, dict) else None
        title = item.get("title") if isinstance(item, dict) else None
        if not isinstance(start, int) or isinstance(start, bool) or not isinstance(title, str):
            raise ApiError(400, "chapters", "each chapter is {start: seconds, title: text}")
        out.append(Chapter(start, title[:200]))
    return tuple(out)


def _captions(raw: object) -> tuple[Caption, ...]:
    if not isinstance(raw, list) or len(raw) > 20:
        raise ApiError(400, "captions", "must be a list of at most 20 {language, label, url}")
    out = []
    for item in raw:
        fields = [
            item.get(k) if isinstance(item, dict) else None for k in ("language", "label", "url")
        ]
        if not all(isinstance(f, str) and f for f in fields):
            raise ApiError(400, "captions", "each caption is {language, label, url}")
        language, label, url = (str(f) for f in fields)
        if not url.startswith(("/", "https://")) or not url.endswith(".vtt"):
            raise ApiError(400, "captions", "a caption url is a .vtt path or https URL")
        out.append(Caption(language[:20], label[:60], url[:1000]))
    return tuple(out)


def parse_edit(data: dict[str, Any]) -> ReplayEdit:
    """The `ReplayEdit` of a PATCH body; ApiError(400) naming the first bad field."""
    known = {
        "title",
        "description",
        "category",
        "staff",
        "thumbnail_url",
        "recording_url",
        "duration_seconds",
        "recording_started_at",
        "chapters",
        "captions",
        "hidden",
        "status",
        "thumbnail_seconds",
    }
    unknown = sorted(set(data) - known)
    if unknown:
        raise ApiError(400, unknown[0], "is not a field of a replay")
    staff = None
    if "staff" in data:
        raw = data["staff"]
        if (
            not isinstance(raw, list)
            or not all(isinstance(s, str) and s.strip() for s in raw)
            or len(raw) > 30
        ):
            raise ApiError(400, "staff", "must be a list of at most 30 names")
        staff = tuple(dict.fromkeys(s.strip()[:60] for s in raw))
    duration = data.get("duration_seconds")
    if duration is not None and (
        not isinstance(duration, int)
        or isinstance(duration, bool)
        or not 0 <= duration <= 7 * 86400
    ):
        raise ApiError(400, "duration_seconds", "must be whole seconds, 0 to 604800")
    started = None
    if data.get("recording_started_at") is not None:
        raw_start = data["recording_started_at"]
        if not isinstance(raw_start, str):
            raise ApiError(400, "recording_started_at", "must be an ISO date-time")
        started = _moment(raw_start, "recording_started_at", end=False)
    frame = data.get("thumbnail_seconds")
    if frame is not None and (
        not isinstance(frame, int) or isinstance(frame, bool) or not 0 <= frame <= 7 * 86400
    ):
        raise ApiError(400, "thumbnail_seconds", "must be whole seconds, 0 to 604800")
    hidden = data.get("hidden")
    if hidden is not None and not isinstance(hidden, bool):
        raise ApiError(400, "hidden", "must be true or false")
    status = data.get("status")
    if status is not None and status not in ("published", "unpublished"):
        raise ApiError(400, "status", "must be published or unpublished")
    return ReplayEdit(
        title=_text(data, "title"),
        description=_text(data, "description"),
        category=_text(data, "category"),
        thumbnail_url=_text(data, "thumbnail_url"),
        recording_url=_text(data, "recording_url"),
        staff=staff,
        duration_seconds=duration,
        recording_started_at=started,
        chapters=_chapters(data["chapters"]) if "chapters" in data else None,
        captions=_captions(data["captions"]) if "captions" in data else None,
        hidden=hidden,
        thumbnail_seconds=frame,
        status="published"
        if status == "published"
        else ("unpublished" if status == "unpublished" else None),
    )


async def edit_replay(request: Request) -> Response:
    require_access(request, Access.SCHEDULE)
    replay = await visible_replay(request)
    edit = parse_edit(await json_body(request))
    try:
        updated = await services(request).replays.update(replay.id, edit)
    except ValueError as exc:
        raise ApiError(400, "chapters", str(exc)) from None
    if updated is None:
        raise ApiError(404, "replay_id", f"no replay {replay.id}")
    return JSONResponse(detail(updated, []))


# -- replayed comments ---------------------------------------------------------------------
async def comment_window(request: Request) -> Response:
    replay = await visible_replay(request)
    start = _seconds(request, "from")
    try:
        bounds = window(replay, 0.0 if start is None else start, _seconds(request, "to"))
    except TimeError as exc:
        raise ApiError(400, exc.field, exc.message) from None
    items: list[dict[str, Any]] = []
    truncated = False
    if replay.broadcast_id is not None and not bounds.empty:
        found = await services(request).comments.window(
            replay.broadcast_id,
            bounds.start_utc,
            bounds.end_utc,
            bounds.offset_from,
            bounds.offset_to,
            WINDOW_LIMIT,
        )
        truncated = len(found) >= WINDOW_LIMIT
        items = sorted(
            (replayed(replay, c) for c in found), key=lambda item: (item["offset"], item["id"])
        )
    return JSONResponse(
        {
            "replay_id": replay.id,
            "from": bounds.start,
            "to": bounds.end,
            "items": items,
            "truncated": truncated,
        }
    )


async def post_replay_comment(request: Request) -> Response:
    session = require_session(request)  # who may post, before which replay (web.identity.roles)
    replay = await visible_replay(request)
    data = await json_body(request)
    client_id = body_client_id(data)
    offset = data.get("offset")
    if (
        not isinstance(offset, int | float)
        or isinstance(offset, bool)
        or not 0 <= offset <= MAX_OFFSET_SECONDS
    ):  # also refuses NaN and ±inf
        raise ApiError(
            400, "offset", f"must be a number of seconds from 0 to {MAX_OFFSET_SECONDS:g}"
        )
    if replay.duration_seconds and offset > replay.duration_seconds:
        raise ApiError(400, "offset", f"must not be after the end ({replay.duration_seconds} s)")
    if replay.broadcast_id is None:
        raise ApiError(409, None, "this replay takes no comments", code="no_comments")
    try:
        result = await services(request).hub.post(
            replay.broadcast_id,
            session.identity,
            client_id,
            data.get("text"),
            address=request.client.host if request.client else "",
            video_offset=stored_offset(replay, float(offset)),
        )
    except CommentRejected as exc:
        raise rejected(exc, "text") from None
    body: dict[str, Any] = {
        "id": result.comment.id,
        "client_id": client_id,
        "status": result.comment.status,
        "comment": replayed(replay, result.comment),
    }
    if result.notice:
        body["notice"] = result.notice
    return JSONResponse(body, status_code=201 if result.created else 200)


# -- pages ---------------------------------------------------------------------------------
def _viewer_key(request: Request, response_cookies: dict[str, str]) -> tuple[str, bool]:
    """Who is watching, for counting views once per viewer session (never stored raw),
    and whether the request came without any way to recognise the viewer."""
    session = current_session(request)
    raw = f"s:{session.sid}" if session else request.cookies.get(VIEWER_COOKIE, "")
    fresh = not raw
    if fresh:
        raw = secrets.token_urlsafe(18)
        response_cookies[VIEWER_COOKIE] = raw
    return hashlib.sha256(raw.encode()).hexdigest()[:32], fresh


async def _cookieless_view_allowed(svc: Services, request: Request) -> bool:
    """A token per cookie-less view, per address: shared through Redis when it is there."""
    address = request.client.host if request.client else "?"
    bucket = Bucket(f"views:{address}", COOKIELESS_VIEW_BURST, COOKIELESS_VIEWS_PER_HOUR / 3600)
    waits = await svc.hub.broker.take([bucket])
    wait = waits[0] if waits is not None else svc.cookieless_views.check(address, clock.monotonic())
    return not wait


def _form_problem(exc: Exception) -> tuple[str, str]:
    """(form field, problem key) for an error raised by `catalog_query` or the search; the
    page says each problem in the citizen's language (`replays.html`), while the JSON API
    keeps its precise English messages for developers."""
    text = str(exc.message if isinstance(exc, ApiError) else exc)
    if isinstance(exc, ApiError):
        field = exc.field or ""
    else:
        field = "cursor" if isinstance(exc, CursorError) else "q"
    if field == "to" and "before" in text:
        return field, "order"
    if field in ("from", "to"):
        return field, "years" if "years" in text else "date"
    if field in ("q", "staff", "category"):
        return field, "words" if "words" in text else "long"
    return field, field if field in ("sort", "limit") else "cursor"


def _more_url(request: Request, shown: int, cursor: str) -> str:
    """Where "더 보기" leads: the same search showing `shown` + one page more (so the
    address stays shareable and Back returns to the whole list), or past MAX_LIMIT the
    next page by cursor."""
    params = {k: v for k, v in request.query_params.items() if k not in ("cursor", "limit") and v}
    if "cursor" not in request.query_params and shown + PAGE <= MAX_LIMIT:
        params["limit"] = str(shown + PAGE)
        return "/replays?" + urlencode(params)
    return _next_url(request, cursor)


async def catalog_page(request: Request) -> Response:
    svc = services(request)
    locale = request_locale(request)
    error = error_field = ""
    page = None
    try:
        query = catalog_query(request)
        page = await svc.replays.search(query)
    except (ApiError, QueryError, CursorError) as exc:
        error_field, error = _form_problem(exc)
    params = request.query_params
    form = {
        name: one_line(params.get(name, ""))
        for name in ("q", "category", "staff", "from", "to", "sort")
    }
    cursor = page.next_cursor if page else None
    context = {
        "replays": page.items if page else (),
        "next_cursor": cursor,
        "categories": await svc.replays.categories(),
        "form": form,
        "filters_set": sum(1 for k in ("category", "staff", "from", "to") if form[k])
        + (form["sort"] == "most_viewed"),
        "error": error,
        "error_field": error_field,
        "limits": {"min": MIN_YEAR, "max": MAX_YEAR, "words": MAX_TERMS},
        "clock": format_clock,
        "next_url": _next_url(request, cursor) if cursor else "",
        "more_url": _more_url(request, len(page.items), cursor) if page and cursor else "",
        "heading": translate(locale, "다시보기"),
    }
    return svc.templates.TemplateResponse(
        request, "replay/replays.html", context, status_code=400 if error else 200
    )


def _next_url(request: Request, cursor: str) -> str:
    params = {k: v for k, v in request.query_params.items() if k != "cursor" and v}
    params["cursor"] = cursor
    return "/replays?" + urlencode(params)


async def replay_page(request: Request) -> Response:
    svc = services(request)
    locale = request_locale(request)
    try:
        replay = await visible_replay(request)
    except ApiError:
        return await error_page(request, 404, translate(locale, "다시보기를 찾을 수 없습니다."))
    cookies: dict[str, str] = {}
    viewer, fresh = _viewer_key(request, cookies)
    if (
        request.method == "GET"
        and (not fresh or await _cookieless_view_allowed(svc, request))
        and await svc.replays.record_view(replay.id, viewer)
    ):
        replay = await svc.replays.get(replay.id) or replay
    session = current_session(request)
    context = {
        "replay": replay,
        "related": await svc.replays.related(replay),
        "start": start_position(request.query_params.get("t"), replay.duration_seconds),
        "clock": format_clock,
        "hls_url": static_url("vendor/hls.min.js") if HLS_VENDOR.exists() else "",
        "nickname": session.nickname if session else "",
        "max_chars": svc.settings.comment_max_chars,
        "nickname_max": NICKNAME_MAX,
        "takes_comments": replay.broadcast_id is not None,
    }
    if replay.broadcast_id is not None:
        # The broadcast's questions, fetched once: a replay viewer is no live viewer, so
        # the panel opens no socket (it would count in the broadcast's presence).
        for panel in svc.page_panels:
            context.update(await panel(request, replay.broadcast_id, False))
    if replay.public:
        context.update(
            context_for_replay(
                request,
                replay,
                start_position(request.query_params.get("t"), replay.duration_seconds),
            )
        )
    response = svc.templates.TemplateResponse(request, "replay/replay.html", context)
    for name, value in cookies.items():
        response.set_cookie(
            name, value, httponly=True, samesite="lax", path="/", secure=svc.sessions.secure
        )
    return response


routes: list[BaseRoute] = [
    Route("/api/replays", list_replays, methods=["GET"]),
    Route("/api/replays/suggestions", suggest_names, methods=["GET"]),
    Route("/api/replays/{replay_id:id}", get_replay, methods=["GET"]),
    Route("/api/replays/{replay_id:id}", edit_replay, methods=["PATCH"]),
    Route("/api/replays/{replay_id:id}/comments", comment_window, methods=["GET"]),
    Route("/api/replays/{replay_id:id}/comments", post_replay_comment, methods=["POST"]),
    Route("/replays", catalog_page, methods=["GET", "HEAD"]),
    Route("/replays/{replay_id:id}", replay_page, methods=["GET", "HEAD"]),
]
