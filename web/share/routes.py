"""Sharing over HTTP: share links, click counts, oEmbed and the embeddable player.

* `GET /api/share?url=<our page>` (or `kind=live|replay&id=…[&t=…]`, `kind=schedule&date=…`)
  `[&network=x|facebook|line|kakaotalk|copy]` — the share links, the Kakao feed template.
  Only our own pages: anything else is 400 naming `url` (no open redirect, no phishing).
* `POST /api/share/click {"network", "url"}` — counts one share click (same-origin only,
  `CLICKS_PER_MINUTE` per address).
* `GET /api/share/stats` and `GET /operator/shares` — the counts, for official, moderator
  and admin.
* `GET /oembed?url=&format=json` — an oEmbed `video` whose iframe shows `/embed/…`.
* `GET /embed/broadcasts/{id}`, `GET /embed/replays/{id}[?t=]` — the player alone; the
  security middleware lets only these be framed, by `FRAME_ANCESTORS`.

`share_context(request, item)` and the `context_for_*` helpers give page handlers the
`meta` (for `_meta.html`) and `share` (for `_share.html`) template variables.
"""

from __future__ import annotations

import html
import math
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from livechat import Broker
from livechat.network import address_key
from livechat.ratelimit import Bucket, RateLimiter
from web.accounts.staff_pages import staff_gate
from web.http.errors import ApiError
from web.http.requests import current_session, json_body, require_access, same_origin
from web.identity.roles import Access, may
from web.pages import share_links as share
from web.pages.broadcasts import find_broadcast
from web.pages.errors import error_page
from web.pages.share_bar import (
    ShareBar,
    broadcast_item,
    find_replay,
    og_image,
    replay_item,
    share_context,
    today_in_seoul,
)
from web.rendering.i18n import translate
from web.rendering.templating import request_locale, static_url
from web.services import services
from web.share.clicks import share_clicks

# Counted clicks per client address (an IPv6 /64): this many at once, then this many a
# minute; shared by every process through the broker. Enough for people, not for scripts.
CLICKS_PER_MINUTE = 30
# This process's buckets, while the broker keeps no shared ones (memory, Redis down).
_local_clicks = RateLimiter(CLICKS_PER_MINUTE, CLICKS_PER_MINUTE, max_keys=10_000)
HLS_VENDOR = Path(__file__).parent.parent / "static" / "vendor" / "hls.min.js"
STATS_PAGES = 200


# ---- template context ------------------------------------------------------------------


async def resolve(request: Request, ref: share.PageRef, field: str = "url") -> share.Shareable:
    """The `Shareable` for a parsed page reference; `ApiError(404)` naming `field` (the
    parameter that named it) if there is none."""
    svc = services(request)
    if ref.kind == "schedule":
        day = today_in_seoul() if ref.key == "today" else date.fromisoformat(ref.key)
        return share.for_schedule_day(day, locale=request_locale(request), anchor=ref.anchor)
    if ref.kind == "live":
        broadcast = await find_broadcast(svc, int(ref.key))
        if broadcast is None:
            raise ApiError(404, field, f"no broadcast {ref.key}")
        return broadcast_item(broadcast, request_locale(request))
    replay = await find_replay(svc, int(ref.key))
    if replay is None:
        raise ApiError(404, field, f"no replay {ref.key}")
    offset = ref.offset if ref.offset and ref.offset < max(replay.duration_seconds, 1) else None
    return replay_item(replay, offset, request_locale(request))


def page_ref(request: Request) -> share.PageRef:
    """The page a request names, by `url=` or by `kind=`/`id=`/`t=`/`date=`."""
    params = request.query_params
    base = services(request).settings.public_origin
    try:
        if "url" in params or "kind" not in params:
            return share.parse_page_url(params.get("url", ""), base)
        kind = params["kind"]
        if kind == "schedule":
            raw = params.get("date", "")
            return share.PageRef("schedule", share.parse_day(raw).isoformat() if raw else "today")
        if kind not in ("live", "replay"):
            raise ApiError(400, "kind", "must be live, replay or schedule")
        raw_id = params.get("id", "")
        if not raw_id.isascii() or not raw_id.isdigit() or not 0 < int(raw_id) <= share.MAX_ID:
            raise ApiError(400, "id", "must be a positive integer")
        offset = None
        if kind == "replay" and params.get("t"):
            offset = share.parse_offset(params["t"]) or None
        return share.PageRef(kind, str(int(raw_id)), offset)  # type: ignore[arg-type]
    except share.ShareUrlError as exc:
        field = (
            "url"
            if "url" in params or "kind" not in params
            else ("date" if params.get("kind") == "schedule" else "t")
        )
        raise ApiError(400, field, str(exc), code="not_shareable") from None


