"""Moderation as a viewer sees it on the live page, in real Chromium against a real server:
reporting a comment, the author's removal notice and appeal, a reinstated comment coming
back in its place, and the question panel riding on the chat's socket."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.pagekit import expose_chat, new_page
from tests.support import TIMEOUT, AppServer, seed_broadcast
from tests.web.test_questions_api import PASSWORD, make_staff

pytestmark = pytest.mark.e2e
MS = TIMEOUT * 1000


@pytest.fixture
def server(tmp_path: Path) -> Iterator[AppServer]:
    db = tmp_path / "live.db"
    seed_broadcast(db, 1, "구정 보고회")
    make_staff(db, "mod", "moderator", "")
    # 0.5: one reporter with a comment of their own, whose session is new, hides.
    app = AppServer(
        db,
        {"REPORT_HIDE_THRESHOLD": "0.5", "COMMENT_BURST": "100", "COMMENT_RATE_PER_MINUTE": "1000"},
    )
    app.start()
    try:
        yield app
    finally:
        app.stop()


def viewer(browser: Any, server: AppServer, nickname: str) -> Any:
    """A guest with a nickname on /live/1, connected."""
    page = new_page(browser, width=1280)
    response = page.context.request.post(f"{server.base}/api/session", data={"nickname": nickname})
    assert response.status == 201, response.text()
    page.goto(f"{server.base}/live/1")
    page.wait_for_selector("#chat[data-connection=open]", timeout=MS)
    return page


class Moderator:
    """A moderator account driving the JSON API (what the console sends)."""

    def __init__(self, browser: Any, server: AppServer) -> None:
        self.context = browser.new_context()
        self.base = server.base
        response = self.context.request.post(
            f"{self.base}/api/login", data={"username": "mod", "password": PASSWORD}
        )
        assert response.ok, response.text()
        self.csrf = self.context.request.get(f"{self.base}/api/session").json()["csrf_token"]

    def act(self, **body: Any) -> dict[str, Any]:
        response = self.context.request.post(
            f"{self.base}/api/moderation/broadcasts/1/actions",
            data=body,
            headers={"X-CSRF-Token": self.csrf, "Origin": self.base},
        )
        assert response.ok, response.text()
        result: dict[str, Any] = response.json()
        return result

    def get(self, path: str) -> dict[str, Any]:
        response = self.context.request.get(self.base + path)
        assert response.ok, response.text()
        found: dict[str, Any] = response.json()
        return found


def post(page: Any, text: str) -> int:
    page.fill("#chat-text", text)
    page.press("#chat-text", "Enter")
    item = page.locator("#chat-list li.comment[data-id]:not(.comment--pending)", has_text=text)
    item.wait_for(timeout=MS)
    return int(item.get_attribute("data-id"))


def list_ids(page: Any) -> list[int]:
    ids: list[int] = page.eval_on_selector_all(
        "#chat-list li[data-id]", "els => els.map(e => Number(e.dataset.id))"
    )
    return ids


def test_report_removal_appeal_and_reinstatement(
    browser: Any, server: AppServer, artifacts: Path
) -> None:
    """A viewer reports a comment with the keyboard (hidden at threshold 0.5, queued for
    moderators); a moderator removes another: its author sees the reason and appeals once;
    the reinstated comment comes back in id order on a page that stayed open."""
    author, reporter = viewer(browser, server, "작성자"), viewer(browser, server, "신고자")
    mod = Moderator(browser, server)
    first = post(author, "첫 댓글")
    spam = post(author, "광고 댓글입니다")
    removed = post(author, "지워질 댓글")
    last = post(author, "마지막 댓글")
    for cid in (first, spam, removed, last):
        reporter.locator(f"#c-{cid}").wait_for(timeout=MS)
    own = post(reporter, "신고자의 댓글")
    # Report buttons: on others' comments, never on one's own; one tab stop for them all.
    assert reporter.locator(f"#c-{own} .comment__report").is_hidden()
    assert author.locator(f"#c-{spam} .comment__report").is_hidden()
    assert reporter.locator("#chat-list .comment__report[tabindex='0']").count() == 1

    button = reporter.locator(f"#c-{spam} .comment__report")
    assert button.get_attribute("aria-label") == "작성자 님의 댓글 메뉴"
    reporter.locator(f"#c-{last} .comment__report").focus()
    reporter.keyboard.press("ArrowUp")  # from "마지막" past the removed-later one
    reporter.keyboard.press("ArrowUp")
    assert reporter.evaluate("document.activeElement.closest('li').dataset.id") == str(spam)
    reporter.keyboard.press("Enter")  # the ⋯ menu opens on its one item, 신고하기
    reporter.wait_for_selector("#comment-menu:not([hidden])", timeout=MS)
    assert reporter.evaluate("document.activeElement.id") == "comment-menu-report"
    reporter.keyboard.press("Enter")
    reporter.wait_for_selector("#report-dialog[open]", timeout=MS)
    assert reporter.locator("#report-quote").inner_text() == "광고 댓글입니다"
    reporter.check("#report-dialog input[value=spam]")
    reporter.click("#report-dialog button[type=submit]")
    reporter.locator("#chat-status", has_text="신고를 접수했습니다").wait_for(timeout=MS)
    assert not reporter.locator("#report-dialog").is_visible()
    # Threshold 0.5: hidden for everyone else, pending review for its author, queued.
    reporter.locator(f"#c-{spam}").wait_for(state="detached", timeout=MS)
    author.locator(f"#c-{spam}.comment--held", has_text="검토 중").wait_for(timeout=MS)
    queue = mod.get("/api/moderation/broadcasts/1/queue")["items"]
    assert [(q["id"], q["cause"], q["reports"]) for q in queue] == [(spam, "reports", 1)]

    # A removal: the author's page keeps a notice in its place, with one appeal.
    mod.act(action="remove", comment_id=removed, reason="abuse")
    reporter.locator(f"#c-{removed}").wait_for(state="detached", timeout=MS)
    notice = author.locator(f"#chat-list li[data-notice-for='{removed}']")
    notice.wait_for(timeout=MS)
    assert notice.locator(".comment-notice__title").inner_text() == "삭제됨: 욕설·비방"
    assert notice.locator(".comment-notice__text").inner_text() == "지워질 댓글"
    assert author.locator(f"#c-{removed}").count() == 0
    notice.locator("button[data-action=appeal]").click()
    author.keyboard.type("욕설이 아니라 사투리입니다")
    notice.locator("button[type=submit]").click()
    notice.locator(".comment-notice__outcome", has_text="이의 신청을 보냈습니다").wait_for(
        timeout=MS
    )
    assert notice.locator("button[data-action=appeal]").count() == 0
    assert (
        author.evaluate(f"""async () => (await fetch('/api/comments/{removed}/moderation'))
        .json()""")["can_appeal"]
        is False
    )
    appeals = mod.get("/api/moderation/broadcasts/1/appeals?status=open")["items"]
    assert [(a["comment_id"], a["text"]) for a in appeals] == [
        (removed, "욕설이 아니라 사투리입니다")
    ]
    author.screenshot(path=str(artifacts / "live-removed-notice.png"))

    # Reinstated: back in id order on the open pages; the author hears the outcome.
    mod.act(action="appeal_decide", appeal_id=appeals[0]["id"], outcome="reinstate", note="")
    for page in (reporter, author):
        page.locator(f"#c-{removed}", has_text="지워질 댓글").wait_for(timeout=MS)
        ids = list_ids(page)
        assert ids == sorted(ids) and ids.count(removed) == 1
    assert author.locator(f"li[data-notice-for='{removed}']").count() == 0
    author.locator("#chat-status", has_text="이의 신청이 받아들여져").wait_for(timeout=MS)
    for page in (author, reporter):
        assert page.errors == []
        page.context.close()
    mod.context.close()


def test_question_panel_shares_the_chat_socket(browser: Any, server: AppServer) -> None:
    """/live/{id} shows the question panel; a question asked elsewhere reaches it through
    the chat's one WebSocket (a `livechat:frame` event, no patched handler); a restriction
    shows until when."""
    sockets: list[str] = []
    page = new_page(browser, width=360)
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.goto(f"{server.base}/live/1")
    page.wait_for_selector("#chat[data-connection=open]", timeout=MS)
    page.wait_for_selector("#questions[data-started]", timeout=MS)
    assert page.locator("#questions-title").is_visible()
    expose_chat(page)
    assert page.evaluate("window.liveChat.handle === Object.getPrototypeOf(window.liveChat).handle")
    seen = page.evaluate_handle("""() => {
        const frames = [];
        document.addEventListener('livechat:frame', (e) => frames.push(e.detail.type));
        return frames;
    }""")
    asker = viewer(browser, server, "질문자")
    asker.fill("#chat-text", "버스 노선은 언제 바뀌나요?")
    asker.check("#chat-question")
    asker.press("#chat-text", "Enter")
    page.locator("#q-list li.question", has_text="버스 노선은 언제 바뀌나요?").wait_for(timeout=MS)
    assert "question" in page.evaluate("frames => frames", seen)
    assert len(sockets) == 1, sockets

    comment = int(
        page.locator("#chat-list li[data-id]", has_text="버스 노선").get_attribute("data-id")
    )
    mod = Moderator(browser, server)
    mod.act(action="timeout", comment_id=comment, minutes=5, reason="off_topic")
    restricted = asker.locator("#chat-restricted")
    restricted.wait_for(state="visible", timeout=MS)
    assert restricted.inner_text().startswith("채팅 제한: ")
    assert restricted.inner_text().endswith(" 까지")
    for p in (page, asker):
        assert p.errors == []
        p.context.close()
    mod.context.close()


def test_new_cookie_at_a_banned_address_sees_the_restriction(
    browser: Any, server: AppServer
) -> None:
    """A viewer banned everywhere who comes back as a new guest from the same address is
    told on the live page that commenting is restricted (until when), and the text stays."""
    troll = viewer(browser, server, "트롤")
    cid = post(troll, "도배 댓글")
    Moderator(browser, server).act(action="ban", comment_id=cid, reason="spam", scope="everywhere")
    again = viewer(browser, server, "새 얼굴")
    again.fill("#chat-text", "다시 왔어요")
    again.press("#chat-text", "Enter")
    notice = again.locator("#chat-restricted")
    notice.wait_for(state="visible", timeout=MS)
    text = notice.inner_text()
    assert "까지" in text and "기한 없음" not in text, text  # an end time, not "no end"
    assert again.input_value("#chat-text") == "다시 왔어요"
    troll.context.close()
    again.context.close()
