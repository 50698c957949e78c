"""The server and the comment box count a comment's length the same way: the server with
the `regex` module's `\\X` (livechat/text.py), the live page with `Intl.Segmenter` in real
Chromium. Same tricky strings on both sides, and the same verdict at the limit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from livechat.text import clean_text, grapheme_count
from tests.e2e.pagekit import live_broadcast, new_page
from tests.support import NO_RATE_LIMITS, TIMEOUT, AppServer
from tests.web.pagekit import guest

pytestmark = pytest.mark.e2e
MS = TIMEOUT * 1000
MAX = 40  # COMMENT_MAX_CHARS for this server: short strings, same rules as 300

TRICKY = [
    "\u1100\u1161\u11a8",  # conjoining jamo L V T: one syllable block
    "\u1100\u1100\u1100\u1161",  # a run of leading jamo and a vowel
    "\u1112\u1161\u11ab\u1100\u1173\u11af",  # 한글, decomposed
    "\ud55c\u11a8",  # a precomposed LV syllable and a trailing jamo
    "👨\u200d👩\u200d👧\u200d👦",  # family (ZWJ sequence)
    "🧑\u200d🤝\u200d🧑",  # people holding hands
    "🏳\ufe0f\u200d🌈",  # rainbow flag
    "🇰🇷🇯🇵🇺",  # two flags and a lone regional indicator
    "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",  # England (tag sequence)
    "👍🏽👍🏿🏻",  # skin tones, one stray
    "e\u0301a\u0308\u0304",  # combining marks
    "\u0915\u094d\u0937\u093f",  # Devanagari क्षि
    "1\ufe0f\u20e3#\ufe0f\u20e3",  # keycaps
    "a\u200db\u200cc",  # joiners between letters
    "❤\ufe0f🔥 ok",
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[AppServer]:
    """The demo channel with a short comment limit and no rate limits."""
    server = AppServer(
        tmp_path / "graphemes.db",
        env={"LIVE_SEOUL_DEMO": "1", "COMMENT_MAX_CHARS": str(MAX), **NO_RATE_LIMITS},
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def browser_count(page: Any, text: str) -> tuple[int, bool]:
    """What the live page's counter shows for `text` typed into the comment box: (count,
    whether it is marked over the limit)."""
    result: tuple[int, bool] = tuple(
        page.evaluate(
            """(text) => {
            const box = document.getElementById('chat-text');
            box.value = text;
            box.dispatchEvent(new Event('input', {bubbles: true}));
            const counter = document.getElementById('chat-count');
            return [parseInt(counter.textContent, 10), counter.classList.contains('is-over')];
        }""",
            text,
        )
    )
    return result


def test_server_and_browser_count_the_same_and_agree_at_the_limit(
    browser: Any, server: AppServer
) -> None:
    """Every tricky string has the same length on both sides, and padded to the limit it is
    accepted by both, one more and it is refused by both."""
    broadcast_id = live_broadcast(server)
    page = new_page(browser)
    page.goto(f"{server.base}/live/{broadcast_id}")
    page.wait_for_selector("#chat[data-connection=open]", timeout=MS)
    with httpx.Client(base_url=server.base, timeout=TIMEOUT) as api:
        csrf = guest(api, nickname="글자세기")
        for n, text in enumerate(TRICKY):
            # cleaning (NFC) may compose jamo, never change what a person sees
            assert grapheme_count(clean_text(text)) == grapheme_count(text), text
            count, over = browser_count(page, text)
            assert (count, over) == (grapheme_count(text), False), text
            for extra, accepted in ((0, True), (1, False)):
                padded = text + "가" * (MAX - count + extra)
                shown, over = browser_count(page, padded)
                assert (shown, over) == (MAX + extra, not accepted), padded
                response = api.post(
                    f"/api/broadcasts/{broadcast_id}/comments",
                    json={"text": padded, "client_id": f"g{n}-{extra}"},
                    headers={"X-CSRF-Token": csrf},
                )
                if accepted:
                    assert response.status_code in (200, 201), (text, response.text)
                else:
                    assert response.status_code == 400, (text, response.text)
                    assert response.json()["error"]["code"] == "too_long"
    assert page.errors == []
