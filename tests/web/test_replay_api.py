"""The replay JSON API and pages in-process (TestClient with the lifespan)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from starlette.testclient import TestClient

from tests.replay.kit import T0, stores
from tests.support import account_store
from tests.web.pagekit import guest
from web.settings import Settings


def publish(path: Path, title: str, **kw: object) -> int:
    async def run() -> int:
        async with stores(path) as s:
            return await s.publish(title, **kw)

    return asyncio.run(run())


def add_operator(path: Path, role: str = "operator") -> None:
    async def run() -> None:
        async with account_store(path) as store:
            await store.create("operator1", "operator-password", role)

    asyncio.run(run())


def login(client: TestClient) -> str:
    response = client.post(
        "/api/login", json={"username": "operator1", "password": "operator-password"}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["csrf_token"]
    return token


def test_catalog_search_filters_and_pages(client: TestClient, settings: Settings) -> None:
    """GET /api/replays searches Korean substrings, filters, and pages with next_cursor
    until every replay was seen once."""
    path = settings.database_path
    for i in range(5):
        publish(path, f"교통정책 토론회 {i}", starts_at=T0 + timedelta(days=i), category="교통")
    publish(path, "문화 행사", category="문화")
    body = client.get("/api/replays", params={"q": "교통", "limit": 2}).json()
    assert [r["title"] for r in body["items"]] == ["교통정책 토론회 4", "교통정책 토론회 3"]
    seen = [r["id"] for r in body["items"]]
    while body["next_cursor"]:
        body = client.get(
            "/api/replays", params={"q": "교통", "limit": 2, "cursor": body["next_cursor"]}
        ).json()
        seen += [r["id"] for r in body["items"]]
    assert len(seen) == len(set(seen)) == 5
    only = client.get("/api/replays", params={"category": "문화"}).json()["items"]
    assert [r["title"] for r in only] == ["문화 행사"]
    day = client.get("/api/replays", params={"from": "2026-11-03", "to": "2026-11-03"}).json()
    assert [r["title"] for r in day["items"]] == ["교통정책 토론회 1"]


def test_bad_catalog_parameters_name_the_parameter(client: TestClient) -> None:
    """Each bad parameter is a 400 whose error names it."""
    for params, field in [
        ({"sort": "oldest"}, "sort"),
        ({"limit": "0"}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-13-01"}, "to"),
        ({"cursor": "nope"}, "cursor"),
        ({"from": "2026-11-05", "to": "2026-11-01"}, "to"),
        ({"from": "2026-11-05T10:00:00"}, "from"),
        ({"q": "가" * 201}, "q"),
        ({"q": " ".join("abcdefghijk")}, "q"),
    ]:
        response = client.get("/api/replays", params=params)
        assert response.status_code == 400, params
        assert response.json()["error"]["field"] == field


def test_hostile_queries_over_http(client: TestClient, settings: Settings) -> None:
    """Operator words, quotes and brackets in q are answered with 200."""
    publish(settings.database_path, 'NEAR("교통" AND 정책*) ^:')
    for q in ['"', "NEAR(", 'NEAR("교통"', "AND", "정책*", "^:", '("', ")", '"교통"']:
        response = client.get("/api/replays", params={"q": q})
        assert response.status_code == 200, q
        assert len(response.json()["items"]) == 1, q


def test_unknown_replay_is_404(client: TestClient) -> None:
    """Unknown ids are 404 in the API, the comments API and the page."""
    assert client.get("/api/replays/999").status_code == 404
    assert client.get("/api/replays/999/comments").status_code == 404
    page = client.get("/replays/999", headers={"accept": "text/html"})
    assert page.status_code == 404


def test_operator_edit_hide_unpublish(client: TestClient, settings: Settings) -> None:
    """Only staff with a CSRF token may edit; hide drops a replay from the catalog but keeps
    its page; unpublish makes it 404 for the public but not for staff."""
    path = settings.database_path
    replay_id = publish(path, "원래 제목")
    add_operator(path)
    csrf = guest(client)
    assert (
        client.patch(
            f"/api/replays/{replay_id}", json={"title": "x"}, headers={"X-CSRF-Token": csrf}
        ).status_code
        == 403
    )
    csrf = login(client)
    assert client.patch(f"/api/replays/{replay_id}", json={"title": "x"}).status_code == 403
    edited = client.patch(
        f"/api/replays/{replay_id}",
        headers={"X-CSRF-Token": csrf},
        json={"title": "새 제목", "chapters": [{"start": 0, "title": "시작"}], "staff": ["김서울"]},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["title"] == "새 제목"
    for body, field in [
        ({"title": ""}, "title"),
        ({"hidden": "yes"}, "hidden"),
        ({"status": "gone"}, "status"),
        ({"chapters": [{"start": 99999, "title": "늦음"}]}, "chapters"),
        ({"colour": "red"}, "colour"),
        ({"duration_seconds": -1}, "duration_seconds"),
    ]:
        bad = client.patch(f"/api/replays/{replay_id}", json=body, headers={"X-CSRF-Token": csrf})
        assert bad.status_code == 400, body
        assert bad.json()["error"]["field"] == field
    client.patch(f"/api/replays/{replay_id}", json={"hidden": True}, headers={"X-CSRF-Token": csrf})
    with TestClient(client.app) as public:
        assert public.get("/api/replays").json()["items"] == []
        assert public.get(f"/api/replays/{replay_id}").status_code == 200
    client.patch(
        f"/api/replays/{replay_id}", json={"status": "unpublished"}, headers={"X-CSRF-Token": csrf}
    )
    assert client.get(f"/api/replays/{replay_id}").status_code == 200
    with TestClient(client.app) as public:
        assert public.get(f"/api/replays/{replay_id}").status_code == 404


def test_views_count_once_per_viewer_session(client: TestClient, settings: Settings) -> None:
    """Reloading the page does not count again; another browser session does."""
    replay_id = publish(settings.database_path, "조회수 방송")
    for _ in range(3):
        assert client.get(f"/replays/{replay_id}").status_code == 200
    with TestClient(client.app) as other:
        other.get(f"/replays/{replay_id}")
    assert client.get(f"/api/replays/{replay_id}").json()["view_count"] == 2


def test_pages_render_with_deep_link(client: TestClient, settings: Settings) -> None:
    """The catalog lists replays; the player page carries the start position, the
    vendored hls.js, chapters and the CSS through the head block, and no inline script."""
    replay_id = publish(settings.database_path, "교통정책 토론회")
    catalog = client.get("/replays", params={"q": "교통"})
    assert catalog.status_code == 200
    assert f'href="/replays/{replay_id}"' in catalog.text
    page = client.get(f"/replays/{replay_id}", params={"t": "1m2s"})
    assert 'data-start="62"' in page.text
    assert "/static/vendor/hls.min.js?v=" in page.text
    assert "/static/css/replay.css?v=" in page.text
    assert "<script>" not in page.text and "style=" not in page.text
    assert 'data-start="0"' in client.get(f"/replays/{replay_id}?t=99h").text
    assert client.get("/replays", params={"sort": "bad"}).status_code == 400


def test_suggestions_api(client: TestClient, settings: Settings) -> None:
    """GET /api/replays/suggestions offers staff names and titles containing the text,
    spacing aside; too long text is a 400 naming `q`."""
    publish(
        settings.database_path,
        "청책토론회: 보행 친화 도시 서울",
        staff=("도시교통실장", "보행정책과장"),
    )
    body = client.get("/api/replays/suggestions", params={"q": "교통"}).json()
    assert body["staff"] == ["도시교통실장"] and body["titles"] == []
    body = client.get("/api/replays/suggestions", params={"q": "보행친화"}).json()
    assert body["titles"] == ["청책토론회: 보행 친화 도시 서울"]
    assert client.get("/api/replays/suggestions").json() == {"q": "", "staff": [], "titles": []}
    refused = client.get("/api/replays/suggestions", params={"q": "가" * 201})
    assert refused.status_code == 400 and refused.json()["error"]["field"] == "q"


def test_catalog_form_speaks_the_citizens_language(client: TestClient) -> None:
    """A bad form is answered in the page's language, next to the field it is about
    (aria-invalid), never with the API's English wording."""
    cases = [
        (
            {"from": "2026-11-05", "to": "2026-11-01"},
            "replay-to",
            "끝 날짜는 시작 날짜와 같거나 그 뒤여야 합니다.",
            "The end date must be the same as or after the start date.",
        ),
        (
            {"from": "1800-01-01"},
            "replay-from",
            "날짜는 1900년부터 2999년 사이로 입력해 주세요.",
            "Enter a date between the years 1900 and 2999.",
        ),
        (
            {"q": " ".join("abcdefghijk")},
            "replay-q",
            "검색어는 10단어까지 쓸 수 있습니다.",
            "A search can have at most 10 words.",
        ),
        ({"cursor": "nope"}, None, "처음부터 다시 검색해 주세요.", "search again"),
    ]
    for params, field, korean, english in cases:
        page = client.get("/replays", params=params)
        assert page.status_code == 400
        assert korean in page.text and "must not" not in page.text, params
        if field:
            assert f'id="{field}"' in page.text
            tag = page.text.split(f'id="{field}"', 1)[1].split(">", 1)[0]
            assert 'aria-invalid="true"' in tag
        english_page = client.get("/replays", params=params, headers={"Accept-Language": "en"})
        assert english in english_page.text and korean not in english_page.text


def test_more_link_shows_the_same_search_longer(client: TestClient, settings: Settings) -> None:
    """Without JavaScript "더 보기" leads to the same search with one page more (limit=40),
    which lists the first page again followed by the next; the script's data-next is the
    cursor page."""
    for i in range(25):
        publish(settings.database_path, f"교통 브리핑 {i:02d}", starts_at=T0 + timedelta(hours=i))
    first = client.get("/replays", params={"q": "교통"})
    more = first.text.split('id="replay-more" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert more == "/replays?q=%EA%B5%90%ED%86%B5&limit=40"
    longer = client.get(more)
    assert longer.text.count('class="card replay-card"') == 25
    assert 'id="replay-more"' not in longer.text
    cursor_page = first.text.split('data-next="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert client.get(cursor_page).text.count('class="card replay-card"') == 5
