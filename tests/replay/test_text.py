"""Search text, timestamps and cursors: the pure core of `replay`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replay import Replay, format_timestamp, parse_timestamp, start_position
from replay import cursor as cursors
from replay.related import rank, similarity
from replay.search import QueryError, grams, plan, terms
from replay.timeline import TimeError, recording_offset, stored_offset, window

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def make(replay_id: int = 1, *, trim: int = 0, duration: int = 3600, **kw: object) -> Replay:
    fields: dict[str, object] = dict(
        id=replay_id,
        broadcast_id=replay_id,
        title="교통정책 토론회",
        description="",
        category="교통",
        staff=("김서울",),
        recording_url="/r.m3u8",
        thumbnail_url="",
        duration_seconds=duration,
        aired_at=T0,
        recording_started_at=T0 + timedelta(seconds=trim),
        published_at=T0,
    )
    fields.update(kw)
    return Replay(**fields)  # type: ignore[arg-type]


def test_terms_are_normalised_and_deduplicated() -> None:
    """Full-width Latin becomes ASCII, case folds, repeated words count once."""
    assert terms("  ＳＥＯＵＬ seoul  교통 ") == ("seoul", "교통")


def test_too_many_terms_or_characters_are_refused() -> None:
    """More than 10 words or 200 characters is a QueryError, not a slow query."""
    with pytest.raises(QueryError):
        terms(" ".join(f"w{i}" for i in range(11)))
    with pytest.raises(QueryError):
        terms("가" * 201)


def test_grams_cover_pairs_and_last_characters() -> None:
    """Each word yields its two-character pieces and its last character."""
    assert grams("교통정책 가") == "교통 통정 정책 책 가"


def test_plan_routes_terms_by_length() -> None:
    """Three+ characters go to trigrams, one or two to the gram index, punctuation to LIKE."""
    found = plan(["청책토론", "교통", "책", ":)", "50%"])
    assert found.trigram == '"청책토론" AND "50%"'
    assert found.bigram == '"교통" AND "책"*'
    assert found.like == ("%:)%",)


@given(st.text(min_size=1, max_size=30))
@settings(max_examples=200)
def test_every_term_is_quoted_as_one_string(raw: str) -> None:
    """Whatever the user types, each FTS5 term is a single quoted string with its quotes
    doubled, so no operator, column filter or parenthesis reaches the query syntax."""
    try:
        found = plan(terms(raw))
    except QueryError:
        return
    for expression in filter(None, (found.trigram, found.bigram)):
        for part in expression.split(" AND "):
            body = part.removesuffix("*")
            assert body.startswith('"') and body.endswith('"')
            assert '"' not in body[1:-1].replace('""', "")


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        ("3723", 3723),
        ("1h2m3s", 3723),
        ("62m", 3720),
        ("45s", 45),
        ("1H", 3600),
        ("0", 0),
        ("1m30", 90),
    ],
)
def test_deep_link_timestamps_parse(raw: str, seconds: int) -> None:
    """`?t=` accepts plain seconds and the h/m/s form, case-insensitively."""
    assert parse_timestamp(raw) == seconds


@pytest.mark.parametrize("raw", ["", "-5", "1x", "h", "1.5", "٣", "99999999", "1m1h"])
def test_bad_timestamps_do_not_parse(raw: str) -> None:
    """Anything else is no timestamp at all."""
    assert parse_timestamp(raw) is None


@given(st.integers(min_value=0, max_value=10 * 3600))
def test_timestamp_round_trip(seconds: int) -> None:
    """format_timestamp and parse_timestamp are inverse."""
    assert parse_timestamp(format_timestamp(seconds)) == seconds


def test_start_position_ignores_links_past_the_end() -> None:
    """A deep link beyond the recording, or unparsable, plays from the start."""
    assert start_position("1m", 3600) == 60
    assert start_position("2h", 3600) == 0
    assert start_position("soon", 3600) == 0
    assert start_position(None, 3600) == 0


def test_window_maps_recording_seconds_to_wall_clock_and_offsets() -> None:
    """An untrimmed replay: 60–120 s is 01:01–01:02 UTC on the broadcast's day."""
    w = window(make(), 60, 120)
    assert (w.start_utc, w.end_utc) == (
        "2026-11-02T01:01:00.000000+00:00",
        "2026-11-02T01:02:00.000000+00:00",
    )
    assert (w.offset_from, w.offset_to) == (60, 120)


def test_trimmed_replay_window_follows_the_recording() -> None:
    """A replay whose recording starts 5 minutes into the broadcast: 0–60 s of the recording
    is 01:05–01:06 UTC, and replay comments are looked up at broadcast offsets 300–360."""
    replay = make(trim=300)
    w = window(replay, 0, 60)
    assert w.start_utc == "2026-11-02T01:05:00.000000+00:00"
    assert (w.offset_from, w.offset_to) == (300, 360)
    assert recording_offset(replay, "2026-11-02T01:05:30.000000+00:00", None) == 30
    assert recording_offset(replay, "", stored_offset(replay, 42.5)) == 42.5


def test_window_rules_for_bad_times() -> None:
    """Negative, reversed, non-finite or over-long windows are refused naming the parameter;
    a window past the end is clamped to the duration."""
    replay = make(duration=100)
    for start, end, field in [
        (-1, 10, "from"),
        (10, 5, "to"),
        (0, 601, "to"),
        (float("nan"), 5, "from"),
        (0, float("inf"), "to"),
    ]:
        with pytest.raises(TimeError) as caught:
            window(replay, start, end)
        assert caught.value.field == field
    assert (window(replay, 90, 150).start, window(replay, 90, 150).end) == (90, 100)
    assert window(replay, 200, 260).empty


def test_cursor_round_trip_and_tampering() -> None:
    """A cursor decodes to what was encoded; garbage or a cursor of another sort is refused."""
    text = cursors.encode(cursors.Cursor("newest", "2026-11-02T01:00:00+00:00", 7))
    assert cursors.decode(text, "newest") == cursors.Cursor(
        "newest", "2026-11-02T01:00:00+00:00", 7
    )
    for bad in ["", "!!!", "e30", text + "x"]:
        with pytest.raises(cursors.CursorError):
            cursors.decode(bad, "newest")
    with pytest.raises(cursors.CursorError):
        cursors.decode(text, "most_viewed")


def test_related_prefers_category_and_staff_then_similarity() -> None:
    """Same category and staff beats either alone, which beats mere similar text."""
    me = make(1)
    both = make(2, title="전혀 다른 제목")
    category_only = make(3, staff=("박시민",), title="교통정책 설명회")
    similar = make(4, category="문화", staff=(), title="교통정책 토론회 2부")
    unrelated = make(5, category="문화", staff=(), title="음악회")
    hidden = make(6, hidden=True)
    ordered = rank(me, [unrelated, similar, category_only, both, hidden, me], 10)
    assert [r.id for r in ordered] == [2, 3, 4, 5]
    assert similarity("교통정책 토론회", "교통정책 토론회 2부") > similarity("교통정책", "음악회")
