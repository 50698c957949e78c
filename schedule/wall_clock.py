"""Date-times as people and spreadsheets write them, read as Seoul wall-clock time.

The whole channel runs on Seoul time, so a time written without an offset means Seoul
(`2026-12-05 10:00` is 10:00 KST, 01:00 UTC). Accepted, all pure text in, aware datetime out:

- ISO 8601 with or without an offset: `2026-12-05T10:00:00+09:00`, `…Z`, `2026-12-05T10:00`;
- year first with `-`, `/` or `.` and a space before the time, as spreadsheets export
  them: `2026-12-05 10:00`, `2026/12/05 10:00:00`, `2026.12.05 10:00`, Korean Excel's
  `2026. 12. 5. 10:00` and `2026-12-05 오후 3:00:00`, or `2026-12-05 3:00 PM`;
- an Excel serial day number (`46361.41667`: days since 1899-12-30, Seoul wall time).

Month-first or day-first dates (`12/5/2026`) are refused: `5/12/2026` means May in one
country and December in another, and guessing would book the wrong day.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

SEOUL = ZoneInfo("Asia/Seoul")
EXAMPLE = "2026-12-05 10:00 (Seoul time) or 2026-12-05T10:00:00+09:00"
_EXCEL_EPOCH = datetime(1899, 12, 30)
# Serials of 2000-01-01 and 2099-12-31: a bare number outside them is not a date.
_SERIAL_MIN, _SERIAL_MAX = 36526, 73050
_SERIAL = re.compile(r"[0-9]{5}(?:\.[0-9]{1,12})?")
_SPREADSHEET = re.compile(
    r"(?P<y>[0-9]{4})\s*(?P<sep>[-/.])\s*(?P<m>[0-9]{1,2})\s*(?P=sep)\s*(?P<d>[0-9]{1,2})\.?"
    r"(?:\s+(?P<pre>오전|오후|AM|PM|am|pm)?\s*"
    r"(?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2}))?"
    r"\s*(?P<post>오전|오후|AM|PM|am|pm)?)?"
)
_DAY_FIRST = re.compile(r"[0-9]{1,2}[-/.][0-9]{1,2}[-/.][0-9]{4}\b")


def parse_wall_time(text: str) -> datetime:
    """`text` as an aware datetime; offset-less spellings are Seoul time. ValueError
    (saying what is expected) for anything else."""
    text = text.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = _spreadsheet(text)
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=SEOUL)
    return moment


def _spreadsheet(text: str) -> datetime:
    if _SERIAL.fullmatch(text):
        serial = float(text)
        if not _SERIAL_MIN <= serial <= _SERIAL_MAX:
            raise ValueError(f"{text} is not a date: write it like {EXAMPLE}")
        # Round to the minute: a serial of 10:00 is stored as 0.41666…
        minutes = round(serial * 24 * 60)
        return _EXCEL_EPOCH + timedelta(minutes=minutes)
    if _DAY_FIRST.match(text):
        raise ValueError(f"write the year first (month/day order is ambiguous), e.g. {EXAMPLE}")
    found = _SPREADSHEET.fullmatch(text)
    if found is None:
        raise ValueError(f"must be a date and time such as {EXAMPLE}")
    hour = int(found["H"] or 0)
    marker = (found["pre"] or found["post"] or "").upper()
    if marker and found["pre"] and found["post"]:
        raise ValueError(f"AM/PM written twice in {text!r}")
    if marker:
        if not 1 <= hour <= 12:
            raise ValueError(f"with AM/PM the hour is 1–12, got {hour}")
        hour = hour % 12 + (12 if marker in ("PM", "오후") else 0)
    try:
        return datetime(
            int(found["y"]),
            int(found["m"]),
            int(found["d"]),
            hour,
            int(found["M"] or 0),
            int(found["S"] or 0),
        )
    except ValueError as exc:
        raise ValueError(f"not a real date and time: {exc}") from None
