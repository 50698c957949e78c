"""Citizen questions in real Chromium against two uvicorn processes sharing Redis."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.pagekit import new_page
from tests.support import TIMEOUT, AppServer, RedisServer, seed_broadcast, server_pair
from tests.web.test_questions_api import PASSWORD, make_staff

pytestmark = pytest.mark.e2e
MS = TIMEOUT * 1000


@pytest.fixture
def pair(tmp_path: Path, redis_server: RedisServer) -> Iterator[tuple[AppServer, AppServer]]:
    db = tmp_path / "shared.db"
    seed_broadcast(db, 1, "시민과의 대화")
    make_staff(db, "kim", "official", "교통정책과")
    env = {"REDIS_URL": redis_server.url}
    with server_pair(db, env) as servers:
        yield servers


def guest_page(browser: Any, server: AppServer, nickname: str) -> Any:
    page = new_page(browser)
    response = page.context.request.post(f"{server.base}/api/session", data={"nickname": nickname})
    assert response.status == 201
    return page


def open_questions(page: Any, server: AppServer) -> None:
    page.goto(f"{server.base}/broadcasts/1/questions")
    page.wait_for_selector("#questions[data-started]", timeout=MS)


def test_ask_upvote_answer_and_the_asker_sees_it(
    browser: Any, artifacts: Path, pair: tuple[AppServer, AppServer]
) -> None:
    """A viewer asks with the live page's question toggle (process A); another upvotes on
    the questions page (process B); an official answers live from the panel (A); the
    asker's open questions page and chat show the answer with the badge and department."""
    a, b = pair
    asker_live = guest_page(browser, a, "질문하는시민")
    asker_live.goto(f"{a.base}/live/1")
    asker_live.wait_for_selector("#chat[data-connection=open]", timeout=MS)
    asker_list = asker_live.context.new_page()
    asker_list.errors = []
    asker_list.on("pageerror", lambda exc: asker_list.errors.append(str(exc)))
    open_questions(asker_list, a)

    voter = guest_page(browser, b, "추천하는시민")
    open_questions(voter, b)
    official = new_page(browser)
    login = official.context.request.post(
        f"{a.base}/api/login", data={"username": "kim", "password": PASSWORD}
    )
    assert login.status == 200
    open_questions(official, a)

    question = "마을버스 배차 간격을 줄여 주실 수 있나요?"
    asker_live.fill("#chat-text", question)
    asker_live.check("#chat-question")
    asker_live.press("#chat-text", "Enter")
    item = voter.locator("#q-list .question", has_text=question)
    item.wait_for(timeout=MS)

    started = time.monotonic()
    item.locator("[data-action=vote]").click()
    item.locator("[data-action=vote][aria-pressed=true]").wait_for(timeout=MS)
    asker_item = asker_list.locator("#q-list .question", has_text=question)
    asker_item.locator(".question__votes", has_text="1").wait_for(timeout=MS)
    vote_ms = (time.monotonic() - started) * 1000

    panel = official.locator("#q-list .question", has_text=question)
    panel.locator(".question__staff summary").click()
    panel.locator(".question__staff textarea").fill("다음 달부터 8분 간격으로 줄입니다.")
    panel.locator(".question__staff select[name=mode]").select_option("live")
    started = time.monotonic()
    panel.locator(".question__staff button[type=submit]").first.click()

    answer = asker_item.locator(".question__answer")
    answer.locator(".question__answer-text", has_text="8분 간격").wait_for(timeout=MS)
    answer_ms = (time.monotonic() - started) * 1000
    assert "교통정책과" in answer.locator(".badge--official").inner_text()
    assert "kim" in answer.inner_text()
    asker_item.locator(".question__status--answered").wait_for(timeout=MS)
    voter.locator("#q-list .question .question__answer-text", has_text="8분 간격").wait_for(
        timeout=MS
    )
    # The live chat of the asker shows the official's answer as a comment, badge included.
    chat_answer = asker_live.locator("#chat-list .comment", has_text="8분 간격")
    chat_answer.locator(".badge--official").wait_for(timeout=MS)
    asker_list.locator("[data-tally=answers]", has_text="1").wait_for(timeout=MS)
    assert "답변 1 / 질문 1" in asker_list.locator(".qtally__headline").inner_text()
    assert "100 %" in asker_list.locator(".qtally__headline").inner_text()
    # The asker follows their own question without doing anything.
    asker_item.locator("[data-action=follow][aria-pressed=true]").wait_for(timeout=MS)
    # Next visit: the asker's notification list names the change until marked as seen.
    asker_list.reload()
    notices = asker_list.locator("#q-notices:not([hidden])")
    notices.locator("li", has_text="마을버스").wait_for(timeout=MS)
    assert "답변 완료" in notices.inner_text()
    asker_list.screenshot(path=str(artifacts / "questions-asker.png"), full_page=True)
    asker_list.click("#q-notices-seen")
    asker_list.locator("#q-notices[hidden]").wait_for(state="attached", timeout=MS)
    print(f"vote shown to the asker in {vote_ms:.0f} ms; answer in {answer_ms:.0f} ms")
    for page in (asker_live, asker_list, voter, official):
        assert page.errors == [], page.errors
    for page in (asker_live, voter, official):
        page.context.close()
