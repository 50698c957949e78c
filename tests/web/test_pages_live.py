"""The live page, the language switch and static caching, in process (TestClient)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tests.web.pagekit import add_live_broadcast, guest, post_comment
from web.live.pages import local_path
from web.settings import Settings

HTML = {"accept": "text/html"}


def test_live_page_renders_comments_before_any_script(
    client: TestClient, settings: Settings
) -> None:
    """Recent comments are in the HTML, escaped, oldest first; the socket resumes after them."""
    broadcast_id = add_live_broadcast(settings.database_path)
    csrf = guest(client)
    first = post_comment(client, csrf, broadcast_id, "안녕하세요")
    second = post_comment(client, csrf, broadcast_id, "<img src=x onerror=alert(1)>")
    page = client.get(f"/live/{broadcast_id}", headers=HTML)
    assert page.status_code == 200
    html = page.text
    assert html.index("안녕하세요") < html.index("&lt;img src=x onerror=alert(1)&gt;")
    assert "<img src=x" not in html
    assert f'data-last-id="{second["id"]}"' in html
    assert f'id="c-{first["id"]}"' in html
    assert 'data-nickname="시민"' in html


def test_live_page_has_player_composer_and_question_toggle(
    client: TestClient, settings: Settings
) -> None:
    """The page carries the video, the comment form with its question checkbox and dialog."""
    broadcast_id = add_live_broadcast(settings.database_path)
    html = client.get(f"/live/{broadcast_id}", headers=HTML).text
    assert '<video id="live-video"' in html
    assert 'id="chat-question"' in html and "질문으로 보내기" in html
    assert '<dialog class="dialog" id="nickname-dialog"' in html
    assert 'aria-live="polite"' in html
    assert re.search(
        r'<script type="module" src="/static/js/live/livechat\.js\?v=[0-9a-f]{12}"', html
    )


def test_live_page_allows_nothing_inline(client: TestClient, settings: Settings) -> None:
    """No inline script bodies (only JSON data), no style attributes, no on* handlers."""
    broadcast_id = add_live_broadcast(settings.database_path)
    response = client.get(f"/live/{broadcast_id}", headers=HTML)
    html = response.text
    for match in re.finditer(r"<script([^>]*)>(.*?)</script>", html, re.S):
        attrs, body = match.groups()
        data = 'type="application/json"' in attrs or 'type="application/ld+json"' in attrs
        assert "src=" in attrs or data, attrs
        assert "src=" not in attrs or not body.strip()
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]


def test_unknown_broadcast_is_a_404_page(client: TestClient) -> None:
    """A live page for a broadcast that does not exist answers 404 with an HTML page."""
    response = client.get("/live/999999", headers=HTML)
    assert response.status_code == 404
    assert "방송을 찾을 수 없습니다." in response.text


def test_page_language_follows_accept_language_then_cookie(
    client: TestClient, settings: Settings
) -> None:
    """Accept-Language picks the language until the switcher sets the `lang` cookie."""
    broadcast_id = add_live_broadcast(settings.database_path)
    page = client.get(f"/live/{broadcast_id}", headers={**HTML, "accept-language": "en-US,en"})
    assert '<html lang="en">' in page.text and "Live comments" in page.text
    switch = client.get(f"/lang?to=ja&next=/live/{broadcast_id}", follow_redirects=False)
    assert switch.status_code == 303
    assert switch.headers["location"] == f"/live/{broadcast_id}"
    assert "lang=ja" in switch.headers["set-cookie"]
    page = client.get(f"/live/{broadcast_id}", headers={**HTML, "accept-language": "en-US,en"})
    assert '<html lang="ja">' in page.text and "リアルタイムコメント" in page.text


def test_language_links_point_back_to_the_current_page(
    client: TestClient, settings: Settings
) -> None:
    """Each switcher link returns to the page (with its query) and marks the current one."""
    broadcast_id = add_live_broadcast(settings.database_path)
    html = client.get(f"/live/{broadcast_id}?t=5", headers=HTML).text
    assert f'href="/lang?to=en&amp;next=/live/{broadcast_id}%3Ft%3D5"' in html
    assert re.search(r'lang="ko"[^>]*aria-current="true"', html)


def test_language_switch_ignores_unknown_locales_and_foreign_targets(client: TestClient) -> None:
    """`to` outside ko/en/ja sets no cookie; `next` off this site goes home instead."""
    for target in ("https://evil.example/", "//evil.example", "/\\evil.example", "javascript:x"):
        response = client.get("/lang", params={"to": "xx", "next": target}, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/"
        assert "set-cookie" not in response.headers


@given(st.text(max_size=40))
def test_local_path_never_leaves_the_site(candidate: str) -> None:
    """Whatever `next` holds, the redirect target is a path on this origin."""
    target = local_path(candidate)
    assert target.startswith("/")
    assert not target.startswith("//") and "\\" not in target
    assert target == candidate or target == "/"


def test_hashed_static_files_are_immutable(client: TestClient) -> None:
    """`?v=<current hash>` is cached a year; a stale or missing `v` must revalidate."""
    page = client.get("/lang", follow_redirects=True, headers=HTML)
    url = re.search(r'href="(/static/css/site\.css\?v=[0-9a-f]+)"', page.text)
    assert url is not None
    fresh = client.get(url.group(1))
    assert fresh.status_code == 200
    assert fresh.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert client.get("/static/css/site.css?v=000000000000").headers["cache-control"] == "no-cache"
    assert client.get("/static/css/site.css").headers["cache-control"] == "no-cache"
    assert client.get("/static/css/nothing.css?v=1").status_code == 404


def test_every_page_response_has_security_headers(client: TestClient, settings: Settings) -> None:
    """The live page answers with CSP, nosniff, a referrer policy and no framing."""
    broadcast_id = add_live_broadcast(settings.database_path)
    headers = client.get(f"/live/{broadcast_id}", headers=HTML).headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert headers["x-frame-options"] == "DENY"
