"""Staff screens in headless Chromium against a real uvicorn process: logging in from a
deep link, the staff bar, the moderator console following the newest comment, a spam wave
cleared from the keyboard (time and keystrokes measured and printed), confirmed bans with
undo, recent actions after a reload, and no English code on any staff page in Korean."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.pagekit import new_page
from tests.e2e.sitepages import create_account
from tests.support import TIMEOUT, AppServer, seed_broadcast
from tests.web.pagekit import guest, post_comment

pytestmark = pytest.mark.e2e
MS = TIMEOUT * 1000
PASSWORD = "staff-password-1"
STAFF = {"admin1": "admin", "mod1": "moderator", "op1": "operator", "off1": "official"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """One app process (generous comment limits: the test plays many viewers from one
    address) with a live broadcast 1 and one account per staff role."""
    db = tmp_path_factory.mktemp("staff") / "staff.db"
    seed_broadcast(db, 1, title="서울시장과의 대화")
    app = AppServer(
        db,
        env={
            "COMMENT_BURST": "100000",
            "COMMENT_RATE_PER_MINUTE": "100000",
            "ADDRESS_BURST": "100000",
            "ADDRESS_RATE_PER_MINUTE": "100000",
        },
    )
    app.start()
    try:
        for username, role in STAFF.items():
            create_account(app, username, PASSWORD, role, department="교통정책과")
        yield app
    finally:
        app.stop()


class Viewers:
    """Guests posting over the HTTP API (the same hub path as the live page's socket)."""

    def __init__(self, server: AppServer) -> None:
        self.server = server
        self.clients: dict[str, tuple[httpx.Client, str]] = {}

    def post(self, nickname: str, text: str) -> int:
        if nickname not in self.clients:
            client = httpx.Client(base_url=self.server.base, timeout=TIMEOUT)
            self.clients[nickname] = (client, guest(client, nickname=nickname))
        client, csrf = self.clients[nickname]
        comment_id: int = post_comment(client, csrf, 1, text)["id"]
        return comment_id

    def close(self) -> None:
        for client, _ in self.clients.values():
            client.close()


@pytest.fixture
def viewers(server: AppServer) -> Iterator[Viewers]:
    crowd = Viewers(server)
    try:
        yield crowd
    finally:
        crowd.close()


def logged_in(browser: Any, server: AppServer, username: str, **kw: Any) -> Any:
    page = new_page(browser, **kw)
    response = page.request.post(
        f"{server.base}/api/login", data={"username": username, "password": PASSWORD}
    )
    assert response.ok, response.text()
    return page


def open_console(page: Any, server: AppServer) -> None:
    page.goto(f"{server.base}/moderate/1")
    page.wait_for_selector("#console[data-ready='true']", timeout=MS)


def test_login_from_a_deep_link_returns_there(browser: Any, server: AppServer) -> None:
    """Logged out, `/moderate/1` shows the login form (401); a wrong password is said in
    words; the right one lands on the console itself, with the staff bar and its live
    broadcast's console link."""
    page = new_page(browser)
    response = page.goto(f"{server.base}/moderate/1?from=mail")
    assert response is not None and response.status == 401
    page.click("#login-form button[type=submit]")
    assert page.inner_text("#login-username-error") == "아이디를 입력하세요."
    page.fill("#login-username", "mod1")
    page.fill("#login-password", "wrong password!")
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#login-error:not([hidden])", timeout=MS)
    assert page.inner_text("#login-error") == "아이디 또는 비밀번호가 맞지 않습니다."
    page.fill("#login-password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{server.base}/moderate/1?from=mail", timeout=MS)
    page.wait_for_selector("#console[data-ready='true']", timeout=MS)
    bar = page.locator("#staff-bar")
    assert "mod1" in bar.inner_text() and "모더레이터" in bar.inner_text()
    page.wait_for_selector("#staff-live a.staff-bar__console", timeout=MS)
    assert page.get_attribute("#staff-live a.staff-bar__console", "href") == "/moderate/1"
    assert page.errors == []
    page.click("#staff-logout")
    page.wait_for_url(f"{server.base}/", timeout=MS)
    assert page.locator("#staff-bar").count() == 0
    page.context.close()


def test_staff_bar_on_every_page_for_each_role(browser: Any, server: AppServer) -> None:
    """An operator sees the bar on public pages too, with the schedule desk and status but
    not the audit log or accounts; the operator's desk opens, the console refuses (403)."""
    page = logged_in(browser, server, "op1")
    for path in ("/", "/schedule", "/live/1", "/replays"):
        page.goto(server.base + path)
        links = page.locator("#staff-bar .staff-bar__links a").all_inner_texts()
        assert links == ["편성 데스크", "서비스 상태"], (path, links)
    page.goto(f"{server.base}/operator")
    assert page.locator("h1").inner_text() == "방송 운영"
    response = page.goto(f"{server.base}/moderate/1")
    assert response is not None and response.status == 403
    assert "모더레이터와 관리자만" in page.inner_text("#login-forbidden")
    page.context.close()


def test_console_follows_the_newest_and_pauses_when_scrolled(
    browser: Any, server: AppServer, viewers: Viewers
) -> None:
    """The console opens at the newest comment and keeps following; scrolled up, it stays
    where the moderator is and counts "새 댓글 N개 ↓"; the button goes back and resumes."""
    for n in range(80):
        viewers.post(f"시민{n % 7}", f"따라가기 확인 댓글 {n}번입니다")
    page = logged_in(browser, server, "mod1", width=1280, height=800)
    open_console(page, server)
    at_bottom = (
        "() => { const l = document.getElementById('mod-list');"
        " return l.scrollHeight - l.scrollTop - l.clientHeight < 24; }"
    )
    assert page.evaluate(at_bottom)
    last = viewers.post("시민1", "가장 새 댓글")
    page.wait_for_selector(f"#m-{last}", timeout=MS)
    page.wait_for_function(at_bottom, timeout=MS)
    assert page.locator(f"#m-{last}").is_visible()
    page.evaluate("document.getElementById('mod-list').scrollTop = 0")
    page.wait_for_selector("#console[data-following='false']", timeout=MS)
    top = page.evaluate("document.getElementById('mod-list').scrollTop")
    for n in range(3):
        newest = viewers.post("시민2", f"멈춘 동안 온 댓글 {n}")
    page.wait_for_selector(f"#m-{newest}", state="attached", timeout=MS)
    page.wait_for_selector("#console[data-unseen='3']", timeout=MS)
    assert page.inner_text("#mod-new") == "새 댓글 3개 ↓"
    assert page.evaluate("document.getElementById('mod-list').scrollTop") == top
    page.click("#mod-new")
    page.wait_for_function(at_bottom, timeout=MS)
    assert page.is_hidden("#mod-new")
    assert page.errors == []
    page.context.close()


def test_keyboard_clears_a_spam_wave_measured(
    browser: Any, server: AppServer, viewers: Viewers, artifacts: Path
) -> None:
    """20 spam comments among 200, from 4 accounts, removed from the keyboard alone (filter,
    select all shown, remove): every spam gone, no other comment touched; the time and the
    keystrokes are printed and written to artifacts/staff-spam-wave.txt."""
    spam: set[int] = set()
    legit: set[int] = set()
    for n in range(200):
        if n % 10 == 3:
            spam.add(viewers.post(f"광고{n % 4}", f"무료코인 지금 받기 {n}번 링크 클릭"))
        else:
            legit.add(viewers.post(f"시민{n % 12}", f"오늘 방송 {n}번째 의견입니다"))
    page = logged_in(browser, server, "mod1", width=1440, height=900)
    open_console(page, server)
    page.focus("#mod-list")
    keys = ["/", *"무료코인", "Enter", "*", "r"]
    started = time.perf_counter()
    for key in keys:
        page.keyboard.press(key) if len(key) > 1 or key in "/*r" else page.keyboard.type(key)
    selector = ",".join(f"#m-{i}[data-status='removed']" for i in sorted(spam))
    count = "([sel, n]) => document.querySelectorAll(sel).length === n"
    page.wait_for_function(count, arg=[selector, len(spam)], timeout=MS)
    seconds = time.perf_counter() - started
    removed = set(
        map(
            int,
            page.eval_on_selector_all(
                "#mod-list li[data-status='removed']", "rows => rows.map(r => r.dataset.id)"
            ),
        )
    )
    assert removed == spam and not removed & legit
    assert page.is_visible("#mod-undo") and "20" in page.inner_text("#mod-undo-text")
    figures = (
        f"spam wave: {len(spam)} spam among {len(spam) + len(legit)} comments removed "
        f"with {len(keys)} keystrokes in {seconds:.2f} s "
        f"(filter '/', 4 characters, Enter, '*', 'r'); per spam "
        f"{len(keys) / len(spam):.2f} keystrokes, {seconds / len(spam) * 1000:.0f} ms"
    )
    print(figures)
    (artifacts / "staff-spam-wave.txt").write_text(figures + "\n", encoding="utf-8")
    page.keyboard.press("z")  # undo brings all twenty back
    page.wait_for_function(count, arg=[selector, 0], timeout=MS)
    assert page.errors == []
    page.context.close()


def test_ban_is_confirmed_undoable_and_actions_survive_a_reload(
    browser: Any, server: AppServer, viewers: Viewers
) -> None:
    """b asks first (Esc cancels, nothing happens); confirmed, the ban lists the user and
    z lifts it; d removes all by a user after confirming; after a reload "최근 조치"
    comes back from the audit log, in words, blocked-word changes (which word) included."""
    target = viewers.post("차단대상", "차단될 사람의 댓글")
    viewers.post("차단대상", "같은 사람의 두 번째 댓글")
    page = logged_in(browser, server, "mod1")
    open_console(page, server)
    row = page.locator(f"#m-{target}")
    row.focus()
    page.keyboard.press("b")
    page.wait_for_selector("#mod-confirm[open]", timeout=MS)
    assert "차단대상" in page.inner_text("#mod-confirm-title")
    page.keyboard.press("Escape")
    page.wait_for_selector("#mod-confirm", state="hidden", timeout=MS)
    assert page.locator("#mod-restrictions li").count() == 0
    row.focus()
    page.keyboard.press("b")
    page.wait_for_selector("#mod-confirm[open]", timeout=MS)
    page.keyboard.press("Enter")
    page.wait_for_selector("#mod-restrictions li", timeout=MS)
    assert "차단 · 이 방송" in page.inner_text("#mod-restrictions")
    page.wait_for_selector("#mod-undo:not([hidden])", timeout=MS)
    page.locator(f"#m-{target}").focus()
    page.keyboard.press("z")
    page.wait_for_selector("#mod-restrictions li", state="detached", timeout=MS)
    page.locator(f"#m-{target}").focus()
    page.keyboard.press("d")
    page.wait_for_selector("#mod-confirm[open]", timeout=MS)
    assert "2개" in page.inner_text("#mod-confirm-text")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#m-{target}[data-status='removed']", timeout=MS)
    page.fill("#mod-word", "코인사기")
    page.click("#mod-word-form button[type=submit]")
    page.locator("#mod-words li", has_text="코인사기").wait_for(timeout=MS)
    page.reload()
    page.wait_for_selector("#console[data-ready='true']", timeout=MS)
    log = page.inner_text("#mod-log")
    for words in ("사용자 댓글 모두 삭제", "제한 해제", "차단", "금칙어 추가: 코인사기"):
        assert words in log
    assert "remove_user" not in log and "unban" not in log
    assert page.errors == []
    page.context.close()


# ASCII words allowed on a Korean staff page: user data made by this test (usernames),
# the language switch, brand and format names, units, key names in the shortcut list, and
# the time zone the footer names (KST, UTC+9).
ALLOWED = {
    *STAFF,
    "English",
    "Facebook",
    "LINE",
    "KakaoTalk",
    "Twitter",
    "Redis",
    "MiB",
    "CSV",
    "JSON",
    "HLS",
    "Space",
    "Shift",
    "Esc",
    "End",
    "http",
    "https",
    "KST",
    "UTC",
}
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")


def test_no_english_code_on_any_staff_page(
    browser: Any, server: AppServer, viewers: Viewers
) -> None:
    """The rendered text of every staff page, in Korean, holds no English word or code
    (an allow-list of usernames, format and key names aside), the shortcut help open."""
    viewers.post(
        "시민",
        "질문이 있습니다",
    )
    pages = {
        "admin1": [
            "/moderate/1",
            "/moderate/audit",
            "/operator",
            "/operator/status",
            "/operator/shares",
            "/admin/accounts",
            "/broadcasts/1/questions",
        ],
        "off1": ["/broadcasts/1/questions", "/operator"],
    }
    found: dict[str, list[str]] = {}
    for user, paths in pages.items():
        page = logged_in(browser, server, user)
        for path in paths:
            page.goto(server.base + path)
            if path == "/moderate/1":
                page.wait_for_selector("#console[data-ready='true']", timeout=MS)
                page.click("#mod-keys-toggle")
            page.wait_for_load_state("networkidle")
            words = {w for w in WORD.findall(page.inner_text("body")) if w not in ALLOWED}
            if words:
                found[f"{user} {path}"] = sorted(words)
        page.context.close()
    page = new_page(browser)
    page.goto(f"{server.base}/moderate/1")
    words = {w for w in WORD.findall(page.inner_text("body")) if w not in ALLOWED}
    if words:
        found["login"] = sorted(words)
    page.context.close()
    assert found == {}
