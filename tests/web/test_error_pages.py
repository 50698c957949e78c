"""Error pages in the citizen's language: 404 and 500, the code shown, no framework English."""

from __future__ import annotations

import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.testclient import TestClient

from web.app import create_app
from web.pages.errors import error_detail
from web.rendering.i18n import translate
from web.settings import Settings

HTML = {"accept": "text/html"}
TITLES = {"ko": "페이지를 찾을 수 없습니다", "en": "Page not found", "ja": "ページが見つかりません"}
CODE_LABEL = {"ko": "오류 코드", "en": "Error code", "ja": "エラーコード"}


@pytest.mark.parametrize("locale", ["ko", "en", "ja"])
def test_unknown_page_is_a_404_in_the_readers_language(client: TestClient, locale: str) -> None:
    """An unknown address answers 404 with a localized title, the code and ways back."""
    client.cookies.set("lang", locale)
    response = client.get("/no/such/page", headers=HTML)
    assert response.status_code == 404
    html = response.text
    assert f"<h1>{TITLES[locale]}</h1>" in html
    assert f"{CODE_LABEL[locale]} 404" in html
    assert "Not Found" not in html  # Starlette's own wording never reaches the page
    assert 'href="/questions"' in html and 'href="/"' in html
    assert f'<html lang="{locale}">' in html


def test_missing_broadcast_says_so_in_english(client: TestClient) -> None:
    """A missing broadcast's page gives the translated reason under the title."""
    client.cookies.set("lang", "en")
    response = client.get("/live/987654", headers=HTML)
    assert response.status_code == 404
    assert translate("en", "방송을 찾을 수 없습니다.") in response.text
    assert "방송을 찾을 수 없습니다." not in response.text


def test_developer_english_is_not_shown_to_citizens() -> None:
    """Korean sources are translated; English developer details are dropped."""
    assert error_detail("ko", "no such broadcast") == ""
    assert error_detail("ja", "Not Found") == ""
    assert error_detail("ko", "방송을 찾을 수 없습니다.") == "방송을 찾을 수 없습니다."
    assert error_detail("en", "방송을 찾을 수 없습니다.") == translate(
        "en", "방송을 찾을 수 없습니다."
    )


async def _boom(request: Request) -> Response:
    raise RuntimeError("a bug")


@pytest.mark.parametrize("locale", ["ko", "en", "ja"])
def test_server_error_is_a_localized_page_with_a_request_id(
    settings: Settings, locale: str
) -> None:
    """An unexpected failure shows the 500 page in the reader's language with the request
    id to quote; API callers get JSON."""
    app = create_app(settings)
    app.router.add_route("/boom", _boom)
    app.router.add_route("/api/boom", _boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        client.cookies.set("lang", locale)
        response = client.get("/boom", headers={**HTML, "x-request-id": "req-abc123"})
        assert response.status_code == 500
        assert translate(locale, "일시적인 오류가 발생했습니다") in response.text
        assert f"{CODE_LABEL[locale]} 500" in response.text
        assert "req-abc123" in response.text
        assert "a bug" not in response.text and "Traceback" not in response.text
        api = client.get("/api/boom")
        assert api.status_code == 500
        assert api.json()["error"]["code"] == "error"
