"""HTML pages owned by the front-end: the live page, the language switch, error pages.

`/live/{id}` renders everything a viewer needs before any script runs: the player (the
stream URL on a `<video>`), the recent comments, the chat notices. `livechat.js` then
connects with `?after=<last rendered id>`, so the socket sends exactly what came since.
`/lang?to=en&next=/path` remembers the language in the `lang` cookie and goes back to a
local path only (never an open redirect).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from web.http.requests import current_session, local_path
from web.pages.broadcasts import comment_view, find_broadcast
from web.pages.errors import error_page
from web.pages.share_bar import context_for_broadcast
from web.rendering.i18n import LOCALES, translate
from web.rendering.templating import request_locale, static_url
from web.services import services

LANG_COOKIE = "lang"
LANG_MAX_AGE = 365 * 86400
HLS_VENDOR = Path(__file__).parent.parent / "static" / "vendor" / "hls.min.js"


async def switch_language(request: Request) -> Response:
    target = request.query_params.get("to", "")
    response = RedirectResponse(local_path(request.query_params.get("next")), status_code=303)
    if target in LOCALES:
        response.set_cookie(
            LANG_COOKIE, target, max_age=LANG_MAX_AGE, httponly=True, samesite="lax", path="/"
        )
    response.headers["Cache-Control"] = "no-store"
    return response


async def live_page(request: Request) -> Response:
    svc = services(request)
    broadcast_id = int(request.path_params["broadcast_id"])
    broadcast = await find_broadcast(svc, broadcast_id)
    locale = request_locale(request)
    if broadcast is None:
        return await error_page(request, 404, translate(locale, "방송을 찾을 수 없습니다."))
    recent = await svc.comments.recent(broadcast_id, svc.settings.backfill_comments)
    chat = await svc.comments.get_chat_settings(broadcast_id)
    pinned = None
    if chat.pinned_id is not None:
        found = await svc.comments.get(chat.pinned_id)
        if found is not None and found.status == "visible":
            pinned = comment_view(found.wire())
    session = current_session(request)
    context: dict[str, Any] = {
        "broadcast": broadcast,
        "comments": [comment_view(c.wire()) for c in recent],
        "last_id": recent[-1].id if recent else 0,
        "slow_mode": chat.slow_mode,
        # Closed by a moderator, or not on air: comments only while live (web.live.chat_window).
        "chat_closed": chat.closed or broadcast.status != "live",
        "pinned": pinned,
        "nickname": session.nickname if session else "",
        "me_mark": session.mark if session else "",
        "signed_in": session is not None and (session.is_member or session.is_staff),
        "accounts_only": (await svc.access.get(broadcast_id)).accounts_only,
        "max_chars": svc.settings.comment_max_chars,
        "hls_url": static_url("vendor/hls.min.js") if HLS_VENDOR.exists() else "",
    }
    context.update(context_for_broadcast(request, broadcast))
    for panel in svc.page_panels:
        context.update(await panel(request, broadcast_id, True))
    return svc.templates.TemplateResponse(request, "live/live.html", context)


routes: list[BaseRoute] = [
    Route("/live/{broadcast_id:id}", live_page, methods=["GET", "HEAD"]),
    Route("/lang", switch_language, methods=["GET"]),
]
