"""The live page on a phone (390×844) and a desktop, in real Chromium against real uvicorn:
the layout that keeps the composer in view, the composer's states, the waiting room of a
planned broadcast, the player, the ⋯ menu, and the sizes people can tap and read."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.pagekit import expose_chat, live_broadcast, new_page
from tests.e2e.sitepages import PUBLIC, create_account, login, prepare, site_pages
from tests.support import NO_RATE_LIMITS, TIMEOUT, AppServer
from tests.web.pagekit import guest, post_comment
from web.database import migrate
from web.rendering.templating import name_hue

pytestmark = pytest.mark.e2e
MS = TIMEOUT * 1000
PHONE = {"width": 390, "height": 844}
DEMO_HLS = "/static/media/demo-replay/index.m3u8"


@pytest.fixture
def busy_server(tmp_path: Path) -> Iterator[AppServer]:
    """The demo channel with no rate limits (so a test can post 100 comments quickly)."""
    server = AppServer(tmp_path / "busy.db", env={"LIVE_SEOUL_DEMO": "1", **NO_RATE_LIMITS})
    server.start()
    try:
        yield server
    finally:
        server.stop()


def phone(browser: Any, server: AppServer, path: str, *, locale: str = "ko-KR") -> Any:
    page = new_page(browser, width=PHONE["width"], height=PHONE["height"], locale=locale)
    page.goto(server.base + path)
    page.wait_for_selector("#chat[data-connection=open]", timeout=MS)
    return page


def box(page: Any, selector: str) -> dict[str, float]:
    found: dict[str, float] = page.locator(selector).bounding_box()
    assert found is not None, f"{selector} is not rendered"
    return found


def post_many(
    server: AppServer, broadcast_id: int, texts: list[str], nickname: str = "여러말시민"
) -> None:
    with httpx.Client(base_url=server.base, timeout=TIMEOUT) as api:
        csrf = guest(api, nickname=nickname)
        for text in texts:
            post_comment(api, csrf, broadcast_id, text)


def test_phone_keeps_the_composer_in_the_first_screen_after_100_comments(
    browser: Any, busy_server: AppServer
) -> None:
    """100 comments before and 100 after opening: the list scrolls inside a bounded box and
    the composer stays within the first 844 px; scrolled up, "새 댓글" appears."""
    broadcast_id = live_broadcast(busy_server)
    post_many(busy_server, broadcast_id, [f"앞선 댓글 {n}" for n in range(100)])
    page = phone(browser, busy_server, f"/live/{broadcast_id}")
    post_many(busy_server, broadcast_id, [f"새로 온 댓글 {n}" for n in range(100)])
    page.wait_for_function(
        "() => document.body.textContent.includes('새로 온 댓글 99')", timeout=MS
    )
    composer, text = box(page, "#chat-form"), box(page, "#chat-text")
    assert composer["y"] + composer["height"] <= PHONE["height"]
    assert text["y"] >= 0 and page.locator("#chat-text").is_visible()
    chat_list = page.evaluate("""() => { const l = document.getElementById('chat-list');
        return {client: l.clientHeight, scroll: l.scrollHeight, top: l.scrollTop}; }""")
    assert 150 <= chat_list["client"] <= PHONE["height"] // 2
    assert chat_list["scroll"] > chat_list["client"] * 3  # the list scrolls, the page does not
    assert chat_list["top"] + chat_list["client"] >= chat_list["scroll"] - 60  # at the newest
    assert page.evaluate("document.documentElement.scrollTop") == 0
    # The player stays at the top of the screen.
    assert box(page, "#player")["y"] <= 120
    # Scrolled up to read, a new comment does not pull the list down: a "새 댓글" pill shows.
    page.evaluate("document.getElementById('chat-list').scrollTop = 0")
    post_many(busy_server, broadcast_id, ["읽는 동안 온 댓글"], nickname="다른시민")
    page.locator("#chat-jump").wait_for(state="visible", timeout=MS)
    assert "새 댓글" in page.locator("#chat-jump").inner_text()
    assert page.evaluate("document.getElementById('chat-list').scrollTop") < 50
    page.click("#chat-jump")
    page.locator("#chat-jump").wait_for(state="hidden", timeout=MS)
    assert page.errors == []
    page.context.close()
    # The desktop column too: the composer within 1440×900, the list scrolling inside.
    desktop = new_page(browser, width=1440, height=900)
    desktop.goto(f"{busy_server.base}/live/{broadcast_id}")
    desktop.wait_for_selector("#chat[data-connection=open]", timeout=MS)
    composer = box(desktop, "#chat-form")
    assert composer["y"] + composer["height"] <= 900
    assert desktop.evaluate(
        "(l => l.scrollHeight > l.clientHeight * 2)(document.getElementById('chat-list'))"
    )
    assert desktop.errors == []
    desktop.context.close()


def test_rows_are_one_line_with_stable_name_colours_and_own_comments_marked(
    browser: Any, demo_server: AppServer
) -> None:
    """A short comment is one line (name, badge, text) of ≥14 px text; names keep the colour
    the server chose; one's own comments are highlighted and carry no ⋯ button."""
    broadcast_id = live_broadcast(demo_server)
    post_many(demo_server, broadcast_id, ["짧은 댓글"], nickname="한줄시민")
    page = phone(browser, demo_server, f"/live/{broadcast_id}")
    row = page.locator("#chat-list .comment", has_text="짧은 댓글").last
    line_height = page.evaluate(
        "el => parseFloat(getComputedStyle(el).lineHeight)", row.element_handle()
    )
    assert row.bounding_box()["height"] <= line_height * 1.2 + 10
    sizes = page.eval_on_selector_all(
        "#chat-list .comment__text", "els => els.map(e => parseFloat(getComputedStyle(e).fontSize))"
    )
    assert sizes and min(sizes) >= 14
    # The same colour slot from the server's template and from livechat.js, for every name.
    hues = page.eval_on_selector_all(
        "#chat-list .comment__author",
        "els => els.map(e => [e.textContent, e.dataset.hue, getComputedStyle(e).color])",
    )
    for name, hue, _colour in hues:
        assert hue == str(name_hue(name)), name
    page.locator("#chat-nickname-open").click()
    page.fill("#nickname-input", "내댓글시민")
    page.click("#nickname-form button[type=submit]")
    # Signed in (the name shown, the dialog closed and the socket restarting in the same
    # task), then the new socket open: the old one was open too while the request ran, and
    # typing then went to the modal dialog, not the composer.
    page.wait_for_function(
        "() => document.getElementById('chat-who').textContent.includes('내댓글시민')",
        timeout=MS,
    )
    page.wait_for_selector("#chat[data-connection=open]", timeout=MS)
    page.fill("#chat-text", "제가 쓴 댓글")
    page.press("#chat-text", "Enter")
    mine = page.locator("#chat-list li[data-id]", has_text="제가 쓴 댓글")
    mine.wait_for(timeout=MS)
    page.wait_for_function(
        "() => !document.querySelector('#chat-list .comment--pending')", timeout=MS
    )
    assert "comment--mine" in (mine.get_attribute("class") or "")
    assert mine.locator(".comment__report").is_hidden()
    assert mine.locator(".comment__author").get_attribute("data-hue") == str(name_hue("내댓글시민"))
    other = page.locator("#chat-list li[data-id]", has_text="짧은 댓글").last
    assert "comment--mine" not in (other.get_attribute("class") or "")
    assert page.errors == []
    page.context.close()


