"""The share bar in real Chromium: the KakaoTalk button's fallbacks, click counting, SRI."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.pagekit import live_broadcast
from tests.support import TIMEOUT, AppServer, wait_for
from tests.web.pagekit import add_live_broadcast
from web.pages.share_links import KAKAO_SDK_INTEGRITY, KAKAO_SDK_URL

pytestmark = pytest.mark.e2e
MS = TIMEOUT * 1000

# A test double for the Web Share API: records what the page asks to share.
SHARE_SHIM = """
window.__shared = [];
Object.defineProperty(navigator, "share", {
  configurable: true,
  value: (data) => { window.__shared.push(data); return Promise.resolve(); },
});
"""
PHONE_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/126.0.0.0 Mobile Safari/537.36"
)
COPIED_FOR_KAKAO = "링크를 복사했습니다. 카카오톡 대화창에 붙여 넣어 공유하세요."


def kakao_url(server: AppServer, broadcast_id: int) -> str:
    return (
        f"{server.base}/live/{broadcast_id}?utm_source=kakaotalk&utm_medium=social"
        f"&utm_campaign=live-{broadcast_id}"
    )


def clicks(db: Path, network: str) -> int:
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT SUM(clicks) FROM share_clicks WHERE network = ?", (network,)
        ).fetchone()
    return int(row[0] or 0)


def open_share_bar(context: Any, url: str) -> Any:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    page.goto(url)
    page.locator("[data-network=kakaotalk]").wait_for(state="visible", timeout=MS)
    return page


def status_text(page: Any, expected: str) -> None:
    page.wait_for_function(
        "(t) => document.querySelector('[data-share-status]').textContent === t",
        arg=expected,
        timeout=MS,
    )


def test_kakao_button_copies_the_link_on_desktop(browser: Any, demo_server: AppServer) -> None:
    """Without a Kakao key, on a desktop the button copies the tagged link, says so in the
    live region (even where navigator.share exists), and the click is counted."""
    broadcast_id = live_broadcast(demo_server)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ko-KR")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=demo_server.base)
    context.add_init_script(SHARE_SHIM)
    try:
        page = open_share_bar(context, f"{demo_server.base}/live/{broadcast_id}")
        page.click("[data-network=kakaotalk]")
        status_text(page, COPIED_FOR_KAKAO)
        assert page.evaluate("navigator.clipboard.readText()") == kakao_url(
            demo_server, broadcast_id
        )
        assert page.evaluate("window.__shared.length") == 0
        assert page.get_attribute("[data-share-status]", "aria-live") == "polite"
        wait_for(
            lambda: clicks(demo_server.db_path, "kakaotalk") == 1,
            what="the kakaotalk click to be counted",
        )
        page.click("[data-network=copy]")
        status_text(page, "링크를 복사했습니다.")
        assert "utm_source=copy" in page.evaluate("navigator.clipboard.readText()")
        assert page.errors == []
    finally:
        context.close()


def test_kakao_button_opens_the_share_sheet_on_a_phone(
    browser: Any, demo_server: AppServer
) -> None:
    """Without a Kakao key, on a phone the button hands the link to navigator.share."""
    broadcast_id = live_broadcast(demo_server)
    context = browser.new_context(
        viewport={"width": 412, "height": 915},
        user_agent=PHONE_UA,
        device_scale_factor=2.625,
        is_mobile=True,
        has_touch=True,
        locale="ko-KR",
    )
    context.add_init_script(SHARE_SHIM)
    try:
        page = open_share_bar(context, f"{demo_server.base}/live/{broadcast_id}")
        page.tap("[data-network=kakaotalk]")
        page.wait_for_function("window.__shared.length === 1", timeout=MS)
        shared = page.evaluate("window.__shared[0]")
        assert shared["url"] == kakao_url(demo_server, broadcast_id)
        assert shared["title"]
        status_text(page, "공유했습니다.")
        assert page.errors == []
    finally:
        context.close()


@pytest.fixture
def kakao_server(tmp_path: Path) -> Iterator[AppServer]:
    """A server with a Kakao key configured (the SDK itself is never fetched from Kakao)."""
    db = tmp_path / "kakao.db"
    server = AppServer(db, env={"KAKAO_JS_KEY": "test-kakao-key"})
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_kakao_sdk_is_loaded_with_its_integrity_hash(browser: Any, kakao_server: AppServer) -> None:
    """With a key, the SDK is requested from Kakao's CDN with SRI; a tampered file is
    refused by the browser and the button still copies the link."""
    broadcast_id = add_live_broadcast(kakao_server.db_path)
    context = browser.new_context(locale="ko-KR")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=kakao_server.base)
    requested: list[str] = []

    def tampered_sdk(route: Any) -> None:
        requested.append(route.request.url)
        route.fulfill(
            status=200,
            content_type="text/javascript",
            headers={"Access-Control-Allow-Origin": "*"},
            body="window.Kakao = {tampered: true};",
        )

    context.route("https://t1.kakaocdn.net/**", tampered_sdk)
    try:
        page = open_share_bar(context, f"{kakao_server.base}/live/{broadcast_id}")
        script = page.wait_for_selector(
            "script[src*='t1.kakaocdn.net']", state="attached", timeout=MS
        )
        assert script.get_attribute("src") == KAKAO_SDK_URL
        assert script.get_attribute("integrity") == KAKAO_SDK_INTEGRITY
        assert script.get_attribute("crossorigin") == "anonymous"
        page.click("[data-network=kakaotalk]")
        status_text(page, COPIED_FOR_KAKAO)
        assert requested and requested[0].endswith("/kakao.min.js")
        assert page.evaluate("typeof window.Kakao") == "undefined"  # SRI blocked the stub
    finally:
        context.close()
