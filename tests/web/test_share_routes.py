"""Sharing over HTTP: /api/share, click counts, operator stats, oEmbed, /embed pages."""

from __future__ import annotations

import dataclasses
import json
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.responses import Response
from starlette.testclient import TestClient

from tests.support import seed_broadcast
from web.app import create_app
from web.database import migrate
from web.identity.sessions import COOKIE, Session, SessionCodec
from web.settings import Settings

ORIGIN = "http://testserver"
EVIL_TITLE = '</script><script>alert("x")</script> & 시민'


def seed_replay(
    db: Path, title: str, *, replay_id: int = 7, duration: int = 3600, status: str = "published"
) -> int:
    """One replay row (the replay package's table), as its store would have written it."""
    migrate(db)
    aired = datetime(2026, 11, 2, 1, tzinfo=UTC).isoformat()
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            "INSERT INTO replays (id, title, description, recording_url, duration_seconds,"
            " aired_at, recording_started_at, published_at, status, created_at, updated_at)"
            " VALUES (?, ?, '예산 이야기', '/static/media/r.mp4', ?, ?, ?, ?, ?, ?, ?)",
            (replay_id, title, duration, aired, aired, aired, status, aired, aired),
        )
    conn.close()
    return replay_id


def staff_cookie(settings: Settings, role: str) -> str:
    codec = SessionCodec(settings.secret_key, settings.session_max_age_days, secure=False)
    response = Response()
    codec.store(
        response,
        Session(
            sid="staff-sid",
            nickname="운영자",
            role=role,
            account_id=1 if role != "viewer" else None,
        ),
    )
    header = response.headers["set-cookie"]
    return header.split(";", 1)[0].split("=", 1)[1]


@pytest.fixture
def share_client(settings: Settings) -> Iterator[TestClient]:
    seed_broadcast(settings.database_path, 1, title="시민 토론회")
    seed_replay(settings.database_path, EVIL_TITLE)
    with TestClient(create_app(settings)) as c:
        yield c


def test_share_links_for_our_live_page(share_client: TestClient) -> None:
    """/api/share?url= gives five links, tagged with UTM, and the Kakao feed template."""
    r = share_client.get("/api/share", params={"url": f"{ORIGIN}/live/1?utm_source=x"})
    assert r.status_code == 200
    body = r.json()
    assert body["page"]["url"] == f"{ORIGIN}/live/1"
    assert [link["network"] for link in body["links"]] == [
        "x",
        "facebook",
        "line",
        "kakaotalk",
        "copy",
    ]
    facebook = body["links"][1]
    assert facebook["href"] == (
        "https://www.facebook.com/sharer/sharer.php?u=http%3A%2F%2Ftestserver%2Flive%2F1"
        "%3Futm_source%3Dfacebook%26utm_medium%3Dsocial%26utm_campaign%3Dlive-1"
    )
    assert body["kakao"]["objectType"] == "feed"
    assert body["kakao"]["content"]["imageUrl"].startswith(f"{ORIGIN}/static/og/live.png?v=")
    assert r.headers["cache-control"] == "no-store"


def test_share_links_by_kind_and_network(share_client: TestClient) -> None:
    """kind/id/t parameters name a page too; network= picks one link."""
    r = share_client.get(
        "/api/share", params={"kind": "replay", "id": "7", "t": "1m", "network": "line"}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["page"]["offset"] == 60 and body["page"]["url"] == f"{ORIGIN}/replays/7?t=60"
    assert [link["network"] for link in body["links"]] == ["line"]
    day = share_client.get("/api/share", params={"kind": "schedule", "date": "2026-11-25"})
    assert day.json()["page"]["url"] == f"{ORIGIN}/schedule?date=2026-11-25"
    slot = share_client.get(
        "/api/share", params={"url": "/schedule?date=2026-11-25#at-1400", "network": "copy"}
    ).json()
    assert slot["page"]["url"] == f"{ORIGIN}/schedule?date=2026-11-25"  # canonical
    assert slot["links"][0]["url"] == (
        f"{ORIGIN}/schedule?date=2026-11-25&utm_source=copy"
        "&utm_medium=social&utm_campaign=schedule-2026-11-25"
        "#at-1400"
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.com/live/1",
        "//evil.com/live/1",
        "javascript:alert(1)",
        "http://testserver@evil.com/live/1",
        "http://evil.com@testserver/live/1",
        "http://testserver.evil.com/live/1",
        "/\\evil.com",
        "http:\\\\evil.com/live/1",
        "https://testserver/live/1",
        "http://testserver/admin",
        "",
    ],
)
def test_share_refuses_anything_but_our_pages(share_client: TestClient, url: str) -> None:
    """Foreign URLs, tricks and unknown paths are 400 naming `url`, with no links at all."""
    r = share_client.get("/api/share", params={"url": url})
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["field"] == "url" and error["code"] == "not_shareable"
    assert "links" not in r.json()


