"""Date-times as spreadsheets export them, read as Seoul wall-clock time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schedule.wall_clock import SEOUL, parse_wall_time

TEN_KST = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-05 10:00",
        "2026-12-05T10:00",
        "2026/12/05 10:00",
        "2026.12.05 10:00",
        "2026. 12. 5. 10:00",
        "2026-12-05 10:00:00",
        "2026-12-05 오전 10:00:00",
        "2026-12-05 10:00 AM",
        "46361.41667",
        "2026-12-05T10:00:00+09:00",
        "2026-12-05T01:00Z",
        " 2026/12/5 10:00 ",
    ],
)
def test_spreadsheet_spellings_are_seoul_time(text: str) -> None:
    """Every accepted spelling of 10:00 on 5 December 2026 is 01:00 UTC."""
    assert parse_wall_time(text) == TEN_KST


def test_afternoon_markers() -> None:
    """오후/PM add twelve hours, 12 AM is midnight and 12 PM is noon."""
    assert parse_wall_time("2026-12-05 오후 3:00:00").astimezone(SEOUL).hour == 15
    assert parse_wall_time("2026-12-05 3:00 PM").astimezone(SEOUL).hour == 15
    assert parse_wall_time("2026-12-05 12:00 AM").astimezone(SEOUL).hour == 0
    assert parse_wall_time("2026-12-05 12:30 PM").astimezone(SEOUL).hour == 12


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("12/5/2026 10:00 AM", "year first"),
        ("5.12.2026 10:00", "year first"),
        ("tomorrow", "such as 2026-12-05 10:00"),
        ("2026-02-30 10:00", "not a real date"),
        ("2026-12-05 13:00 PM", "1–12"),
        ("12345", "not a date"),
        ("2026-12-05 25:00", "not a real date"),
    ],
)
def test_refusals_say_what_is_expected(text: str, says: str) -> None:
    """Ambiguous day/month orders, impossible dates and stray numbers are refused clearly."""
    with pytest.raises(ValueError, match=says):
        parse_wall_time(text)


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(SEOUL)
    ).map(lambda d: d.replace(second=0, microsecond=0))
)
def test_every_spelling_reads_back_the_same_instant(moment: datetime) -> None:
    """Any minute of the century written in each spelling reads back as that instant."""
    local = moment.replace(tzinfo=None)
    serial = (local - datetime(1899, 12, 30)) / timedelta(days=1)
    for text in (
        local.strftime("%Y-%m-%d %H:%M"),
        local.strftime("%Y/%m/%d %H:%M"),
        local.strftime("%Y.%m.%d %H:%M:%S"),
        local.strftime("%Y-%m-%d %I:%M %p"),
        f"{serial:.10f}",
        moment.isoformat(),
    ):
        assert parse_wall_time(text) == moment, text
