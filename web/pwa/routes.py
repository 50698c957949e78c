"""The installable app: the web app manifest, the service worker, the offline page.

* `GET /manifest.webmanifest` — Korean name, icons (192, 512, maskable 512), standalone,
  starting on the channel (`/`), shortcuts to what is on now, the schedule and replays.
* `GET /sw.js` — `static/js/common/sw.js` served from the site root (so its scope is the whole
  site), preceded by one generated line, `const BUILD = {...}`: the version and the hashed
  URLs to precache. The version is a hash of the worker's source, those URLs and
  `PWA_RELEASE`, so any deployment that changes an asset yields a new worker, which the
  page activates on the next visit (see `static/js/common/pwa.js`). Revalidated on every check.
* `GET /offline` — what a navigation shows when there is no connection and nothing cached.
* `GET /now` — the "지금 방송" shortcut: the broadcast live now, else the channel page.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from web.rendering.templating import static_url
from web.services import services

STATIC = Path(__file__).parent.parent / "static"
WORKER = STATIC / "js" / "common" / "sw.js"
THEME_LIGHT, THEME_DARK = "#f4f6f9", "#1b1e25"  # the header's --surface, light and dark
BACKGROUND = "#ffffff"
# Precached at install: every stylesheet, script and icon the pages link (their URLs carry
# the content hash). The HLS player and demo media are left to the network.
PRECACHE_DIRS = ("css", "js", "img")
# Staff pages' files are not pushed to every citizen's phone; they are cached on first use.
NO_PRECACHE = frozenset(
    {
        "js/common/sw.js",
        "js/moderation/moderate.js",
        "css/moderate.css",
        "js/ops/operator.js",
        "js/ops/status.js",
        "css/status.css",
        "js/accounts/login.js",
    }
)


def manifest() -> dict[str, Any]:
    def icon(name: str, size: int, purpose: str = "any") -> dict[str, str]:
        return {
            "src": static_url(f"img/icons/{name}"),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": purpose,
        }

    def shortcut(name: str, url: str, description: str) -> dict[str, Any]:
        return {
            "name": name,
            "short_name": name,
            "url": url,
            "description": description,
            "icons": [icon("icon-192.png", 192)],
        }

    return {
        "id": "/",
        "name": "라이브서울 — 서울시 24시간 소셜방송",
        "short_name": "라이브서울",
        "description": "서울특별시 소셜방송 라이브서울: 생방송, 편성표, 다시보기",
        "lang": "ko",
        "dir": "ltr",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "theme_color": THEME_LIGHT,
        "background_color": BACKGROUND,
        "categories": ["news", "entertainment"],
        "icons": [
            icon("icon-192.png", 192),
            icon("icon-512.png", 512),
            icon("icon-maskable-512.png", 512, "maskable"),
        ],
        "shortcuts": [
            shortcut("지금 방송", "/now", "지금 방송 중인 프로그램"),
            shortcut("편성표", "/schedule", "오늘의 편성표"),
            shortcut("다시보기", "/replays", "지난 방송 다시보기"),
        ],
    }


@cache
def precache_paths() -> tuple[str, ...]:
    found = []
    for folder in PRECACHE_DIRS:
        for path in sorted((STATIC / folder).rglob("*")):
            rel = path.relative_to(STATIC).as_posix()
            if path.is_file() and rel not in NO_PRECACHE and not rel.endswith(".md"):
                found.append(rel)
    return tuple(found)


@cache
def worker_source(release: str) -> str:
    """The service worker as served: the BUILD line, then `static/js/common/sw.js`."""
    source = WORKER.read_text(encoding="utf-8")
    urls = [static_url(p) for p in precache_paths()]
    digest = hashlib.sha256("\n".join([source, release, *urls]).encode()).hexdigest()[:12]
    build = {"version": digest, "precache": [*urls, "/offline"]}
    return f"const BUILD = {json.dumps(build, separators=(',', ':'))};\n{source}"


async def manifest_route(request: Request) -> Response:
    return JSONResponse(
        manifest(), media_type="application/manifest+json", headers={"Cache-Control": "no-cache"}
    )


async def worker_route(request: Request) -> Response:
    body = worker_source(services(request).settings.pwa_release)
    return Response(
        body,
        media_type="text/javascript; charset=utf-8",
        headers={
            # always revalidated: an update must reach installed apps on their next visit
            "Cache-Control": "no-cache",
            "Service-Worker-Allowed": "/",
        },
    )


async def offline_page(request: Request) -> Response:
    return services(request).templates.TemplateResponse(
        request, "offline.html", {}, headers={"Cache-Control": "no-cache"}
    )


async def now_redirect(request: Request) -> Response:
    lives = await services(request).schedule.with_status("live")
    target = f"/live/{min(lives, key=lambda b: b.starts_at).id}" if lives else "/"
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})


routes: list[BaseRoute] = [
    Route("/manifest.webmanifest", manifest_route, methods=["GET", "HEAD"]),
    Route("/sw.js", worker_route, methods=["GET", "HEAD"]),
    Route("/offline", offline_page, methods=["GET", "HEAD"]),
    Route("/now", now_redirect, methods=["GET", "HEAD"]),
]