def test_official_badge_keeps_the_row_together(browser: Any, demo_server: AppServer) -> None:
    """An official's badge (✓ + department) stays on the name's line, however long."""
    broadcast_id = live_broadcast(demo_server)
    page = phone(browser, demo_server, f"/live/{broadcast_id}")
    expose_chat(page)
    page.evaluate("""() => window.liveChat.handle({type: 'comments', items: [{id: 9000001,
        text: '답변드립니다', author: '김주무관', role: 'official',
        department: '도시교통실 대중교통정책과 버스정책팀',
        created_at: new Date().toISOString()}]})""")
    row = page.locator("#c-9000001")
    row.wait_for(timeout=MS)
    name = row.locator(".comment__author").bounding_box()
    badge = row.locator(".badge").bounding_box()
    assert abs(name["y"] - badge["y"]) < 8  # same line
    assert badge["width"] <= 200
    assert "서울시 공무원 인증" in row.locator(".badge").inner_text()  # said, if not all shown
    assert page.errors == []
    page.context.close()


def test_report_is_in_a_comment_menu(browser: Any, demo_server: AppServer) -> None:
    """Tapping a row shows its ⋯ (44 px); ⋯ opens a menu, Escape closes it and returns
    focus; 신고하기 opens the report dialog quoting the comment."""
    broadcast_id = live_broadcast(demo_server)
    post_many(demo_server, broadcast_id, ["신고해 볼 댓글"], nickname="남의시민")
    page = phone(browser, demo_server, f"/live/{broadcast_id}")
    row = page.locator("#chat-list li[data-id]", has_text="신고해 볼 댓글").last
    more = row.locator(".comment__report")
    assert page.evaluate("el => getComputedStyle(el).opacity", more.element_handle()) == "0"
    row.locator(".comment__text").click()
    assert "is-active" in (row.get_attribute("class") or "")
    size = more.bounding_box()
    assert size["width"] >= 44 and size["height"] >= 44
    more.click()
    page.wait_for_selector("#comment-menu:not([hidden])", timeout=MS)
    assert more.get_attribute("aria-expanded") == "true"
    assert page.evaluate("document.activeElement.id") == "comment-menu-report"
    page.keyboard.press("Escape")
    assert page.locator("#comment-menu").is_hidden()
    assert page.evaluate("document.activeElement.classList.contains('comment__report')")
    more.click()
    page.click("#comment-menu-report")
    page.wait_for_selector("#report-dialog[open]", timeout=MS)
    assert page.locator("#report-quote").inner_text() == "신고해 볼 댓글"
    assert page.errors == []
    page.context.close()


