from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livechat.text import (
    BIDI_CONTROLS,
    CommentRejected,
    clean_text,
    grapheme_count,
    validate_comment,
)


@given(st.text(max_size=200))
@settings(max_examples=300)
def test_clean_text_is_idempotent(raw: str) -> None:
    """Cleaning twice gives the same text as cleaning once."""
    once = clean_text(raw)
    assert clean_text(once) == once


@given(st.text(max_size=200))
@settings(max_examples=300)
def test_clean_text_output_has_no_controls_or_bidi(raw: str) -> None:
    """No control, bidi-override or lone-surrogate character survives cleaning, and it is NFC."""
    out = clean_text(raw)
    assert unicodedata.is_normalized("NFC", out)
    for ch in out:
        assert ch not in BIDI_CONTROLS
        assert ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cs", "Co", "Cn")


def test_trojan_source_bidi_override_removed() -> None:
    """A right-to-left override cannot reorder what viewers see."""
    assert clean_text("abc\u202edcba\u202c") == "abcdcba"


def test_zero_width_runs_removed_but_emoji_zwj_kept() -> None:
    """Zero-width spaces vanish; a family emoji keeps its joiners."""
    assert clean_text("스\u200b\u200b\u200b팸") == "스팸"
    family = "👨\u200d👩\u200d👧"
    assert clean_text(family) == family


def test_decomposed_hangul_is_composed() -> None:
    """Jamo sequences are normalised to precomposed syllables (NFC)."""
    assert clean_text("\u1112\u1161\u11ab") == "한"


def test_html_is_kept_as_text() -> None:
    """HTML is not stripped (the renderer escapes it); the text is kept as typed."""
    assert clean_text("<script>alert(1)</script>") == "<script>alert(1)</script>"


def test_blank_line_floods_collapse() -> None:
    """Many blank lines collapse to one empty line."""
    assert clean_text("a\n\n\n\n\n\nb") == "a\n\nb"


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("안녕하세요", 5),
        ("👍🏽", 1),
        ("👨\u200d👩\u200d👧", 1),
        ("🇰🇷🇯🇵", 2),
        ("e\u0301", 1),
        ("\u1112\u1161\u11ab", 1),
        ("abc", 3),
    ],
)
def test_grapheme_count(text: str, count: int) -> None:
    """Length is counted in characters a person sees."""
    assert grapheme_count(text) == count


def test_too_long_rejected_with_counts() -> None:
    """Over the limit: a precise code and a message with both numbers."""
    with pytest.raises(CommentRejected) as info:
        validate_comment("가" * 11, 10)
    assert info.value.code == "too_long"
    assert "11" in info.value.message and "10" in info.value.message


def test_emoji_counted_once_against_limit() -> None:
    """Ten skin-toned thumbs fit a ten-character limit."""
    assert validate_comment("👍🏽" * 10, 10) == "👍🏽" * 10


@pytest.mark.parametrize("raw", ["", "   ", "\u200b\u200b", "\u202e"])
def test_empty_after_cleaning_rejected(raw: str) -> None:
    """Text that is empty once cleaned is rejected as empty."""
    with pytest.raises(CommentRejected) as info:
        validate_comment(raw, 10)
    assert info.value.code == "empty"


def test_non_string_rejected() -> None:
    """A number where text belongs is a field error."""
    with pytest.raises(CommentRejected) as info:
        validate_comment(123, 10)
    assert info.value.code == "bad_field"
