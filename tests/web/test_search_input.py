"""Search inputs cleaned like comment text: control characters never reach the index."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from replay.search import QueryError, terms
from tests.web.test_replay_api import publish
from web.settings import Settings

HOSTILE = ["\x00", "\x00\x00", "\x1b\x07", "\u202e", "\u200b", "\x7f", "\ufeff"]


@pytest.mark.parametrize("raw", HOSTILE)
def test_a_query_of_only_control_characters_is_refused(
    client: TestClient, settings: Settings, raw: str
) -> None:
    """q, category or staff with nothing visible is a 400 naming it (not a 500, and not
    the whole catalog); the catalog page answers 400 with the error, never echoing it."""
    publish(settings.database_path, "교통정책 토론회")
    for name in ("q", "category", "staff"):
        response = client.get("/api/replays", params={name: raw})
        assert response.status_code == 400, (name, raw, response.text)
        assert response.json()["error"]["field"] == name
    page = client.get("/replays", params={"q": raw}, headers={"accept": "text/html"})
    assert page.status_code == 400 and raw not in page.text


def test_control_characters_inside_a_query_are_removed(
    client: TestClient, settings: Settings
) -> None:
    """A NUL or escape inside a word is dropped and the rest is searched: "교통\\x00정책"
    finds "교통정책", like the cleaned comment text would read."""
    publish(settings.database_path, "교통정책 토론회")
    publish(settings.database_path, "문화 행사")
    for q in ("교통\x00정책", "\x00교통", "토론\x1b회", "교\u200b통"):
        response = client.get("/api/replays", params={"q": q})
        assert response.status_code == 200, (q, response.text)
        assert [r["title"] for r in response.json()["items"]] == ["교통정책 토론회"], q


def test_the_search_core_refuses_control_characters() -> None:
    """`replay.search.terms` raises QueryError for a NUL (its guard behind the web cleaning)."""
    with pytest.raises(QueryError):
        terms("교통\x00")
    assert terms("교통 정책") == ("교통", "정책")


def test_moderation_audit_and_question_export_filters_are_cleaned(client: TestClient) -> None:
    """The other search inputs (audit log q, question export department) go through the same
    cleaning: a NUL-only value is a 400 naming it, before any role check can hide a 500."""
    for url, name in (
        ("/api/moderation/audit", "q"),
        ("/api/broadcasts/1/questions.csv", "department"),
    ):
        response = client.get(url, params={name: "\x00"})
        assert response.status_code in (400, 401, 403), (url, response.text)
