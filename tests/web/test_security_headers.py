"""Content-Security-Policy sources and HSTS, in process (TestClient)."""

from __future__ import annotations

import dataclasses

import pytest
from starlette.testclient import TestClient

from web.app import create_app
from web.settings import Settings, SettingsError


def directives(header: str) -> dict[str, list[str]]:
    parts = (d.split() for d in header.split(";") if d.strip())
    return {p[0]: p[1:] for p in parts}


def test_csp_allows_only_the_site_and_configured_media_hosts(settings: Settings) -> None:
    """img/media/connect-src name the site, its socket origin and MEDIA_ORIGINS, no wildcard."""
    configured = dataclasses.replace(settings, media_origins=("https://cdn.example.org",))
    with TestClient(create_app(configured)) as client:
        csp = directives(client.get("/healthz").headers["content-security-policy"])
    assert csp["img-src"] == ["'self'", "data:", "https://cdn.example.org"]
    assert csp["media-src"] == ["'self'", "blob:", "https://cdn.example.org"]
    assert csp["connect-src"] == ["'self'", "ws://testserver", "https://cdn.example.org"]
    for name in ("img-src", "media-src", "connect-src"):
        assert not {"https:", "wss:", "ws:", "*"} & set(csp[name]), name


def test_hsts_only_when_the_public_url_is_https(settings: Settings) -> None:
    """An https PUBLIC_BASE_URL adds Strict-Transport-Security (and wss:// sockets); http none."""
    with TestClient(create_app(settings)) as client:
        assert "strict-transport-security" not in client.get("/healthz").headers
    secure = dataclasses.replace(settings, public_base_url="https://live.seoul.example")
    with TestClient(create_app(secure), base_url="https://live.seoul.example") as client:
        headers = client.get("/healthz").headers
    assert headers["strict-transport-security"].startswith("max-age=31536000")
    assert (
        "wss://live.seoul.example" in directives(headers["content-security-policy"])["connect-src"]
    )


def test_media_origins_must_be_origins() -> None:
    """MEDIA_ORIGINS refuses paths, wildcards and other schemes, naming the variable."""
    for bad in ("https://cdn.example.org/path", "*", "https:", "javascript:alert(1)"):
        with pytest.raises(SettingsError, match="MEDIA_ORIGINS"):
            Settings.from_env({"MEDIA_ORIGINS": bad})
    assert Settings.from_env(
        {"MEDIA_ORIGINS": "https://a.example, http://b.example:8080"}
    ).media_origins == ("https://a.example", "http://b.example:8080")
