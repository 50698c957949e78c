"""The English and Japanese catalogs cover every Korean string the templates translate."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from web.pages.errors import ERROR_HINTS, ERROR_TITLES
from web.rendering.i18n import LOCALES, negotiate, translate

WEB = Path(__file__).resolve().parents[2] / "web"
CALL = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*\)""")
# Python code that translates by calling `translate(locale, "...")` directly.
PY_CALL = re.compile(r"""\btranslate\(\s*\w+\s*,\s*"((?:[^"\\]|\\.)*)"\s*\)""")


def template_strings() -> set[str]:
    found: set[str] = set()
    for path in sorted((WEB / "templates").rglob("*.html")):
        for match in CALL.finditer(path.read_text(encoding="utf-8")):
            found.add(match.group(1) if match.group(1) is not None else match.group(2))
    for path in sorted(WEB.glob("*.py")):
        found.update(m.group(1) for m in PY_CALL.finditer(path.read_text(encoding="utf-8")))
    return found


def load(locale: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((WEB / "locales" / f"{locale}.json").read_text("utf-8"))
    return data


def test_extractor_finds_the_base_template_strings() -> None:
    """The extractor sees strings in both quote styles (so an empty result cannot pass)."""
    strings = template_strings()
    assert {"본문 바로가기", "주 메뉴", "라이브서울"} <= strings


@pytest.mark.parametrize("locale", ["en", "ja"])
def test_catalog_is_complete(locale: str) -> None:
    """Every `_()` string of every template has a non-empty translation in the catalog."""
    catalog = load(locale)
    missing = sorted(s for s in template_strings() if not catalog.get(s, "").strip())
    assert missing == [], f"{locale}.json lacks {len(missing)}: {missing}"


@pytest.mark.parametrize("locale", ["en", "ja"])
def test_placeholders_survive_translation(locale: str) -> None:
    """A translation keeps exactly the `{name}` placeholders of its Korean source."""
    catalog = load(locale)
    wrong = {
        source: target
        for source, target in catalog.items()
        if sorted(re.findall(r"\{\w+\}", source)) != sorted(re.findall(r"\{\w+\}", target))
    }
    assert wrong == {}


def test_catalogs_are_valid_json_objects_of_strings() -> None:
    """Both catalogs are flat objects mapping strings to strings."""
    for locale in ("en", "ja"):
        catalog = load(locale)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in catalog.items())


def test_missing_translation_falls_back_to_korean() -> None:
    """An unknown string is shown in Korean rather than blank."""
    assert translate("en", "없는 문장 예시") == "없는 문장 예시"
    assert translate("en", "홈") == "Home"


@given(st.text(max_size=60))
def test_negotiate_always_returns_a_supported_locale(header: str) -> None:
    """Whatever Accept-Language or cookie says, the locale is one we have."""
    assert negotiate(header, header) in LOCALES


def test_negotiate_prefers_cookie_then_quality() -> None:
    """The cookie wins; otherwise the highest-q supported language; otherwise Korean."""
    assert negotiate("ja", "en") == "ja"
    assert negotiate(None, "fr-FR,en;q=0.5,ja;q=0.8") == "ja"
    assert negotiate("xx", "de") == "ko"


@pytest.mark.parametrize("locale", ["en", "ja"])
def test_error_page_wording_is_translated(locale: str) -> None:
    """Every error page title and hint (tables in web.live.pages) has a translation."""
    catalog = load(locale)
    wording = [*ERROR_TITLES.values(), *ERROR_HINTS.values()]
    assert [w for w in wording if not catalog.get(w, "").strip()] == []