def test_composer_counts_down_a_wait_and_clears_its_line(browser: Any, tmp_path: Path) -> None:
    """Rate-limited by the real server: the wait counts down second by second, sending comes
    back by itself and the line clears; closing, reopening and ending each reset the line."""
    server = AppServer(
        tmp_path / "limits.db",
        env={"LIVE_SEOUL_DEMO": "1", "COMMENT_BURST": "1", "COMMENT_RATE_PER_MINUTE": "20"},
    )
    server.start()
    try:
        broadcast_id = live_broadcast(server)
        page = new_page(browser, **PHONE)
        page.context.request.post(f"{server.base}/api/session", data={"nickname": "세는시민"})
        page.goto(f"{server.base}/live/{broadcast_id}")
        page.wait_for_selector("#chat[data-connection=open]", timeout=MS)
        page.fill("#chat-text", "첫 번째")
        page.press("#chat-text", "Enter")
        page.wait_for_function(
            "() => !document.querySelector('#chat-list .comment--pending')", timeout=MS
        )
        page.fill("#chat-text", "두 번째")
        page.press("#chat-text", "Enter")
        status = page.locator("#chat-status")
        page.wait_for_function(
            "() => /\\d+초 후에/.test(document.getElementById('chat-status').textContent)",
            timeout=MS,
        )
        first = int(status.inner_text().split("초")[0].split()[-1])
        assert page.locator("#chat-send").is_disabled()
        assert page.input_value("#chat-text") == "두 번째"  # the text is kept
        assert page.get_attribute("#chat-form", "data-phase") == "cooldown"
        page.wait_for_function(
            "n => new RegExp(`(^| )${n}초 후에`)"
            ".test(document.getElementById('chat-status').textContent)",
            arg=first - 1,
            timeout=MS,
        )
        page.wait_for_function(
            "() => !document.getElementById('chat-send').disabled", timeout=MS + first * 1000
        )
        assert status.inner_text() == ""
        page.press("#chat-text", "Enter")
        page.wait_for_function(
            "() => [...document.querySelectorAll('#chat-list .comment__text')]"
            ".some(e => e.textContent === '두 번째')",
            timeout=MS,
        )

        # Another state clears the line: moderators close the chat, then reopen it.
        expose_chat(page)
        page.evaluate("() => window.liveChat.say('지난 안내')")
        page.evaluate("() => window.liveChat.handle({type: 'state', closed: true})")
        assert status.inner_text() == ""
        assert page.get_attribute("#chat-form", "data-state") == "closed"
        assert page.locator("#chat-closed").is_visible()
        assert page.locator("#chat-send").is_disabled()
        page.evaluate("() => window.liveChat.handle({type: 'state', closed: false})")
        assert page.get_attribute("#chat-form", "data-state") == "open"
        assert not page.locator("#chat-closed").is_visible()
        # A rate-limit answer on a closed chat is not shown: the closure is the news.
        page.evaluate("() => window.liveChat.handle({type: 'state', closed: true})")
        page.evaluate(
            "() => window.liveChat.handle({type: 'error', code: 'chat_closed',"
            " message: 'comments are closed for this broadcast'})"
        )
        assert status.inner_text() == "" and page.locator("#chat-closed").is_visible()
        page.evaluate("() => window.liveChat.handle({type: 'state', closed: false})")
        # The broadcast ends: the composer closes, the notice says so with the replay link.
        page.evaluate(
            "() => window.liveChat.handle({type: 'status', status: 'ended',"
            " replay_url: '/replays/3'})"
        )
        assert page.get_attribute("#chat-form", "data-phase") == "ended"
        assert page.locator("#chat-text").is_disabled()
        assert page.locator("#chat-ended a").get_attribute("href") == "/replays/3"
        assert page.errors == []
        page.context.close()
    finally:
        server.stop()


