"""HTML pages owned by the front-end: the live page, the language switch, error pages.

`/live/{id}` renders everything a viewer needs before any script runs: the player (the
stream URL on a `<video>`), the recent comments, the chat notices. `livechat.js` then
connects with `?after=<last rendered id>`, so the socket sends exactly what came since.
`/lang?to=en&next=/path` remembers the language in the `lang` cookie and goes back to a
local path only (never an open redirect).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from web.http.requests import current_session, local_path
from web.questions import routes as question_routes
from web.rendering.i18n import LOCALES, catalog, translate
from web.rendering.templating import request_locale, static_url
from web.services import Services, services
from web.share.routes import context_for_broadcast

LANG_COOKIE = "lang"
LANG_MAX_AGE = 365 * 86400
HLS_VENDOR = Path(__file__).parent.parent / "static" / "vendor" / "hls.min.js"


@dataclass(frozen=True)
class LiveBroadcast:
    """What the live page (and its share bar) shows of a broadcast."""

    id: int
    title: str
    description: str = ""
    status: str = "live"
    stream_url: str = ""
    poster_url: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None


async def switch_language(request: Request) -> Response:
    target = request.query_params.get("to", "")
    response = RedirectResponse(local_path(request.query_params.get("next")), status_code=303)
    if target in LOCALES:
        response.set_cookie(LANG_COOKIE, target, max_age=LANG_MAX_AGE, httponly=True,
                            samesite="lax", path="/")
    response.headers["Cache-Control"] = "no-store"
    return response


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


async def find_broadcast(svc: Services, broadcast_id: int) -> LiveBroadcast | None:
    """What the live page shows of broadcast `broadcast_id`, or None if there is none."""
    record = await svc.schedule.get(broadcast_id)
    if record is None:
        return None
    return LiveBroadcast(
        id=record.id,
        title=record.title,
        description=record.description,
        status=record.status,
        stream_url=record.stream_url,
        poster_url=record.thumbnail_url,
        starts_at=record.starts_at,
        ends_at=record.ends_at,
    )


def comment_view(item: dict[str, Any]) -> dict[str, Any]:
    """A wire comment plus what the template needs (its time as a datetime)."""
    return {**item, "created": _as_datetime(item.get("created_at")),
            "flags": item.get("flags", []), "mark": item.get("mark", "")}


async def live_page(request: Request) -> Response:
    svc = services(request)
    broadcast_id = int(request.path_params["broadcast_id"])
    broadcast = await find_broadcast(svc, broadcast_id)
    locale = request_locale(request)
    if broadcast is None:
        return await error_page(request, 404, translate(locale, "방송을 찾을 수 없습니다."))
    recent = await svc.comments.recent(broadcast_id, svc.settings.backfill_comments)
    slow_mode, closed, pinned_id = await svc.comments.get_chat_settings(broadcast_id)
    pinned = None
    if pinned_id is not None:
        found = await svc.comments.get(pinned_id)
        if found is not None and found.status == "visible":
            pinned = comment_view(found.wire())
    session = current_session(request)
    context: dict[str, Any] = {
        "broadcast": broadcast,
        "comments": [comment_view(c.wire()) for c in recent],
        "last_id": recent[-1].id if recent else 0,
        "slow_mode": slow_mode,
        # Closed by a moderator, or not on air: comments only while live (web.live.chat_window).
        "chat_closed": closed or broadcast.status != "live",
        "pinned": pinned,
        "nickname": session.nickname if session else "",
        "me_mark": session.mark if session else "",
        "signed_in": session is not None and (session.is_member or session.is_staff),
        "accounts_only": (await svc.access.get(broadcast_id)).accounts_only,
        "max_chars": svc.settings.comment_max_chars,
        "hls_url": static_url("vendor/hls.min.js") if HLS_VENDOR.exists() else "",
    }
    context.update(context_for_broadcast(request, broadcast))
    context.update(await question_routes.panel_context(request, broadcast_id))
    return svc.templates.TemplateResponse(request, "live/live.html", context)


routes: list[BaseRoute] = [
    Route("/live/{broadcast_id:id}", live_page, methods=["GET", "HEAD"]),
    Route("/lang", switch_language, methods=["GET"]),
]


# What a citizen reads for each status, whatever the code that raised it said (Korean
# source strings; web/locales/ translate them).
ERROR_TITLES = {
    400: "요청을 처리할 수 없습니다",
    403: "이 페이지를 볼 권한이 없습니다",
    404: "페이지를 찾을 수 없습니다",
    405: "지원하지 않는 요청입니다",
    413: "보낸 내용이 너무 큽니다",
    429: "요청이 너무 많습니다",
    500: "일시적인 오류가 발생했습니다",
    503: "잠시 후 다시 시도해 주세요",
}
ERROR_HINTS = {
    404: "주소가 바뀌었거나 삭제된 페이지일 수 있습니다.",
    429: "잠시 기다렸다가 다시 시도해 주세요.",
    500: "잠시 후 다시 시도해 주세요. 문제가 계속되면 아래 요청 번호와 함께 알려 주세요.",
    503: "이용자가 많아 잠시 응답할 수 없습니다.",
}


def error_detail(locale: str, detail: str) -> str:
    """`detail` in the reader's language, or "" when it is developer text (English words
    from a framework or an endpoint) that would mean nothing to a citizen. It may come as
    the Korean source string or already translated."""
    if not detail:
        return ""
    if detail in catalog(locale).values() or any("\uac00" <= ch <= "\ud7a3" for ch in detail):
        return translate(locale, detail)
    return ""


async def error_page(request: Request, status: int, detail: str) -> Response:
    """The HTML error page, in the reader's language: what happened, the code, the way on."""
    locale = request_locale(request)
    title = ERROR_TITLES.get(status, ERROR_TITLES[500] if status >= 500 else ERROR_TITLES[400])
    context = {
        "status": status,
        "title": translate(locale, title),
        "detail": error_detail(locale, detail),
        "hint": translate(locale, ERROR_HINTS.get(status, "")) if status in ERROR_HINTS else "",
        "request_id": str(request.scope.get("state", {}).get("request_id", ""))
        if status >= 500 else "",
    }
    return services(request).templates.TemplateResponse(
        request, "error.html", context, status_code=status
    )
