"""Sign-in from the live page in real Chromium: a real uvicorn process, and a real OpenID
Connect provider (`oidc-provider` run by Node, tests/oidc.py) standing in for Kakao and
Naver through the same settings a deployment uses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.pagekit import new_page
from tests.oidc import OidcProvider
from tests.support import TIMEOUT, AppServer, seed_broadcast

pytestmark = pytest.mark.e2e
MS = TIMEOUT * 1000


@pytest.fixture
def social(tmp_path: Path) -> Iterator[tuple[AppServer, OidcProvider]]:
    db = tmp_path / "social.db"
    seed_broadcast(db, 1)
    server = AppServer(db)
    provider = OidcProvider([server.base])
    provider.start()
    try:
        server.env.update(provider.env("kakao", "naver"))
        server.start()
        try:
            yield server, provider
        finally:
            server.stop()
    finally:
        provider.stop()


def open_live(browser: Any, server: AppServer) -> Any:
    page = new_page(browser)
    page.goto(f"{server.base}/live/1")
    page.wait_for_selector("#chat[data-connection=open]", timeout=MS)
    return page


def test_sign_in_from_the_live_page_keeps_the_draft_and_shows_the_mark(
        browser: Any, social: tuple[AppServer, OidcProvider]) -> None:
    """A viewer half-types a comment, signs in with Kakao from the composer, consents, is
    back on the live page with the text still there, sends it; another viewer sees it
    under the chosen name with the Kakao mark."""
    server, provider = social
    reader = open_live(browser, server)
    viewer = open_live(browser, server)
    viewer.fill("#chat-text", "로그인하고 보낼 댓글")
    viewer.click("#signin-menu summary")
    provider.next_login("citizen1")
    viewer.click("[data-signin=kakao]")
    viewer.wait_for_url("**/account/welcome", timeout=MS)
    assert viewer.locator("#display-name").input_value() == "citizen1-nick"
    viewer.fill("#display-name", "카카오시민")
    viewer.click("button[value=accept]")
    viewer.wait_for_url("**/live/1", timeout=MS)
    viewer.wait_for_selector("#chat[data-connection=open]", timeout=MS)
    assert viewer.locator("#chat-text").input_value() == "로그인하고 보낼 댓글"
    assert viewer.locator("#chat-nickname-open").is_hidden()
    viewer.press("#chat-text", "Enter")
    sent = reader.locator("#chat-list .comment", has_text="로그인하고 보낼 댓글")
    sent.wait_for(timeout=MS)
    assert sent.locator(".comment__author").inner_text() == "카카오시민"
    mark = sent.locator("img.mark--kakao")
    assert mark.get_attribute("alt") == "Kakao"
    assert mark.evaluate("img => img.complete && img.naturalWidth > 0")
    viewer.reload()
    viewer.wait_for_selector("#chat[data-connection=open]", timeout=MS)
    assert viewer.locator("#chat-text").input_value() == ""  # sent: no draft left
    assert reader.errors == [] and viewer.errors == []
    reader.context.close()
    viewer.context.close()


def test_cancelled_sign_in_explains_and_keeps_the_draft(
        browser: Any, social: tuple[AppServer, OidcProvider]) -> None:
    """Cancelling at the provider brings the viewer back to the live page, told that the
    sign-in was cancelled, with the half-typed comment still in the box."""
    server, provider = social
    viewer = open_live(browser, server)
    viewer.fill("#chat-text", "취소해도 남는 글")
    viewer.click("#signin-menu summary")
    provider.next_login(deny=True)
    viewer.click("[data-signin=naver]")
    viewer.wait_for_url("**/live/1?signin_error=cancelled", timeout=MS)
    viewer.wait_for_selector("#chat[data-connection=open]", timeout=MS)
    assert "취소" in viewer.locator("#signin-error").inner_text()
    assert viewer.locator("#chat-text").input_value() == "취소해도 남는 글"
    assert viewer.errors == []
    viewer.context.close()
