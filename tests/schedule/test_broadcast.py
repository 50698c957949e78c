"""Broadcast validation: every problem is reported with the field it concerns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from schedule import Broadcast, BroadcastError, find_overlap, parse_draft
from schedule.broadcast import TITLE_MAX, parse_time

GOOD: dict[str, Any] = {
    "title": "서울시장 신년 기자회견",
    "category": "기자설명회",
    "starts_at": "2026-11-25T14:00:00+09:00",
    "ends_at": "2026-11-25T15:00:00+09:00",
    "staff": ["서울시장", "교통정책과장"],
}


def errors(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(BroadcastError) as caught:
        parse_draft(data)
    return {e.field: e.message for e in caught.value.errors}


def test_good_input_becomes_a_utc_draft() -> None:
    """Valid input is trimmed and its times are kept as aware UTC."""
    draft = parse_draft({**GOOD, "title": "  서울시장 신년 기자회견 "})
    assert draft.title == "서울시장 신년 기자회견"
    assert draft.starts_at == datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
    assert draft.staff == ("서울시장", "교통정책과장")


def test_end_must_be_after_start() -> None:
    """An end at or before the start is an error on ends_at."""
    assert "after starts_at" in errors({**GOOD, "ends_at": GOOD["starts_at"]})["ends_at"]


def test_sane_maximum_length() -> None:
    """A broadcast longer than 12 hours is refused, naming ends_at."""
    found = errors({**GOOD, "ends_at": "2026-11-26T03:00:01+09:00"})
    assert "at most 12 hours" in found["ends_at"]


def test_required_fields_are_all_named() -> None:
    """An empty object names title, category, starts_at and ends_at at once."""
    found = errors({})
    assert set(found) == {"title", "category", "starts_at", "ends_at"}
    assert found["title"] == "required"


def test_lengths_and_types() -> None:
    """Too long, wrong type and unknown fields are each reported by name."""
    found = errors(
        {
            **GOOD,
            "title": "가" * (TITLE_MAX + 1),
            "description": 5,
            "staff": "x" * 41,
            "colour": "red",
            "stream_url": "javascript:alert(1)",
        }
    )
    assert f"at most {TITLE_MAX}" in found["title"]
    assert found["description"] == "must be a string"
    assert "at most 40" in found["staff"]
    assert found["colour"] == "unknown field"
    assert "http(s) URL" in found["stream_url"]


def test_times_without_an_offset_are_seoul_time() -> None:
    """A naive time is Seoul wall-clock time; a malformed one says what is expected."""
    found = errors({**GOOD, "starts_at": "2026-11-25T14:00:00", "ends_at": "tomorrow"})
    assert "starts_at" not in found
    assert "2026-12-05 10:00" in found["ends_at"]
    assert parse_time("2026-11-25T14:00:00") == datetime(2026, 11, 25, 5, 0, tzinfo=UTC)


def test_blank_title_after_cleaning_is_empty() -> None:
    """A title of only spaces and control characters is empty."""
    assert errors({**GOOD, "title": " \u200b\x00 "})["title"] == "must not be empty"


def test_overlap_names_the_colliding_broadcast() -> None:
    """find_overlap returns the earliest colliding broadcast, ignoring cancelled ones."""
    t = datetime(2026, 11, 25, 5, tzinfo=UTC)
    others = [
        Broadcast(3, "취소된 회의", "", "회의", t, t + timedelta(hours=2), "cancelled"),
        Broadcast(4, "확대간부회의", "", "회의", t + timedelta(minutes=30), t + timedelta(hours=1)),
    ]
    assert find_overlap(t, t + timedelta(hours=1), others) == others[1]
    assert find_overlap(t + timedelta(hours=1), t + timedelta(hours=2), others) is None
    assert find_overlap(t, t + timedelta(hours=1), others, exclude_id=4) is None