def test_held_comment_never_shows_the_servers_english(browser: Any, demo_server: AppServer) -> None:
    """The server's held notice ("… (held for review)") is replaced by the page's wording,
    in the page's language, and the line clears once the comment is approved."""
    broadcast_id = live_broadcast(demo_server)
    page = new_page(browser, **PHONE, locale="en-US")
    page.context.add_cookies([{"name": "lang", "value": "en", "url": demo_server.base}])
    page.goto(f"{demo_server.base}/live/{broadcast_id}")
    page.wait_for_selector("#chat[data-connection=open]", timeout=MS)
    expose_chat(page)
    page.evaluate("""() => { const chat = window.liveChat;
        chat.setMe({name: 'Held', role: 'viewer', department: ''});
        chat.connection.send = () => true; }""")
    page.fill("#chat-text", "needs a look")
    page.press("#chat-text", "Enter")
    client_id = page.evaluate("() => [...window.liveChat.outbox.keys()][0]")
    page.evaluate(
        "cid => window.liveChat.handle({type: 'ack', client_id: cid, id: 880001,"
        " status: 'held', notice: '검토 후 모두에게 보입니다. (held for review)'})",
        client_id,
    )
    line = page.locator("#chat-status").inner_text()
    assert line and "held for review" not in line and "검토" not in line
    page.evaluate(
        "cid => window.liveChat.handle({type: 'comments', items: [{id: 880001,"
        " text: 'needs a look', author: 'Held', role: 'viewer',"
        " created_at: new Date().toISOString(), client_id: cid}]})",
        client_id,
    )
    page.wait_for_function(
        "() => document.getElementById('chat-status').textContent === ''", timeout=MS
    )
    assert "held for review" not in page.locator("#chat").inner_text()
    assert page.errors == []
    page.context.close()