# ---- the API ---------------------------------------------------------------------------


async def share_links(request: Request) -> Response:
    network = request.query_params.get("network")
    if network is not None and network not in share.NETWORKS:
        raise ApiError(400, "network", f"must be one of {', '.join(share.NETWORKS)}")
    params = request.query_params
    by_url = "url" in params or "kind" not in params
    item = await resolve(request, page_ref(request), "url" if by_url else "id")
    ctx = share_context(request, item)
    bar: ShareBar = ctx["share"]
    links = [link.as_json() for link in bar.links if network in (None, link.network)]
    return JSONResponse(
        {
            "page": {
                "kind": item.kind,
                "key": item.key,
                "title": item.title,
                "url": bar.canonical,
                "offset": item.offset,
            },
            "links": links,
            "kakao": bar.kakao,
        },
        headers={"Cache-Control": "no-store"},
    )


async def record_click(request: Request) -> Response:
    if not same_origin(request):
        raise ApiError(403, "Origin", "cross-site request refused", code="bad_origin")
    data = await json_body(request)
    network = data.get("network")
    if not isinstance(network, str) or network not in share.NETWORKS:
        raise ApiError(400, "network", f"must be one of {', '.join(share.NETWORKS)}")
    url = data.get("url")
    if not isinstance(url, str):
        raise ApiError(400, "url", "must be a string")
    try:
        ref = share.parse_page_url(url, services(request).settings.public_origin)
    except share.ShareUrlError as exc:
        raise ApiError(400, "url", str(exc), code="not_shareable") from None
    item = await resolve(request, ref)
    wait = await click_wait(
        services(request).broker, request.client.host if request.client else "?"
    )
    if wait:
        raise ApiError(
            429,
            None,
            "too many share clicks; try again in a minute",
            headers={"Retry-After": str(math.ceil(wait))},
        )
    await share_clicks(request).record(item.kind, item.key, network)
    return Response(status_code=204)


async def click_wait(broker: Broker, address: str) -> float:
    """0.0 if a click from `address` is counted now (its token taken), else the seconds
    until one would be: `CLICKS_PER_MINUTE` at once, then that many a minute."""
    key = f"share-click:{address_key(address)}"
    waits = await broker.take([Bucket(key, CLICKS_PER_MINUTE, CLICKS_PER_MINUTE / 60)])
    if waits is None:
        return _local_clicks.check(key, time.monotonic())
    return max(waits)


def _is_operator(request: Request) -> bool:
    session = current_session(request)
    return session is not None and may(session.role, Access.SCHEDULE)


async def stats_rows(request: Request) -> dict[str, Any]:
    svc = services(request)
    pages: dict[tuple[str, str], dict[str, Any]] = {}
    for row in await share_clicks(request).counts():
        page = pages.get((row.kind, row.target))
        if page is None:
            if len(pages) >= STATS_PAGES:
                continue
            page = {
                "kind": row.kind,
                "target": row.target,
                "title": "",
                "url": "",
                "networks": {n: 0 for n in share.NETWORKS},
                "total": 0,
            }
            pages[(row.kind, row.target)] = page
        page["networks"][row.network] = page["networks"].get(row.network, 0) + row.clicks
        page["total"] += row.clicks
    for page in pages.values():
        try:
            item = await resolve(request, share.PageRef(page["kind"], page["target"]))
        except ApiError:
            page["title"] = ""
            continue
        page["title"] = item.title
        page["url"] = share.page_url(svc.settings.public_origin, item)
    totals = await share_clicks(request).totals()
    return {
        "networks": list(share.NETWORKS),
        "totals": {n: totals.get(n, 0) for n in share.NETWORKS},
        "pages": sorted(pages.values(), key=lambda p: (-p["total"], p["kind"], p["target"])),
    }


async def share_stats(request: Request) -> Response:
    require_access(request, Access.SCHEDULE)
    return JSONResponse(await stats_rows(request), headers={"Cache-Control": "no-store"})


