"""The installable app's server side: manifest, icons, /sw.js, /offline, /now, base links."""

from __future__ import annotations

import dataclasses
import struct
from pathlib import Path

from starlette.testclient import TestClient

from tests.support import seed_broadcast
from web.app import create_app
from web.pwa.routes import worker_source
from web.settings import Settings

STATIC = Path(__file__).resolve().parents[2] / "web" / "static"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_manifest_names_icons_and_shortcuts(client: TestClient) -> None:
    """The manifest is served as application/manifest+json with what phones ask for, and
    every icon it names is served, a PNG of the size it claims, and small."""
    response = client.get("/manifest.webmanifest")
    assert response.headers["content-type"].startswith("application/manifest+json")
    data = response.json()
    assert (data["short_name"], data["display"], data["start_url"], data["scope"]) == (
        "라이브서울",
        "standalone",
        "/",
        "/",
    )
    assert {i["sizes"] for i in data["icons"]} == {"192x192", "512x512"}
    assert [i["purpose"] for i in data["icons"]].count("maskable") == 1
    assert [(s["name"], s["url"]) for s in data["shortcuts"]] == [
        ("지금 방송", "/now"),
        ("편성표", "/schedule"),
        ("다시보기", "/replays"),
    ]
    for icon in data["icons"]:
        assert client.get(icon["src"]).status_code == 200
        path = STATIC / icon["src"].split("?")[0].removeprefix("/static/")
        size = int(icon["sizes"].split("x")[0])
        assert png_size(path) == (size, size)
        assert path.stat().st_size < 8_000
    assert png_size(STATIC / "img/icons/apple-touch-icon.png") == (180, 180)


def test_every_page_links_the_manifest_and_the_app_script(client: TestClient) -> None:
    """base.html links the manifest, the Apple icon, the theme colours and pwa.js once."""
    for url in ("/", "/schedule", "/replays", "/offline", "/nope-404"):
        html = client.get(url, headers={"Accept": "text/html"}).text
        assert '<link rel="manifest" href="/manifest.webmanifest">' in html, url
        assert html.count('name="theme-color"') == 1 and 'data-dark="#1b1e25"' in html
        assert html.count("js/common/pwa.js?v=") == 1
        assert 'rel="apple-touch-icon"' in html


def test_worker_is_served_from_the_root_without_caching(client: TestClient) -> None:
    """/sw.js is JavaScript, revalidated every time, under the site's CSP, and precaches
    the hashed assets and the offline page."""
    response = client.get("/sw.js")
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "no-cache"
    assert "script-src 'self'" in response.headers["content-security-policy"]
    first = response.text.splitlines()[0]
    assert first.startswith("const BUILD = {") and '"/offline"' in first
    assert "/static/css/site.css?v=" in first and "/static/js/common/pwa.js?v=" in first
    assert "js/common/sw.js" not in first and "media/" not in first


def test_a_release_name_changes_the_worker() -> None:
    """PWA_RELEASE changes the worker's bytes (so browsers install a new one)."""
    assert worker_source("one") != worker_source("two")
    assert worker_source("one") == worker_source("one")


def test_offline_page_and_now_shortcut(settings: Settings) -> None:
    """/offline is a translated page; /now leads to the live broadcast, else home."""
    with TestClient(create_app(settings)) as client:
        assert client.get("/now", follow_redirects=False).headers["location"] == "/"
        en = client.get("/offline", headers={"Accept-Language": "en"}).text
        assert "You are offline" in en
    seed_broadcast(settings.database_path, 4)
    with TestClient(create_app(dataclasses.replace(settings))) as client:
        assert client.get("/now", follow_redirects=False).headers["location"] == "/live/4"
