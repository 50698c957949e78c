"""Sign-in from the live page in real Chromium: a real uvicorn process, and a real OpenID
Connect provider (`oidc-provider` run by Node, tests/oidc.py) standing in for Kakao and
Naver through the same settings a deployment uses."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.pagekit import new_page
from tests.oidc import OidcProvider
from tests.support import TIMEOUT, AppServer, account_store, seed_broadcast

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
    browser: Any, social: tuple[AppServer, OidcProvider]
) -> None:
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
    browser: Any, social: tuple[AppServer, OidcProvider]
) -> None:
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


async def _moderator(db: Path) -> None:
    async with account_store(db) as store:
        await store.create("mod", "a-long-password", "moderator")


def test_moderator_restricts_comments_to_accounts_and_a_guest_is_told_to_sign_in(
    browser: Any, social: tuple[AppServer, OidcProvider]
) -> None:
    """In the moderation console the moderator picks "signed-in accounts only"; a guest's
    comment is then refused with an explanation, the sign-in buttons open and the text
    stays in the box."""
    server, _ = social
    with ThreadPoolExecutor(1) as pool:  # Playwright's loop runs on this thread
        pool.submit(asyncio.run, _moderator(server.db_path)).result()
    console = new_page(browser)
    assert console.request.post(
        f"{server.base}/api/login", data={"username": "mod", "password": "a-long-password"}
    ).ok
    console.goto(f"{server.base}/moderate/1")
    console.wait_for_function(
        "() => document.querySelector('#comment-access [value=anyone]').checked", timeout=MS
    )
    console.check("#comment-access [value=accounts]")
    console.check("#comment-access [name=votes_need_account]")
    console.click("#comment-access button[type=submit]")
    console.wait_for_function(
        "() => document.getElementById('comment-access-status').textContent !== ''", timeout=MS
    )
    state = console.request.get(f"{server.base}/api/broadcasts/1/comment-access").json()
    assert state == {
        "comments": "accounts",
        "questions_need_account": False,
        "votes_need_account": True,
    }
    guest = new_page(browser)
    assert guest.request.post(f"{server.base}/api/session", data={"nickname": "손님"}).ok
    guest.goto(f"{server.base}/live/1")
    guest.wait_for_selector("#chat[data-connection=open]", timeout=MS)
    assert guest.locator("#signin-menu").get_attribute("open") is not None
    guest.fill("#chat-text", "손님 댓글")
    guest.press("#chat-text", "Enter")
    guest.wait_for_function(
        "() => document.getElementById('chat-status').textContent.includes('로그인')", timeout=MS
    )
    assert guest.locator("#chat-text").input_value() == "손님 댓글"
    assert console.errors == [] and guest.errors == []
    console.context.close()
    guest.context.close()


def test_a_members_question_carries_the_mark_in_the_question_panel(
    browser: Any, social: tuple[AppServer, OidcProvider]
) -> None:
    """A signed-in member asks from the live page; the question panel of another viewer
    shows the question with the Naver mark beside the asker's name, and so does the
    server-rendered panel after a reload."""
    server, provider = social
    reader = open_live(browser, server)
    asker = open_live(browser, server)
    asker.click("#signin-menu summary")
    provider.next_login("asker1")
    asker.click("[data-signin=naver]")
    asker.wait_for_url("**/account/welcome", timeout=MS)
    asker.click("button[value=accept]")
    asker.wait_for_url("**/live/1", timeout=MS)
    asker.wait_for_selector("#chat[data-connection=open]", timeout=MS)
    asker.fill("#chat-text", "지하철 막차 연장되나요?")
    asker.check("#chat-question")
    asker.press("#chat-text", "Enter")
    question = reader.locator("#q-list .question", has_text="지하철 막차 연장되나요?")
    question.locator("img.mark--naver").wait_for(timeout=MS)
    reader.reload()
    reader.locator("#q-list .question img.mark--naver").first.wait_for(timeout=MS)
    assert reader.errors == [] and asker.errors == []
    reader.context.close()
    asker.context.close()
