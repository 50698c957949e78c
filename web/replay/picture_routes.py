"""Pictures over HTTP (see `web.rendering.pictures`):

* `GET /og/live/{id}.png`, `GET /og/replays/{id}.png` — the 1200×630 share preview of a
  broadcast or a (public) replay, with its title, date and status; the generic card of
  its kind when no font can draw one. Cached a day (the page's meta adds `?v=`).
* `GET /replays/{id}/thumbnail.jpg` — a frame of the recording, or a drawn card.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from web.http.errors import ApiError
from web.pages.broadcasts import find_broadcast
from web.pages.share_bar import (
    broadcast_item,
    find_replay,
    preview_text,
    replay_item,
)
from web.rendering.i18n import format_date
from web.rendering.templating import static_url
from web.services import services

CACHE = "public, max-age=86400"


def _png(image: bytes) -> Response:
    return Response(image, media_type="image/png", headers={"Cache-Control": CACHE})


def _generic(kind: str) -> Response:
    return RedirectResponse(static_url(f"og/{kind}.png"), status_code=307)


async def live_preview(request: Request) -> Response:
    svc = services(request)
    broadcast_id = int(request.path_params["broadcast_id"])
    broadcast = await find_broadcast(svc, broadcast_id)
    if broadcast is None:
        raise ApiError(404, "broadcast_id", f"no broadcast {broadcast_id}")
    item = broadcast_item(broadcast)
    image = await svc.pictures.preview(
        preview_text(item, broadcast.status, str(getattr(broadcast, "category", "") or ""))
    )
    return _png(image) if image is not None else _generic("live")


async def replay_preview(request: Request) -> Response:
    svc = services(request)
    replay_id = int(request.path_params["replay_id"])
    replay = await find_replay(svc, replay_id)
    if replay is None:
        raise ApiError(404, "replay_id", f"no replay {replay_id}")
    image = await svc.pictures.preview(preview_text(replay_item(replay), "replay", replay.category))
    return _png(image) if image is not None else _generic("replay")


async def replay_thumbnail(request: Request) -> Response:
    svc = services(request)
    replay_id = int(request.path_params["replay_id"])
    replay = await find_replay(svc, replay_id)
    if replay is None:
        raise ApiError(404, "replay_id", f"no replay {replay_id}")
    image = await svc.pictures.thumbnail(replay, format_date(replay.aired_at, "ko"))
    if image is None:
        return _generic("replay")
    return Response(image, media_type="image/jpeg", headers={"Cache-Control": CACHE})


routes: list[BaseRoute] = [
    Route("/og/live/{broadcast_id:id}.png", live_preview, methods=["GET", "HEAD"]),
    Route("/og/replays/{replay_id:id}.png", replay_preview, methods=["GET", "HEAD"]),
    Route("/replays/{replay_id:id}/thumbnail.jpg", replay_thumbnail, methods=["GET", "HEAD"]),
]
