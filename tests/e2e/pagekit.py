"""Shared by the browser tests: a live broadcast on a running server, page helpers."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support import TIMEOUT, AppServer
from tests.web.pagekit import add_live_broadcast


def _live_ids(data: Any) -> list[int]:
    """Ids of broadcasts marked live anywhere in an /api/now answer (shape-agnostic)."""
    found: list[int] = []
    if isinstance(data, dict):
        status = data.get("status")
        ident = data.get("broadcast_id", data.get("id"))
        if status == "live" and isinstance(ident, int):
            found.append(ident)
        for value in data.values():
            found.extend(_live_ids(value))
    elif isinstance(data, list):
        for value in data:
            found.extend(_live_ids(value))
    return found


def live_broadcast(server: AppServer) -> int:
    """The demo's live broadcast (from GET /api/now), else one inserted into its database."""
    try:
        response = httpx.get(server.base + "/api/now", timeout=5)
        if response.status_code == 200:
            ids = _live_ids(response.json())
            if ids:
                return ids[0]
    except (httpx.HTTPError, ValueError):
        pass
    return add_live_broadcast(server.db_path)


def new_page(browser: Any, *, width: int = 1280, height: int = 900, locale: str = "ko-KR") -> Any:
    """A fresh browser context (own cookies) and page; errors in page scripts fail loudly."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    return page


def expose_chat(page: Any) -> None:
    """Put the live page's chat object on `window.liveChat` for a test to drive. The page
    keeps no such global (panels talk through events): this imports the page's own module
    URL, so it is the same instance the page runs."""
    page.wait_for_selector("#chat[data-connection]", timeout=TIMEOUT * 1000)
    page.evaluate("""async () => {
        const src = document.querySelector('script[src*="/js/live/livechat.js"]').src;
        window.liveChat = (await import(src)).liveChat;
    }""")
