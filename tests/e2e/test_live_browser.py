"""The live page in real Chromium against real uvicorn processes."""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

import httpx
import pytest

from tests.e2e.pagekit import expose_chat, live_broadcast, new_page
from tests.support import TIMEOUT, AppServer
from tests.web.pagekit import guest, post_comment

pytestmark = pytest.mark.e2e
MS = TIMEOUT * 1000


def open_live(browser: Any, server: AppServer, broadcast_id: int, **kwargs: Any) -> Any:
    page = new_page(browser, **kwargs)
    page.goto(f"{server.base}/live/{broadcast_id}")
    page.wait_for_selector("#chat[data-connection=open]", timeout=MS)
    expose_chat(page)
    return page


def comment_texts(page: Any) -> list[str]:
    texts: list[str] = page.locator("#chat-list .comment__text").all_text_contents()
    return texts


def send(page: Any, text: str, *, question: bool = False) -> None:
    page.fill("#chat-text", text)
    if question:
        page.check("#chat-question")
    page.press("#chat-text", "Enter")


def test_comment_posted_on_one_page_appears_on_another(
    browser: Any, demo_server: AppServer
) -> None:
    """A viewer picks a nickname, posts (also as a question); a second viewer sees both."""
    broadcast_id = live_broadcast(demo_server)
    writer = open_live(browser, demo_server, broadcast_id)
    reader = open_live(browser, demo_server, broadcast_id)
    send(writer, "안녕하세요 <b>서울</b>")
    writer.wait_for_selector("#nickname-dialog[open]", timeout=MS)
    writer.fill("#nickname-input", "브라우저시민")
    writer.click("#nickname-form button[type=submit]")
    reader.wait_for_function(
        "() => [...document.querySelectorAll('#chat-list .comment__text')]"
        ".some(e => e.textContent === '안녕하세요 <b>서울</b>')",
        timeout=MS,
    )
    assert reader.locator("#chat-list b").count() == 0  # shown as text, never as markup
    send(writer, "지하철 연장 운행하나요?", question=True)
    question = reader.locator("#chat-list .comment", has_text="지하철 연장 운행하나요?")
    question.locator(".badge--question").wait_for(timeout=MS)
    assert "브라우저시민" in question.locator(".comment__author").inner_text()
    # The writer's own copy is confirmed (not left pending) and not duplicated.
    writer.wait_for_function(
        "() => !document.querySelector('#chat-list .comment--pending')", timeout=MS
    )
    assert comment_texts(writer).count("지하철 연장 운행하나요?") == 1
    reader.wait_for_function(
        "() => /\\d/.test(document.getElementById('viewer-count').textContent)", timeout=MS
    )
    assert writer.errors == [] and reader.errors == []
    writer.context.close()
    reader.context.close()


def test_rate_limit_is_explained_and_the_text_is_kept(browser: Any, demo_server: AppServer) -> None:
    """Posting faster than the burst shows the wait time and puts the text back."""
    broadcast_id = live_broadcast(demo_server)
    page = open_live(browser, demo_server, broadcast_id)
    page.locator("#chat-nickname-open").click()
    page.fill("#nickname-input", "빠른손")
    page.click("#nickname-form button[type=submit]")
    page.wait_for_selector("#chat[data-connection=open]", timeout=MS)
    page.wait_for_function(
        "() => document.getElementById('chat-who').textContent.includes('빠른손')", timeout=MS
    )
    for n in range(8):
        send(page, f"연속 댓글 {n}")
        page.wait_for_function(
            "() => !document.querySelector('#chat-list .comment--pending')"
            " || document.getElementById('chat-status').textContent",
            timeout=MS,
        )
        if page.locator("#chat-status").inner_text():
            break
    page.wait_for_function(
        "() => document.getElementById('chat-status').textContent.includes('초 후에')", timeout=MS
    )
    assert page.input_value("#chat-text").startswith("연속 댓글")
    assert page.locator("#chat-send").is_disabled()
    assert page.errors == []
    page.context.close()