async def operator_shares(request: Request) -> Response:
    gate = staff_gate(request, Access.SCHEDULE)
    if isinstance(gate, Response):
        return gate
    response = services(request).templates.TemplateResponse(
        request,
        "share/operator_shares.html",
        {
            "stats": await stats_rows(request),
            "network_labels": share.NETWORK_LABELS,
            "kind_labels": {"live": "생방송", "replay": "다시보기", "schedule": "편성표"},
        },
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- oEmbed and the embeddable player --------------------------------------------------


def embed_size(request: Request) -> tuple[int, int]:
    """640×360, shrunk (16:9 kept) to fit `maxwidth`/`maxheight`."""
    width, height = share.EMBED_WIDTH, share.EMBED_HEIGHT
    for name in ("maxwidth", "maxheight"):
        raw = request.query_params.get(name, "")
        if not raw:
            continue
        if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
            raise ApiError(400, name, "must be a positive integer")
        limit = int(raw)
        if name == "maxwidth" and width > limit:
            width, height = limit, limit * 9 // 16
        if name == "maxheight" and height > limit:
            width, height = limit * 16 // 9, limit
    return max(width, 1), max(height, 1)


async def oembed(request: Request) -> Response:
    fmt = request.query_params.get("format", "json")
    if fmt != "json":
        raise ApiError(501, "format", "only format=json is available", code="not_implemented")
    base = services(request).settings.public_origin
    try:
        ref = share.parse_page_url(request.query_params.get("url", ""), base)
    except share.ShareUrlError as exc:  # oEmbed: a URL we have nothing for is 404
        raise ApiError(404, "url", str(exc)) from None
    if ref.kind == "schedule":
        raise ApiError(404, "url", "a schedule page has no player to embed")
    item = await resolve(request, ref)
    width, height = embed_size(request)
    assert item.embed_path is not None
    src = base + item.embed_path
    frame = (
        f'<iframe src="{html.escape(src)}" width="{width}" height="{height}" '
        f'title="{html.escape(item.title)}" loading="lazy" '
        'allow="autoplay; fullscreen; picture-in-picture" allowfullscreen></iframe>'
    )
    return JSONResponse(
        {
            "version": "1.0",
            "type": "video",
            "title": item.title,
            "provider_name": share.text(request_locale(request), "site"),
            "provider_url": base + "/",
            "thumbnail_url": og_image(request, item),
            "thumbnail_width": share.OG_IMAGE_WIDTH,
            "thumbnail_height": share.OG_IMAGE_HEIGHT,
            "html": frame,
            "width": width,
            "height": height,
            "cache_age": 300,
        },
        headers={"Cache-Control": "public, max-age=300"},
    )


@dataclass(frozen=True)
class EmbedPlayer:
    title: str
    page_url: str
    stream_url: str
    poster_url: str
    start: int
    live: bool


async def embed_broadcast(request: Request) -> Response:
    svc = services(request)
    broadcast = await find_broadcast(svc, int(request.path_params["broadcast_id"]))
    if broadcast is None:
        return await _embed_missing(request)
    item = broadcast_item(broadcast, request_locale(request))
    player = EmbedPlayer(
        item.title,
        share.page_url(svc.settings.public_origin, item),
        broadcast.stream_url,
        broadcast.poster_url,
        0,
        broadcast.status == "live",
    )
    return _embed_page(request, item, player)


async def embed_replay(request: Request) -> Response:
    svc = services(request)
    replay = await find_replay(svc, int(request.path_params["replay_id"]))
    if replay is None:
        return await _embed_missing(request)
    offset = None
    raw = request.query_params.get("t")
    if raw:
        try:
            offset = share.parse_offset(raw) or None
        except share.ShareUrlError:
            offset = None
    if offset and replay.duration_seconds and offset >= replay.duration_seconds:
        offset = None
    item = replay_item(replay, offset, request_locale(request))
    player = EmbedPlayer(
        item.title,
        share.page_url(svc.settings.public_origin, item),
        replay.recording_url,
        replay.thumbnail_url,
        offset or 0,
        False,
    )
    return _embed_page(request, item, player)


def _embed_page(request: Request, item: share.Shareable, player: EmbedPlayer) -> Response:
    ctx = share_context(request, item)
    return services(request).templates.TemplateResponse(
        request,
        "share/embed.html",
        {
            "meta": ctx["meta"],
            "player": player,
            "hls_url": static_url("vendor/hls.min.js") if HLS_VENDOR.exists() else "",
        },
    )


async def _embed_missing(request: Request) -> Response:
    locale = request_locale(request)
    return await error_page(request, 404, translate(locale, "방송을 찾을 수 없습니다."))


routes: list[BaseRoute] = [
    Route("/api/share", share_links, methods=["GET"]),
    Route("/api/share/click", record_click, methods=["POST"]),
    Route("/api/share/stats", share_stats, methods=["GET"]),
    Route("/operator/shares", operator_shares, methods=["GET", "HEAD"]),
    Route("/oembed", oembed, methods=["GET"]),
    Route("/embed/broadcasts/{broadcast_id:id}", embed_broadcast, methods=["GET", "HEAD"]),
    Route("/embed/replays/{replay_id:id}", embed_replay, methods=["GET", "HEAD"]),
]
