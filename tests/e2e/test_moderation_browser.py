"""Headless Chromium against two real app processes sharing Redis: the moderator console
removes a comment and it leaves viewer pages on both processes; a blocked word is held;
an appeal goes from the author to the console and back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.support import (
    TIMEOUT,
    AppServer,
    RedisServer,
    account_store,
    seed_broadcast,
    server_pair,
)

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery"
WAIT_MS = TIMEOUT * 1000


async def _staff(db: Path) -> None:
    async with account_store(db) as store:
        await store.create("mod", PASSWORD, "moderator", "모더레이터")


@pytest.fixture
def pair(tmp_path: Path, redis_server: RedisServer) -> Iterator[tuple[AppServer, AppServer]]:
    db = tmp_path / "shared.db"
    seed_broadcast(db, 1)
    # Playwright's sync API runs a loop on this thread: create the account on another one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _staff(db)).result()
    env = {
        "REDIS_URL": redis_server.url,
        "COMMENT_BURST": "1000",
        "COMMENT_RATE_PER_MINUTE": "100000",
    }
    with server_pair(db, env) as servers:
        yield servers


def viewer_page(browser: Any, server: AppServer, nickname: str) -> Any:
    """A guest on the real live page of `server`, connected and ready to post."""
    context = browser.new_context(locale="ko-KR")
    page = context.new_page()
    response = page.request.post(f"{server.base}/api/session", data={"nickname": nickname})
    assert response.ok, response.text()
    page.goto(f"{server.base}/live/1")
    page.wait_for_selector("#chat-fieldset:not([disabled])", timeout=WAIT_MS)
    return page


def moderator_console(browser: Any, server: AppServer) -> Any:
    context = browser.new_context(locale="ko-KR")
    page = context.new_page()
    response = page.request.post(
        f"{server.base}/api/login", data={"username": "mod", "password": PASSWORD}
    )
    assert response.ok, response.text()
    page.goto(f"{server.base}/moderate/1")
    page.wait_for_selector("#console[data-ready='true']", timeout=WAIT_MS)
    return page


def post_from_page(page: Any, text: str) -> None:
    page.fill("#chat-text", text)
    page.press("#chat-text", "Enter")


def comment_id(page: Any, text: str) -> int:
    item = page.locator("#chat-list li.comment", has_text=text)
    item.wait_for(timeout=WAIT_MS)
    return int(item.get_attribute("data-id"))


def test_console_removal_leaves_viewer_pages_on_both_processes(
    browser: Any, pair: tuple[AppServer, AppServer], artifacts: Path
) -> None:
    """A moderator removes a comment by keyboard in the console; it disappears from viewer
    pages connected to two different app processes."""
    a, b = pair
    console = moderator_console(browser, a)
    viewer_a, viewer_b = viewer_page(browser, a, "가"), viewer_page(browser, b, "나")
    post_from_page(viewer_b, "지워질 광고 댓글")
    post_from_page(viewer_b, "남을 댓글")
    gone = comment_id(viewer_a, "지워질 광고 댓글")
    kept = comment_id(viewer_a, "남을 댓글")
    assert comment_id(viewer_b, "지워질 광고 댓글") == gone
    row = console.locator(f"#mod-list li[data-id='{gone}']")
    row.wait_for(timeout=WAIT_MS)
    console.select_option("#mod-reason", "spam")
    row.focus()
    started = time.monotonic()
    console.keyboard.press("r")  # keyboard: r removes the focused comment
    for page in (viewer_a, viewer_b):
        page.locator(f"#chat-list li[data-id='{gone}']").wait_for(state="detached", timeout=WAIT_MS)
    elapsed = time.monotonic() - started
    console.locator(f"#mod-list li[data-id='{gone}'][data-status='removed']").wait_for(
        timeout=WAIT_MS
    )
    for page in (viewer_a, viewer_b):
        assert page.locator(f"#chat-list li[data-id='{kept}']").count() == 1
    console.screenshot(path=str(artifacts / "moderate-console.png"), full_page=True)
    print(f"\nconsole keypress -> gone from both viewer pages: {elapsed * 1000:.0f} ms")
    assert elapsed < 1.0 + 0.5 * (TIMEOUT / 10 - 1)


def test_blocked_word_is_held_and_an_appeal_round_trips(
    browser: Any, pair: tuple[AppServer, AppServer]
) -> None:
    """A word added in the console holds a comment (pending for its author, absent for
    others, queued for moderators); a removed comment's appeal reaches the console and
    its reinstatement reaches viewers."""
    a, b = pair
    console = moderator_console(browser, a)
    author, other = viewer_page(browser, b, "작성자"), viewer_page(browser, a, "시민")
    console.fill("#mod-word", "시발")
    console.press("#mod-word", "Enter")
    console.locator("#mod-words li", has_text="시발").wait_for(timeout=WAIT_MS)

    post_from_page(author, "씨 발 이게 뭐야")
    author.locator("#chat-list li.comment--held", has_text="씨 발").wait_for(timeout=WAIT_MS)
    queued = console.locator("#mod-queue li", has_text="씨 발")
    queued.wait_for(timeout=WAIT_MS)
    post_from_page(author, "평범한 댓글")
    comment_id(other, "평범한 댓글")  # arrives after the held one would have
    assert other.locator("#chat-list li.comment", has_text="씨 발").count() == 0

    # the author's removed comment, appealed from the author's page
    removed = comment_id(author, "평범한 댓글")
    row = console.locator(f"#mod-list li[data-id='{removed}']")
    row.hover()  # the row's actions show on hover (and on keyboard focus)
    row.locator("button[data-action='remove']").click()
    other.locator(f"#chat-list li[data-id='{removed}']").wait_for(state="detached", timeout=WAIT_MS)
    status = author.evaluate(
        """async (id) => {
        const session = await (await fetch('/api/session')).json();
        const why = await (await fetch(`/api/comments/${id}/moderation`)).json();
        const response = await fetch(`/api/comments/${id}/appeal`, {
            method: 'POST', headers: {'Content-Type': 'application/json',
                                      'X-CSRF-Token': session.csrf_token},
            body: JSON.stringify({text: '광고가 아니라 질문이었습니다'})});
        return {reason: why.removal.reason, canAppeal: why.can_appeal, status: response.status};
    }""",
        removed,
    )
    assert status == {"reason": "spam", "canAppeal": True, "status": 201}
    appeal = console.locator("#mod-appeals li", has_text="광고가 아니라 질문이었습니다")
    appeal.wait_for(timeout=WAIT_MS)
    appeal.locator("button[data-outcome='reinstate']").click()
    console.locator(f"#mod-list li[data-id='{removed}'][data-status='visible']").wait_for(
        timeout=WAIT_MS
    )
    outcome = author.evaluate(
        "async (id) => (await (await fetch(`/api/comments/${id}/moderation`)).json())", removed
    )
    assert outcome["status"] == "visible" and outcome["appeal"]["status"] == "reinstated"
    fresh = viewer_page(browser, b, "새 시청자")
    assert comment_id(fresh, "평범한 댓글") == removed
