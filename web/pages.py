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
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from web import question_routes
from web.i18n import LOCALES, translate
from web.requests import current_session
from web.services import Services, services
from web.share_routes import context_for_broadcast
from web.templating import request_locale, static_url

LANG_COOKIE = "lang"
LANG_MAX_AGE = 365 * 86400
HLS_VENDOR = Path(__file__).parent / "static" / "vendor" / "hls.min.js"


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


def local_path(candidate: str | None) -> str:
    """`candidate` if it is a path on this site, else `/` (so `next` is never off-site)."""
    if not candidate or not candidate.startswith("/") or candidate.startswith("//"):
        return "/"
    if "\\" in candidate or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in candidate):
        return "/"
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return "/"
    return candidate


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
        "chat_closed": closed,
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
    return svc.templates.TemplateResponse(request, "live.html", context)


routes: list[BaseRoute] = [
    Route("/live/{broadcast_id:id}", live_page, methods=["GET", "HEAD"]),
    Route("/lang", switch_language, methods=["GET"]),
]


async def error_page(request: Request, status: int, detail: str) -> Response:
    return services(request).templates.TemplateResponse(
        request, "error.html", {"status": status, "detail": detail}, status_code=status
    )