def test_client_reconnects_after_restart_and_misses_nothing(
    browser: Any, demo_server: AppServer
) -> None:
    """Server restarts; a comment stored meanwhile and one after both arrive, once each."""
    broadcast_id = live_broadcast(demo_server)
    page = open_live(browser, demo_server, broadcast_id)
    with httpx.Client(base_url=demo_server.base, timeout=TIMEOUT) as api:
        csrf = guest(api, nickname="API시민")
        post_comment(api, csrf, broadcast_id, "재시작 전 댓글")
    page.wait_for_function("() => document.body.textContent.includes('재시작 전 댓글')", timeout=MS)

    demo_server.stop()
    page.wait_for_selector("#chat:not([data-connection=open])", timeout=MS)
    # Another process on the same database stores a comment while this one is down.
    other = AppServer(demo_server.db_path)
    other.start()
    try:
        with httpx.Client(base_url=other.base, timeout=TIMEOUT) as api:
            csrf = guest(api, nickname="다른서버")
            post_comment(api, csrf, broadcast_id, "끊긴 동안 쓴 댓글")
    finally:
        other.stop()
    demo_server.start()

    page.wait_for_selector("#chat[data-connection=open]", timeout=MS * 4)
    page.wait_for_function(
        "() => document.body.textContent.includes('끊긴 동안 쓴 댓글')", timeout=MS
    )
    with httpx.Client(base_url=demo_server.base, timeout=TIMEOUT) as api:
        csrf = guest(api, nickname="API시민")
        post_comment(api, csrf, broadcast_id, "다시 연결된 뒤 댓글")
    page.wait_for_function(
        "() => document.body.textContent.includes('다시 연결된 뒤 댓글')", timeout=MS
    )
    texts = comment_texts(page)
    for text in ("재시작 전 댓글", "끊긴 동안 쓴 댓글", "다시 연결된 뒤 댓글"):
        assert texts.count(text) == 1, texts
    ids = [
        int(i)
        for i in page.eval_on_selector_all(
            "#chat-list li[data-id]", "els => els.map(e => e.dataset.id)"
        )
    ]
    assert ids == sorted(set(ids))
    assert page.errors == []
    page.context.close()


def test_a_comment_whose_ack_was_lost_goes_again_marked_as_a_retry(
    browser: Any, demo_server: AppServer
) -> None:
    """The server stores a comment, but the connection drops before its ack reaches the
    page: the page sends it again after reconnecting, marked `retry: true` (the first send
    was not), and it shows once, confirmed; the database holds it once."""
    broadcast_id = live_broadcast(demo_server)
    text = "확인을 잃은 글"
    posts: list[dict[str, Any]] = []
    cut: list[bool] = []

    def route(ws: Any) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            if isinstance(message, str) and message.startswith('{"type":"post"'):
                posts.append(json.loads(message))
            server.send(message)

        def from_server(message: str | bytes) -> None:
            if not cut and isinstance(message, str) and message.startswith('{"type":"ack"'):
                cut.append(True)  # the first ack is lost with its connection
                ws.close(code=1012, reason="restart")
                server.close()
                return
            ws.send(message)

        ws.on_message(from_page)
        server.on_message(from_server)

    page = new_page(browser)
    page.route_web_socket(re.compile(r"/ws/broadcasts/"), route)
    page.goto(f"{demo_server.base}/live/{broadcast_id}")
    page.wait_for_selector("#chat[data-connection=open]", timeout=MS)
    expose_chat(page)
    send(page, text)
    page.wait_for_selector("#nickname-dialog[open]", timeout=MS)
    page.fill("#nickname-input", "다시보내기")
    page.click("#nickname-form button[type=submit]")
    # Confirmed: shown, not pending, and nothing left unacknowledged in the page's outbox.
    page.wait_for_function(
        """text => {
            const shown = [...document.querySelectorAll('#chat-list .comment')].find(
                e => e.querySelector('.comment__text')?.textContent === text);
            return shown && !shown.classList.contains('comment--pending')
                && window.liveChat.outbox.size === 0;
        }""",
        arg=text,
        timeout=MS * 4,
    )
    assert cut, ("no ack was cut", posts)
    assert [p["retry"] for p in posts if p["text"] == text] == [False, True], posts
    assert comment_texts(page).count(text) == 1
    with sqlite3.connect(demo_server.db_path) as db:
        stored = db.execute("SELECT COUNT(*) FROM comments WHERE text = ?", (text,)).fetchone()
    assert stored == (1,)
    assert page.errors == []
    page.context.close()


