"""The live page follows the chat window and a server restored from a backup (Chromium)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.pagekit import new_page
from tests.support import TIMEOUT, AppServer, seed_broadcast
from tests.web.pagekit import guest, post_comment
from tests.web.test_questions_api import PASSWORD, make_staff

pytestmark = pytest.mark.e2e
MS = TIMEOUT * 1000


def open_live(browser: Any, server: AppServer) -> Any:
    page = new_page(browser)
    page.goto(f"{server.base}/live/1")
    page.wait_for_selector("#chat[data-connection=open]", timeout=MS)
    return page


def test_the_composer_closes_when_the_broadcast_ends(browser: Any, tmp_path: Path) -> None:
    """Open while live; when the operator ends the broadcast the composer is disabled and
    the notice says the broadcast has ended; a page opened afterwards starts closed."""
    db = tmp_path / "app.db"
    seed_broadcast(db, 1)
    make_staff(db, "op", "operator")
    server = AppServer(db)
    server.start()
    try:
        page = open_live(browser, server)
        assert not page.locator("#chat-text").is_disabled()
        with httpx.Client(base_url=server.base) as staff:
            login = staff.post("/api/login", json={"username": "op", "password": PASSWORD})
            ended = staff.post(
                "/api/broadcasts/1/end",
                json={},
                headers={"X-CSRF-Token": login.json()["csrf_token"]},
            )
            assert ended.status_code == 200, ended.text
        page.wait_for_function("() => document.getElementById('chat-text').disabled", timeout=MS)
        assert page.locator("#chat-ended").is_visible()
        later = open_live(browser, server)
        assert later.locator("#chat-text").is_disabled()
        assert later.locator("#chat-ended").is_visible()
        assert page.errors == [] and later.errors == []
        page.context.close()
        later.context.close()
    finally:
        server.stop()


def test_a_page_ahead_of_a_restored_server_resets_and_goes_on(browser: Any, tmp_path: Path) -> None:
    """The server comes back from an older backup: the page, resuming beyond the newest id,
    drops the comments that no longer exist and shows new ones (whose ids are reused)."""
    db = tmp_path / "app.db"
    seed_broadcast(db, 1)
    server = AppServer(db)
    server.start()
    try:
        with httpx.Client(base_url=server.base) as client:
            csrf = guest(client)
            kept = post_comment(client, csrf, 1, "백업에 있는 댓글")["id"]
            page = open_live(browser, server)
            backup = tmp_path / "backup.db"
            with sqlite3.connect(db) as live, sqlite3.connect(backup) as copy:
                live.backup(copy)
            for n in range(3):
                post_comment(client, csrf, 1, f"사라질 댓글 {n}")
            page.wait_for_function(
                "() => document.querySelectorAll('#chat-list li[data-id]').length === 4", timeout=MS
            )
            server.stop()
            for suffix in ("-wal", "-shm"):  # the restore: later comments are gone
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            backup.replace(db)
            server.start()
            page.wait_for_function(
                "() => document.querySelectorAll('#chat-list li[data-id]').length === 1",
                timeout=MS * 2,
            )
            page.wait_for_selector("#chat[data-connection=open]", timeout=MS)
            csrf = guest(client)
            fresh = post_comment(client, csrf, 1, "복구 뒤 첫 댓글")["id"]
            assert fresh == kept + 1  # the id a vanished comment had
            page.wait_for_function(
                "() => [...document.querySelectorAll('#chat-list .comment__text')]"
                ".some(e => e.textContent === '복구 뒤 첫 댓글')",
                timeout=MS,
            )
        assert page.errors == []
        page.context.close()
    finally:
        server.stop()


def test_a_phone_number_as_nickname_is_refused_in_the_dialog(browser: Any, tmp_path: Path) -> None:
    """The nickname dialog says, in the page's language, why a phone number is refused;
    an ordinary nickname is then accepted."""
    db = tmp_path / "app.db"
    seed_broadcast(db, 1)
    server = AppServer(db)
    server.start()
    try:
        page = open_live(browser, server)
        page.locator("#chat-nickname-open").click()
        page.fill("#nickname-input", "공일공-1234-5678")
        page.click("#nickname-form button[type=submit]")
        page.wait_for_function(
            "() => document.getElementById('nickname-error').textContent.includes('전화번호')",
            timeout=MS,
        )
        page.fill("#nickname-input", "서울시민")
        page.click("#nickname-form button[type=submit]")
        page.wait_for_function(
            "() => document.getElementById('chat-who').textContent.includes('서울시민')", timeout=MS
        )
        assert page.errors == []
        page.context.close()
    finally:
        server.stop()


def test_an_official_sees_the_masked_answer_before_publishing(browser: Any, tmp_path: Path) -> None:
    """An official's answer with a phone number opens a confirmation showing the masked
    text; dismissed, nothing is published; accepted, the masked answer is shown."""
    db = tmp_path / "app.db"
    seed_broadcast(db, 1)
    make_staff(db, "kim", "official", "교통정책과")
    server = AppServer(db)
    server.start()
    try:
        with httpx.Client(base_url=server.base) as citizen:
            csrf = guest(citizen)
            asked = citizen.post(
                "/api/broadcasts/1/questions",
                headers={"X-CSRF-Token": csrf},
                json={"text": "담당 부서 연락처가 궁금해요", "client_id": "q1"},
            )
            assert asked.status_code == 201, asked.text
        page = new_page(browser)
        login = page.context.request.post(
            f"{server.base}/api/login", data={"username": "kim", "password": PASSWORD}
        )
        assert login.status == 200
        page.goto(f"{server.base}/broadcasts/1/questions")
        page.wait_for_selector("#questions[data-started]", timeout=MS)
        dialogs: list[str] = []
        answers = iter([False, True])

        def decide(dialog: Any) -> None:
            dialogs.append(dialog.message)
            dialog.accept() if next(answers) else dialog.dismiss()

        page.on("dialog", decide)
        item = page.locator("#q-list .question", has_text="담당 부서 연락처")
        item.locator(".question__staff summary").click()
        for attempt in range(2):
            item.locator(".question__staff textarea").fill("교통정책과 02-2133-1234 로 문의하세요")
            item.locator(".question__staff select[name=mode]").select_option("written")
            with page.expect_event("dialog", timeout=MS):
                item.locator(".question__staff button[type=submit]").first.click()
            if attempt == 0:  # dismissed: nothing was published
                state = httpx.get(f"{server.base}/api/questions/{asked.json()['id']}").json()
                assert state["question"]["answer"] is None
        item.locator(".question__answer-text", has_text="**-****-****").wait_for(timeout=MS)
        assert len(dialogs) == 2 and "**-****-**** 로 문의하세요" in dialogs[0]
        assert "개인정보" in dialogs[0]
        assert page.errors == []
        page.context.close()
    finally:
        server.stop()