def add_planned_broadcast(db_path: Path, starts_in: timedelta) -> int:
    now = datetime.now(UTC)
    with sqlite3.connect(db_path) as con:
        cur = con.execute(
            "INSERT INTO broadcasts (title, description, category, starts_at, ends_at, status,"
            " stream_url, created_at, updated_at) VALUES (?, ?, '회의', ?, ?, 'planned', ?, ?, ?)",
            (
                "곧 시작할 설명회",
                "시작 전에 읽는 방송 소개",
                (now + starts_in).isoformat(),
                (now + starts_in + timedelta(hours=1)).isoformat(),
                DEMO_HLS,
                now.isoformat(),
                now.isoformat(),
            ),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid


@pytest.fixture
def plain_server(tmp_path: Path) -> Iterator[AppServer]:
    """A server with an empty schedule (no demo live to overlap with)."""
    db_path = tmp_path / "plain.db"
    migrate(db_path)
    server = AppServer(db_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_planned_broadcast_waits_then_opens_when_it_goes_live(
    browser: Any, plain_server: AppServer
) -> None:
    """A planned broadcast shows a waiting room (countdown, description, .ics reminder) and a
    closed chat; when an operator starts it, the page turns live without a reload."""
    demo_server = plain_server
    broadcast_id = add_planned_broadcast(demo_server.db_path, timedelta(minutes=5))
    page = phone(browser, demo_server, f"/live/{broadcast_id}")
    countdown = page.locator("#waiting-countdown")
    page.wait_for_function(
        "() => /^0?4:5\\d$|^05:00$/.test(document.getElementById('waiting-countdown').textContent)",
        timeout=MS,
    )
    before = countdown.inner_text()
    page.wait_for_function(
        "t => document.getElementById('waiting-countdown').textContent !== t",
        arg=before,
        timeout=MS,
    )
    assert page.locator(".live__description").inner_text() == "시작 전에 읽는 방송 소개"
    assert page.locator(".live__description").is_visible()
    reminder = page.locator("#waiting-room a[href$='.ics']")
    ics = httpx.get(demo_server.base + reminder.get_attribute("href"), timeout=TIMEOUT)
    assert ics.status_code == 200 and "BEGIN:VEVENT" in ics.text
    assert page.get_attribute("#chat-form", "data-phase") == "waiting"
    assert page.locator("#chat-waiting").is_visible()
    assert page.locator("#chat-text").is_disabled()
    assert page.locator("#player-pill").is_hidden()
    assert not page.evaluate("document.getElementById('live-video').controls")

    # A server that closes the chat outside the live window says so in `hello`: still waiting,
    # and going live opens it all the same.
    expose_chat(page)
    page.evaluate("() => window.liveChat.handle({type: 'hello', closed: true, viewers: 1})")
    assert page.get_attribute("#chat-form", "data-phase") == "waiting"
    create_account(demo_server, "opener", "opener-password-1", "operator")
    with httpx.Client(base_url=demo_server.base, timeout=TIMEOUT) as staff:
        login(staff, "opener", "opener-password-1")
        csrf = staff.get("/api/session").json()["csrf_token"]
        started = staff.post(f"/api/broadcasts/{broadcast_id}/live", headers={"X-CSRF-Token": csrf})
        assert started.status_code == 200, started.text
    page.locator("#waiting-room").wait_for(state="detached", timeout=MS)
    assert page.locator("#player-pill").is_visible()
    assert page.get_attribute("#chat-form", "data-phase") == "open"
    assert page.locator("#chat-text").is_enabled()
    assert not page.locator("#chat-waiting").is_visible()
    assert page.locator("#live-badge").inner_text() == "생방송"
    assert page.errors == []
    page.context.close()


def test_live_player_has_a_poster_a_live_pill_and_no_seek_bar(
    browser: Any, demo_server: AppServer
) -> None:
    """Live: a poster, the LIVE pill, our bar instead of the native one (no seek bar), and
    muted autoplay where the browser allows it; the sound button unmutes."""
    broadcast_id = live_broadcast(demo_server)
    with sqlite3.connect(demo_server.db_path) as con:
        con.execute("UPDATE broadcasts SET stream_url = ? WHERE id = ?", (DEMO_HLS, broadcast_id))
    page = phone(browser, demo_server, f"/live/{broadcast_id}")
    video = "document.getElementById('live-video')"
    assert page.evaluate(f"{video}.poster").startswith(demo_server.base + "/")
    assert page.locator("#player-pill").inner_text() == "LIVE"
    assert not page.evaluate(f"{video}.controls")
    assert page.locator("#player-controls").is_visible()
    assert page.evaluate(f"{video}.muted")
    page.wait_for_function(f"() => {video}.currentTime > 0.3", timeout=MS)  # autoplayed
    assert page.get_attribute("#player-play", "aria-pressed") == "true"
    page.click("#player-mute")
    assert not page.evaluate(f"{video}.muted")
    page.wait_for_function(
        "() => document.getElementById('player-mute').getAttribute('aria-pressed') === 'false'",
        timeout=MS,
    )
    assert page.errors == []
    page.context.close()


SMALL_CONTROLS = """() => {
    const picks = document.querySelectorAll(
      'a, button, textarea, select, input:not([type=checkbox]):not([type=radio]), label.check');
    const out = [];
    for (const el of picks) {
      const r = el.getBoundingClientRect();
      const shown = r.width > 0 && r.height > 0
        && getComputedStyle(el).visibility !== 'hidden'
        && !el.closest('[hidden], dialog:not([open]), .visually-hidden');
      // Links inside a sentence are exempt (WCAG 2.5.8 "inline"); every other control is not.
      const inline = el.tagName === 'A' && !el.classList.contains('btn')
        && getComputedStyle(el).display === 'inline';
      if (shown && !inline && r.height < 44) out.push(`${el.tagName}#${el.id} ${r.height}`);
    }
    return out; }"""


def test_skip_to_chat_link(browser: Any, demo_server: AppServer) -> None:
    """The second skip link ("댓글로 바로가기") moves the focus to the chat."""
    broadcast_id = live_broadcast(demo_server)
    page = phone(browser, demo_server, f"/live/{broadcast_id}")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#chat"
    assert page.evaluate("document.activeElement.textContent") == "댓글로 바로가기"
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.id === 'chat'", timeout=MS)
    assert page.errors == []
    page.context.close()


def test_every_control_on_every_public_page_is_44px_on_a_phone(
    browser: Any, demo_server: AppServer
) -> None:
    """At 390 px, in Korean and in English, no control on a public page is under 44 px high
    (links inside sentences excepted)."""
    broadcast_id = prepare(demo_server)
    pages, broken = site_pages(demo_server, broadcast_id)
    assert broken == {}
    public = [path for name, path in pages.items() if name in PUBLIC]
    assert len(public) >= 8
    page = new_page(browser, **PHONE)
    for locale in ("ko", "en"):
        page.context.add_cookies([{"name": "lang", "value": locale, "url": demo_server.base}])
        for path in [*public, "/no-such-page"]:
            page.goto(demo_server.base + path)
            if path.startswith("/live/"):
                page.wait_for_selector("#chat[data-connection=open]", timeout=MS)
            assert page.evaluate(SMALL_CONTROLS) == [], (locale, path)
    assert page.errors == []
    page.context.close()