def test_language_switch_is_remembered(browser: Any, demo_server: AppServer) -> None:
    """한국어 → English → 日本語 with the switcher; the next visit stays in Japanese."""
    broadcast_id = live_broadcast(demo_server)
    page = new_page(browser)
    page.goto(f"{demo_server.base}/live/{broadcast_id}")
    assert page.get_attribute("html", "lang") == "ko"
    assert page.locator("#chat-title").inner_text() == "실시간 댓글"
    page.click(".lang-switch a[lang=en]")
    page.wait_for_selector("html[lang=en]", timeout=MS)
    assert page.url.endswith(f"/live/{broadcast_id}")
    assert page.locator("#chat-title").inner_text() == "Live comments"
    page.click(".lang-switch a[lang=ja]")
    page.wait_for_selector("html[lang=ja]", timeout=MS)
    fresh = page.context.new_page()
    fresh.goto(f"{demo_server.base}/live/{broadcast_id}")
    assert fresh.get_attribute("html", "lang") == "ja"
    assert fresh.locator("#chat-title").inner_text() == "リアルタイムコメント"
    assert fresh.locator(".lang-switch a[aria-current=true]").inner_text() == "日本語"
    page.context.close()


FAST_CHAT = """async ([start, count, perFrame]) => {
  const chat = window.liveChat;
  const t0 = performance.now();
  for (let i = 0; i < count; i += perFrame) {
    const items = [];
    for (let j = i; j < Math.min(count, i + perFrame); j++) {
      items.push({id: start + j, text: '댓글 ' + (start + j), author: '시민' + (j % 7),
                  role: j % 50 === 0 ? 'official' : 'viewer', department: '홍보과',
                  created_at: new Date().toISOString(), client_id: 'x' + j});
    }
    chat.handle({type: 'comments', items});
    chat.handle({type: 'comments', items: items.slice(0, 3)});  // duplicates, ignored
    await new Promise(requestAnimationFrame);
  }
  await new Promise(requestAnimationFrame);
  return performance.now() - t0;
}"""


def test_fast_chat_stays_bounded_deduplicated_and_quiet(
    browser: Any, demo_server: AppServer
) -> None:
    """1,000 comments in bursts: ≤200 nodes, no duplicates, deletions apply, one summary."""
    broadcast_id = live_broadcast(demo_server)
    page = open_live(browser, demo_server, broadcast_id)
    start = 10_000_000
    elapsed = page.evaluate(FAST_CHAT, [start, 1000, 50])
    ids = [
        int(i)
        for i in page.eval_on_selector_all(
            "#chat-list li[data-id]", "els => els.map(e => e.dataset.id)"
        )
    ]
    assert len(ids) <= 200
    assert ids == sorted(set(ids)) and ids[-1] == start + 999
    assert (
        page.locator("#chat-list .comment--official .badge--official")
        .first.inner_text()
        .endswith("홍보과")
    )
    page.evaluate("ids => window.liveChat.handle({type: 'deleted', ids})", [start + 999])
    assert page.locator(f"#c-{start + 999}").count() == 0
    page.wait_for_function(
        "() => document.getElementById('chat-announcer').textContent.trim() !== ''", timeout=MS
    )
    summary = page.locator("#chat-announcer").inner_text().strip()
    assert summary.startswith("새 댓글 ") and summary.endswith("개")
    print(f"rendered 1000 comments in 20 frames: {elapsed:.0f} ms; announcement: {summary!r}")
    assert page.errors == []
    page.context.close()


