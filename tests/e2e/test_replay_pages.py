"""The replay page in real Chromium against a real uvicorn process: comments in sync."""

from __future__ import annotations

import asyncio
import concurrent.futures
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from livechat import Identity, NewComment
from replay import Caption
from tests.replay.kit import add_broadcast, stores
from tests.support import TIMEOUT, AppServer

pytestmark = pytest.mark.e2e
MS = TIMEOUT * 1000
MEDIA = "/static/media/demo-replay/index.m3u8"  # 180 s of real H.264 HLS, committed
CAPTIONS = Caption("ko", "한국어", "/static/media/demo-replay/captions.ko.vtt")
NO_NATIVE_HLS = "HTMLMediaElement.prototype.canPlayType = function () { return ''; };"


async def seed(path: Path) -> int:
    """A 3-minute replay whose broadcast had comments at 0:10, 1:02, 1:05 and 2:30, plus
    one written later on the replay at 1:08 and one removed at 1:03."""
    async with stores(path) as s:
        broadcast = add_broadcast(path, "교통정책 시민 토론회", minutes=3)
        replay = await s.replays.create_from_broadcast(
            broadcast,
            recording_url=MEDIA,
            duration_seconds=180,
            chapters=[(0, "인사"), (60, "질의")],
            captions=[CAPTIONS],
        )
        viewer = Identity("g:viewer", "시민")
        member = Identity("m:7", "카카오시민", mark="kakao")  # signed in with Kakao
        for i, (second, text) in enumerate(
            [
                (10, "시작했어요"),
                (62, "일분 이초 댓글"),
                (65, "일분 오초 댓글"),
                (150, "이분 반 댓글"),
            ]
        ):
            await s.comments.insert(
                NewComment(
                    broadcast.id,
                    member if second == 62 else viewer,
                    f"live{i}",
                    text,
                    created_at=(broadcast.starts_at + timedelta(seconds=second)).isoformat(
                        timespec="microseconds"
                    ),
                )
            )
        removed, _ = await s.comments.insert(
            NewComment(
                broadcast.id,
                viewer,
                "gone",
                "지워진 댓글",
                created_at=(broadcast.starts_at + timedelta(seconds=63)).isoformat(
                    timespec="microseconds"
                ),
            )
        )
        await s.comments.set_status([removed.id], "removed")
        await s.comments.insert(
            NewComment(broadcast.id, viewer, "later", "다시보기에서 쓴 댓글", video_offset=68.0)
        )
        return replay.id


@pytest.fixture
def replay_server(tmp_path: Path) -> Any:
    db = tmp_path / "replay-e2e.db"
    # Playwright's sync API owns this thread's event loop: seed from another thread.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        replay_id = pool.submit(asyncio.run, seed(db)).result(TIMEOUT)
    server = AppServer(db)
    server.start()
    try:
        yield server, replay_id
    finally:
        server.stop()


def texts(page: Any) -> list[str]:
    found: list[str] = page.locator("#replay-comments .replay-comment__text").all_text_contents()
    return found


@pytest.mark.parametrize("player", ["native", "hls.js"])
def test_deep_link_to_a_minute_shows_that_minutes_comments(
    browser: Any, replay_server: tuple[AppServer, int], player: str
) -> None:
    """Opening /replays/{id}?t=1m7s starts the player at 67 s and lists the comments written
    up to that moment of the broadcast (not later ones, never removed ones); playing on
    brings the replay comment at 68 s; seeking back to 0:20 redraws the list; the captions
    button shows the Korean track; a signed-in member's comment carries its provider mark.
    Both with the browser's own HLS and with hls.js."""
    server, replay_id = replay_server
    context = browser.new_context(locale="ko-KR")
    if player == "hls.js":
        context.add_init_script(NO_NATIVE_HLS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server.base}/replays/{replay_id}?t=1m7s")
    page.wait_for_function(
        "() => document.getElementById('replay-video').currentTime >= 66", timeout=MS
    )
    page.wait_for_function(
        "() => document.querySelectorAll('#replay-comments .replay-comment').length >= 3",
        timeout=MS,
    )
    assert texts(page) == ["시작했어요", "일분 이초 댓글", "일분 오초 댓글"]
    marks = page.locator("#replay-comments .mark")  # the member's Kakao mark, only theirs
    assert marks.count() == 1 and marks.first.get_attribute("alt") == "Kakao"
    page.evaluate(
        "() => { const v = document.getElementById('replay-video');"
        " v.muted = true; return v.play(); }"
    )
    page.wait_for_function(
        "() => [...document.querySelectorAll('#replay-comments .replay-comment__text')]"
        ".some(e => e.textContent === '다시보기에서 쓴 댓글')",
        timeout=MS,
    )
    assert "이분 반 댓글" not in texts(page)
    assert "지워진 댓글" not in texts(page)
    page.evaluate(
        "() => { const v = document.getElementById('replay-video'); v.pause();"
        " v.currentTime = 20; }"
    )
    page.wait_for_function(
        "() => document.querySelectorAll('#replay-comments .replay-comment').length === 1",
        timeout=MS,
    )
    assert texts(page) == ["시작했어요"]
    page.click("#replay-captions")
    assert page.get_attribute("#replay-captions", "aria-pressed") == "true"
    assert (
        page.evaluate("() => document.getElementById('replay-video').textTracks[0].mode")
        == "showing"
    )
    if player == "hls.js":
        assert page.evaluate("() => document.getElementById('replay-video').src").startswith(
            "blob:"
        )
    assert errors == []
    context.close()
