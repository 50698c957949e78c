"""Translations: Korean source strings, English and Japanese catalogs (gettext style).

Templates call `_("지금 방송 중")`; `web/locales/{en,ja}.json` map each Korean string to its
translation. A missing translation falls back to Korean (and `tests/web/test_i18n.py`
checks that both catalogs are complete). The locale comes from the `lang` cookie (set by
the switcher), else Accept-Language, else Korean.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

LOCALES = ("ko", "en", "ja")
DEFAULT_LOCALE = "ko"
SEOUL = ZoneInfo("Asia/Seoul")
_DIR = Path(__file__).parent.parent / "locales"


@cache
def catalog(locale: str) -> dict[str, str]:
    if locale == DEFAULT_LOCALE:
        return {}
    path = _DIR / f"{locale}.json"
    if not path.exists():
        return {}
    data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return data


def translate(locale: str, message: str) -> str:
    return catalog(locale).get(message, message)


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """Pick a locale: the cookie if valid, else the best Accept-Language match, else ko."""
    if cookie in LOCALES:
        return str(cookie)
    best, best_q = DEFAULT_LOCALE, 0.0
    for part in (accept_language or "").split(","):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()
        q = 1.0
        for param in pieces[1:]:
            if param.strip().startswith("q="):
                try:
                    q = float(param.strip()[2:])
                except ValueError:
                    q = 0.0
        primary = tag.split("-")[0]
        if primary in LOCALES and q > best_q:
            best, best_q = primary, q
    return best


_FORMATS: dict[str, dict[str, Any]] = {
    "ko": {
        "date": "{y}년 {m}월 {d}일 ({wd})",
        "time": "{H:02d}:{M:02d}",
        "weekdays": "월화수목금토일",
    },
    "ja": {
        "date": "{y}年{m}月{d}日({wd})",
        "time": "{H:02d}:{M:02d}",
        "weekdays": "月火水木金土日",
    },
    "en": {
        "date": "{wd}, {mon} {d}, {y}",
        "time": "{H:02d}:{M:02d}",
        "weekdays": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    },
}
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def format_date(value: datetime, locale: str) -> str:
    """A date in Asia/Seoul, written the way `locale` writes dates."""
    local = value.astimezone(SEOUL)
    fmt = _FORMATS.get(locale, _FORMATS[DEFAULT_LOCALE])
    weekdays = fmt["weekdays"]
    return str(fmt["date"]).format(
        y=local.year,
        m=local.month,
        d=local.day,
        wd=weekdays[local.weekday()],
        mon=_MONTHS[local.month - 1],
    )


def format_time(value: datetime, locale: str) -> str:
    """A time of day (24-hour) in Asia/Seoul."""
    local = value.astimezone(SEOUL)
    return f"{local.hour:02d}:{local.minute:02d}"