def test_held_state_and_notice_frames_drive_the_page(browser: Any, demo_server: AppServer) -> None:
    """Held posts stay pending until approved; state and status frames update the page."""
    broadcast_id = live_broadcast(demo_server)
    page = open_live(browser, demo_server, broadcast_id)
    page.evaluate("""() => {
        const chat = window.liveChat;
        chat.setMe({name: '보류시민', role: 'viewer', department: ''});
        chat.connection.send = () => true;  // the server's answers are played below
    }""")
    send(page, "검토가 필요한 댓글")
    client_id = page.evaluate("() => [...window.liveChat.outbox.keys()][0]")
    page.evaluate(
        "cid => window.liveChat.handle({type: 'ack', client_id: cid, id: 777777, status: 'held'})",
        client_id,
    )
    held = page.locator("#c-777777")
    assert "comment--held" in (held.get_attribute("class") or "")
    assert "검토 후 모두에게 보입니다" in held.inner_text()
    page.evaluate(
        "cid => window.liveChat.handle({type: 'comments', items: [{id: 777777,"
        " text: '검토가 필요한 댓글', author: '보류시민', role: 'viewer',"
        " created_at: new Date().toISOString(), client_id: cid}]})",
        client_id,
    )
    page.wait_for_function(
        "() => !document.querySelector('#c-777777').classList.contains('comment--held')", timeout=MS
    )
    assert comment_texts(page).count("검토가 필요한 댓글") == 1

    page.evaluate("""() => window.liveChat.handle({type: 'state', slow_mode: 30, closed: true,
        pinned: {id: 5, text: '공지: 질문은 질문으로 보내기를 눌러 주세요', author: '운영팀',
                 role: 'moderator', created_at: new Date().toISOString(), client_id: 'p'}})""")
    assert "30초" in page.locator("#chat-slow").inner_text()
    assert page.locator("#chat-closed").is_visible()
    assert page.locator("#chat-send").is_disabled() and page.locator("#chat-text").is_disabled()
    assert "공지" in page.locator("#chat-pinned").inner_text()
    assert page.locator("#chat-pinned .badge--staff").count() == 1
    page.evaluate(
        "() => window.liveChat.handle({type: 'state', slow_mode: 0, closed: false, pinned: null})"
    )
    assert not page.locator("#chat-slow").is_visible()
    assert not page.locator("#chat-pinned").is_visible()
    assert page.locator("#chat-send").is_enabled()
    page.evaluate(
        "() => window.liveChat.handle({type: 'status', status: 'ended',"
        " broadcast_id: 1, replay_id: 9, replay_url: '/replays/9'})"
    )
    assert page.locator("#live-badge").inner_text() == "방송 종료"
    assert page.locator("#chat-ended a").get_attribute("href") == "/replays/9"
    page.evaluate(
        "() => window.liveChat.handle({type: 'status', status: 'ended',"
        " replay_url: '//evil.example/'})"
    )
    assert page.locator("#chat-ended a").count() == 0  # only links to our own pages
    assert page.errors == []
    page.context.close()


DEMO_HLS = "/static/media/demo-replay/index.m3u8"


@pytest.mark.parametrize("native", [True, False], ids=["native-hls", "hls.js"])
def test_player_plays_hls_natively_or_with_hlsjs(
    browser: Any, demo_server: AppServer, native: bool
) -> None:
    """The live <video> plays an HLS stream: natively if the browser can, else via hls.js."""
    broadcast_id = live_broadcast(demo_server)
    with sqlite3.connect(demo_server.db_path) as con:
        con.execute("UPDATE broadcasts SET stream_url = ? WHERE id = ?", (DEMO_HLS, broadcast_id))
    page = new_page(browser)
    if not native:
        page.add_init_script("HTMLMediaElement.prototype.canPlayType = () => '';")
    page.goto(f"{demo_server.base}/live/{broadcast_id}")
    page.evaluate(
        "() => { const v = document.getElementById('live-video'); v.muted = true;"
        " v.play().catch(() => {}); }"
    )
    page.wait_for_function(
        "() => document.getElementById('live-video').currentTime > 0.3", timeout=MS
    )
    source = page.evaluate("document.getElementById('live-video').currentSrc")
    assert source.startswith("blob:") != native
    assert (page.evaluate("typeof window.Hls") == "function") != native
    assert page.errors == []
    page.context.close()


def test_live_page_renders_without_javascript(browser: Any, demo_server: AppServer) -> None:
    """With scripts off, the page still shows the broadcast, the comments and why to enable JS."""
    broadcast_id = live_broadcast(demo_server)
    with httpx.Client(base_url=demo_server.base, timeout=TIMEOUT) as api:
        csrf = guest(api, nickname="무스크립트")
        post_comment(api, csrf, broadcast_id, "스크립트 없이도 보이는 댓글")
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 800})
    page = context.new_page()
    page.goto(f"{demo_server.base}/live/{broadcast_id}")
    assert page.locator("#live-title").inner_text()
    assert "스크립트 없이도 보이는 댓글" in comment_texts(page)
    assert page.locator("noscript").count() == 1
    context.close()