def test_share_bad_parameters_and_unknown_pages(share_client: TestClient) -> None:
    """Bad network, kind or id: 400 naming the field; unknown or unpublished pages: 404."""
    bad = share_client.get("/api/share", params={"url": "/live/1", "network": "myspace"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "network"
    assert (
        share_client.get("/api/share", params={"kind": "tv", "id": "1"}).json()["error"]["field"]
        == "kind"
    )
    assert (
        share_client.get("/api/share", params={"kind": "live", "id": "-1"}).json()["error"]["field"]
        == "id"
    )
    assert share_client.get("/api/share", params={"url": "/live/999"}).status_code == 404
    assert share_client.get("/api/share", params={"url": "/replays/999"}).status_code == 404


def test_clicks_are_counted_per_network_and_shown_to_operators(
    share_client: TestClient, settings: Settings
) -> None:
    """POST /api/share/click counts; /api/share/stats and /operator/shares show the counts."""
    for network in ("x", "x", "kakaotalk"):
        r = share_client.post(
            "/api/share/click",
            json={"network": network, "url": f"{ORIGIN}/live/1?utm_source={network}"},
        )
        assert r.status_code == 204
    share_client.post("/api/share/click", json={"network": "copy", "url": "/replays/7?t=5"})
    assert share_client.get("/api/share/stats").status_code == 401
    share_client.cookies.set(COOKIE, staff_cookie(settings, "viewer"))
    assert share_client.get("/api/share/stats").status_code == 403
    assert (
        share_client.get("/operator/shares", headers={"accept": "text/html"}).status_code == 401
    )  # login form
    share_client.cookies.set(COOKIE, staff_cookie(settings, "moderator"))
    assert share_client.get("/api/share/stats").status_code == 403  # not the schedule desk
    share_client.cookies.set(COOKIE, staff_cookie(settings, "operator"))
    stats = share_client.get("/api/share/stats").json()
    assert stats["totals"] == {"x": 2, "facebook": 0, "line": 0, "kakaotalk": 1, "copy": 1}
    first, second = stats["pages"]
    assert (first["kind"], first["target"], first["total"]) == ("live", "1", 3)
    assert first["networks"]["x"] == 2 and first["url"] == f"{ORIGIN}/live/1"
    assert (second["kind"], second["target"], second["title"]) == ("replay", "7", EVIL_TITLE)
    page = share_client.get("/operator/shares")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "<td>2</td>" in page.text and "&lt;/script&gt;" in page.text


def test_click_refusals_write_nothing(share_client: TestClient, settings: Settings) -> None:
    """Cross-site, unknown network, foreign or unknown page: refused and not counted."""
    cases = [
        ({"network": "x", "url": "/live/1"}, {"origin": "https://evil.com"}, 403),
        ({"network": "myspace", "url": "/live/1"}, {}, 400),
        ({"network": "x", "url": "https://evil.com/live/1"}, {}, 400),
        ({"network": "x", "url": 5}, {}, 400),
        ({"network": "x", "url": "/live/404"}, {}, 404),
    ]
    for body, headers, status in cases:
        assert (
            share_client.post("/api/share/click", json=body, headers=headers).status_code == status
        )
    share_client.cookies.set(COOKIE, staff_cookie(settings, "admin"))
    assert share_client.get("/api/share/stats").json()["pages"] == []


def test_oembed_describes_the_embeddable_player(share_client: TestClient) -> None:
    """oEmbed JSON: a video whose iframe points at /embed/…, sized to maxwidth."""
    r = share_client.get("/oembed", params={"url": f"{ORIGIN}/replays/7?t=90", "maxwidth": "320"})
    assert r.status_code == 200
    body = r.json()
    assert body["type"] == "video" and body["version"] == "1.0"
    assert (body["width"], body["height"]) == (320, 180)
    assert body["html"].startswith(
        '<iframe src="http://testserver/embed/replays/7?t=90" width="320" height="180" '
    )
    assert "&lt;/script&gt;" in body["html"] and "</script>" not in body["html"]
    assert body["thumbnail_width"] == 1200 and body["provider_name"] == "라이브서울"


def test_oembed_refusals(share_client: TestClient) -> None:
    """xml is 501; a foreign URL or a page without a player is 404."""
    assert (
        share_client.get("/oembed", params={"url": "/live/1", "format": "xml"}).status_code == 501
    )
    assert share_client.get("/oembed", params={"url": "https://evil.com/live/1"}).status_code == 404
    assert share_client.get("/oembed", params={"url": "/schedule"}).status_code == 404
    assert (
        share_client.get("/oembed", params={"url": "/live/1", "maxwidth": "wide"}).status_code
        == 400
    )


def test_embed_pages_may_be_framed_other_pages_not(settings: Settings) -> None:
    """/embed/ answers with the configured frame-ancestors and no X-Frame-Options DENY."""
    seed_broadcast(settings.database_path, 1)
    custom = dataclasses.replace(settings, frame_ancestors="https://news.example.com")
    with TestClient(create_app(custom)) as c:
        embed = c.get("/embed/broadcasts/1")
        assert embed.status_code == 200
        assert (
            "frame-ancestors https://news.example.com" in embed.headers["content-security-policy"]
        )
        assert "x-frame-options" not in embed.headers
        page = c.get("/live/1")
        assert page.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert c.get("/embed/broadcasts/404", headers={"accept": "text/html"}).status_code == 404


def test_embed_replay_starts_at_t_and_carries_escaped_metadata(share_client: TestClient) -> None:
    """The replay embed starts at ?t=, and its JSON-LD escapes '<' so no script breaks out."""
    r = share_client.get("/embed/replays/7?t=1m30s")
    assert r.status_code == 200
    assert 'data-start="90"' in r.text and 'data-stream="/static/media/r.mp4"' in r.text
    assert '</script><script>alert("x")' not in r.text
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', r.text, re.S)
    assert len(blocks) == 1 and "\\u003c/script\\u003e" in blocks[0]
    assert json.loads(blocks[0])["name"] == EVIL_TITLE
    assert '<meta property="og:url" content="http://testserver/replays/7?t=90">' in r.text
    assert share_client.get("/embed/replays/7?t=5h").text.count('data-start="0"') == 1


def test_unpublished_replays_are_not_shareable(settings: Settings) -> None:
    """An unpublished replay has no share links, no oEmbed and no embed page."""
    seed_replay(settings.database_path, "비공개", status="unpublished")
    with TestClient(create_app(settings)) as c:
        assert c.get("/api/share", params={"url": "/replays/7"}).status_code == 404
        assert c.get("/oembed", params={"url": "/replays/7"}).status_code == 404
        assert c.get("/embed/replays/7", headers={"accept": "text/html"}).status_code == 404


def test_seoul_today_is_used_for_a_bare_schedule_link(share_client: TestClient) -> None:
    """/schedule without a date shares today's schedule in Seoul."""
    from web.rendering.i18n import SEOUL

    r = share_client.get("/api/share", params={"url": "/schedule"})
    today = datetime.now(SEOUL).date()
    assert r.json()["page"]["key"] in {today.isoformat(), (today - timedelta(days=1)).isoformat()}


def test_live_and_replay_pages_render_metadata_for_crawlers(share_client: TestClient) -> None:
    """A cookieless GET (as a crawler sends) gets the Open Graph tags, JSON-LD and share bar."""
    live = share_client.get("/live/1", headers={"user-agent": "facebookexternalhit/1.1"})
    assert live.status_code == 200 and "set-cookie" not in live.headers
    assert '<meta property="og:url" content="http://testserver/live/1">' in live.text
    assert '<meta property="og:image:width" content="1200">' in live.text
    assert '<meta name="twitter:card" content="summary_large_image">' in live.text
    assert '<script type="application/ld+json">' in live.text
    assert 'data-network="kakaotalk"' in live.text and "utm_campaign=live-1" in live.text
    replay = share_client.get("/replays/7?t=90&utm_source=x")
    assert replay.status_code == 200
    assert '<meta property="og:url" content="http://testserver/replays/7?t=90">' in replay.text
    assert '<link rel="canonical" href="http://testserver/replays/7?t=90">' in replay.text
    assert "utm_campaign=replay-7" in replay.text and "data-share" in replay.text


async def test_click_counting_is_rate_limited_per_address() -> None:
    """Without a shared broker, 30 clicks from one address pass at once, the 31st waits
    (a token every 2 s); another address is unaffected."""
    from livechat import MemoryBroker
    from web.share import routes as share_routes

    broker = MemoryBroker()
    assert [await share_routes.click_wait(broker, "10.0.0.1") for _ in range(30)] == [0.0] * 30
    assert 0 < await share_routes.click_wait(broker, "10.0.0.1") <= 2.0
    assert await share_routes.click_wait(broker, "10.0.0.2") == 0.0
