from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livechat.text import (
    BIDI_CONTROLS,
    MAX_CODE_POINTS_PER_CHAR,
    MAX_MARKS_PER_CHAR,
    CommentRejected,
    clean_text,
    grapheme_count,
    has_visible,
    validate_comment,
)

MAX = 300  # MAX_COMMENT_CHARS
ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"


def tags(text: str) -> str:
    """`text` spelled in invisible tag characters (U+E0020–U+E007E)."""
    return "".join(chr(0xE0000 + ord(ch)) for ch in text)


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


@pytest.mark.parametrize(
    "raw",
    [
        "\u200c",  # zero-width non-joiner
        "\u200d",  # zero-width joiner
        "\u00ad",  # soft hyphen
        "\u2800",  # braille pattern blank
        "\u034f",  # combining grapheme joiner
        "\u3164",  # Hangul filler
        "\u115f\u1160",  # Hangul choseong and jungseong fillers
        "\ufe0f",  # variation selector with no base
        "\u0301\u0301",  # combining marks with no base
        tags("ABC"),  # tag characters
        "\u2060\ufeff\u180e\u2061",  # word joiner, BOM, Mongolian vowel separator, operator
        "\u200c\u00ad\u2800\u034f\u200d" * 20 + tags("hidden"),  # a mixture
        "\u2800 \u3000\u00a0\n\u2028\u200c",  # blanks on several lines
    ],
)
def test_nothing_visible_is_rejected_as_empty(raw: str) -> None:
    """Text that shows nothing (blanks, joiners, format characters, bare marks, tags) is
    refused with the code for empty text and a message saying nothing is visible."""
    with pytest.raises(CommentRejected) as info:
        validate_comment(raw, MAX)
    assert info.value.code == "empty"
    assert "no visible characters" in info.value.message


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("x" + "\u200c\u00ad" * 50, "x"),  # interleaved invisible run
        ("a" + "\u200b\u200c\u200d\u2060\u00ad" * 40 + "b", "ab"),
        ("a\u200c\u200cb", "ab"),  # a run of joiners is removed, even between letters
        ("a\u200c\u00ad\u200db", "ab"),
        ("a\u200db", "a\u200db"),  # single ZWJ between letters (Indic conjunct control)
        ("a\u200c", "a"),  # ZWNJ with nothing to separate
        ("😀\u200d", "😀"),  # ZWJ with nothing to join
        ("\u200d😀", "😀"),
        ("😀\u200d\u200d😀", "😀😀"),
        ("1 \u200d 2", "1  2"),  # ZWJ between spaces
        ("soft\u00adhyphen", "softhyphen"),  # soft hyphens are always dropped
        ("a\u034fb", "ab"),  # combining grapheme joiner
        ("a\ufe0f\ufe0f\ufe0f", "a\ufe0f"),  # one variation selector per base
        ("\ufe0fa", "a"),  # a selector with no base
        ("hi" + tags("ignore previous instructions " * 20), "hi"),  # hidden text
        ("hi" + tags("secret") + "\U000e007f", "hi"),  # tags with a cancel but no flag
        ("\U0001f3f4" + tags("gbengland") + "\U000e007f", "\U0001f3f4"),  # too many tags
        ("\U0001f3f4" + tags("gb eng") + "\U000e007f", "\U0001f3f4"),  # not a tag spec
        ("\U0001f3f4" + tags("gbeng"), "\U0001f3f4"),  # no CANCEL TAG
        ("\U0001f3f4" + tags("b") + "\U000e007f", "\U0001f3f4"),  # not a flag Unicode lists
        ("\U0001f3f4" + tags("usca") + "\U000e007f", "\U0001f3f4"),  # shown nowhere as one
        (ENGLAND + tags("more"), ENGLAND),  # tags after a finished flag
        ("a" + "\u0301\u0302\u0303\u0304" * 2000, "\u00e1\u0302\u0303\u0304\u0301"),
        ("a" + "\u0316" * 10 + "b", "a" + "\u0316" * MAX_MARKS_PER_CHAR + "b"),
        ("x" + "\u2800" * 50 + "y", "x   y"),  # blank padding collapses like spaces
        ("x\u3000\u3000\u3000\u3000\u3000y", "x   y"),
        ("end\u2800\u2800", "end"),  # and is stripped at the ends
        ("a\u2028b\u2029c", "a\nb\nc"),  # Unicode line separators become newlines
        ("a\n \n \n \n \nb", "a\n\nb"),  # blank lines made of spaces collapse too
    ],
)
def test_hostile_text_is_cleaned(raw: str, cleaned: str) -> None:
    """Invisible runs, hidden tag text and Zalgo stacks are removed; what stays is what a
    person sees, and it is accepted."""
    assert clean_text(raw) == cleaned
    assert validate_comment(raw, MAX) == cleaned


LEGITIMATE = [
    "안녕하세요, 서울!",
    "こんにちは、世界。カタカナ",
    "👍🏽👋🏿🙏🏻",
    "👨\u200d👩\u200d👧",
    "👨🏽\u200d💻 🏳️\u200d🌈 ❤️\u200d🔥 🧑\u200d🤝\u200d🧑",
    "🇰🇷🇯🇵",
    ENGLAND,
    "1\ufe0f\u20e3 #\ufe0f\u20e3",
    "☺\ufe0e ❤\ufe0f",
    "สวัสดีครับ ที่นี่ น้ำ กี่ปี",
    "Tiếng Việt: Nguyễn, người, được, ặ",
    "می\u200cخواهم",  # Persian ZWNJ
    "ශ්\u200dරී",  # Sinhala ZWJ
    "क्\u200cष",  # Devanagari explicit virama (ZWNJ)
    "e\u0301\u0323 x\u0301\u0302\u0303\u0304",  # marks up to the cap
    "<b>bold?</b> & 'quotes'",
]


@pytest.mark.parametrize("text", LEGITIMATE)
def test_legitimate_text_passes_unchanged(text: str) -> None:
    """Korean, Japanese, Thai, Vietnamese, Persian, Indic text and emoji sequences
    (skin tones, families, flags, tag flags, keycaps) come through exactly as typed."""
    text = unicodedata.normalize("NFC", text)
    assert clean_text(text) == text
    assert validate_comment(text, MAX) == text


def test_decomposed_korean_is_composed_and_accepted() -> None:
    """Decomposed Hangul (NFD) is composed, not damaged by the invisible or mark rules."""
    nfc = "안녕하세요 서울"
    assert validate_comment(unicodedata.normalize("NFD", nfc), MAX) == nfc


@pytest.mark.parametrize(
    ("text", "count"),
    [
        (ENGLAND, 1),
        ("1\ufe0f\u20e3", 1),
        ("🧑\u200d🤝\u200d🧑", 1),
        ("a\u200db", 2),  # ZWJ joins only pictographs into one character
        ("a\u200cb", 2),
        ("👍🏽🏽", 1),  # UAX #29 (and Intl.Segmenter): a modifier extends what precedes it
        ("\u1100\u1100\u1100", 1),  # a run of leading jamo is one syllable block
    ],
)
def test_grapheme_count_of_sequences(text: str, count: int) -> None:
    """Emoji sequences count once; joiners between letters do not hide characters from the
    count."""
    assert grapheme_count(text) == count


def test_stray_modifiers_cannot_carry_a_payload() -> None:
    """Skin tones piled on one emoji count as one character, so the code-point bound refuses
    them."""
    with pytest.raises(CommentRejected) as info:
        validate_comment("👍" + "🏽" * 40, 10)
    assert info.value.code == "too_long"


def test_zalgo_cannot_carry_a_payload() -> None:
    """8,001 code points on one letter are cut to the mark cap, so one character stays small."""
    out = validate_comment("a" + "\u0301\u0302\u0303\u0304" * 2000, MAX)
    assert grapheme_count(out) == 1 and len(out) <= 1 + MAX_MARKS_PER_CHAR


def test_code_point_bound_refuses_heavy_text_within_the_count() -> None:
    """Text within the character limit but over the code-point bound is too long."""
    family = "👨\u200d👩\u200d👧\u200d👦"  # 7 code points, 1 character
    with pytest.raises(CommentRejected) as info:
        validate_comment(family * 10, 10)
    assert info.value.code == "too_long"
    assert str(10 * MAX_CODE_POINTS_PER_CHAR) in info.value.message
    assert validate_comment(family * 5, 10) == family * 5


@pytest.mark.parametrize("raw", ["", "  ", "\u3000", " \n\t\u2028 "])
def test_empty_message_is_plain_for_blank_input(raw: str) -> None:
    """Input that is only whitespace keeps the plain message for empty text."""
    with pytest.raises(CommentRejected) as info:
        validate_comment(raw, MAX)
    assert (info.value.code, info.value.message) == ("empty", "the comment is empty")


TRICKY = st.sampled_from(
    [
        "a",
        "b",
        "한",
        "\u1100",
        "\u1161",
        "\u11a8",
        " ",
        "\n",
        "\r",
        "\t",
        "\u2028",
        "\u2800",
        "\u3000",
        "\u200b",
        "\u200c",
        "\u200d",
        "\u00ad",
        "\u034f",
        "\u2060",
        "\ufe0e",
        "\ufe0f",
        "\u20e3",
        "\u0301",
        "\u0316",
        "\u0302",
        "\u094d",
        "\u0915",
        "\U0001f3f4",
        "\U000e0067",
        "\U000e0062",
        "\U000e007f",
        "\U000e0020",
        "😀",
        "👨",
        "🏽",
        "🇰",
        "\u202e",
        "\u115f",
        "\u1160",
        "\u3164",
        "e",
    ]
)


@given(st.lists(TRICKY, max_size=60).map("".join))
@settings(max_examples=500)
def test_clean_text_is_idempotent_on_invisible_characters(raw: str) -> None:
    """Cleaning is idempotent even for text made of joiners, marks, tags and blanks."""
    once = clean_text(raw)
    assert clean_text(once) == once


@given(st.lists(TRICKY, max_size=60).map("".join))
@settings(max_examples=300)
def test_accepted_text_is_visible_and_bounded(raw: str) -> None:
    """Whatever is accepted shows something, has no tag outside a flag and no long stacks."""
    try:
        out = validate_comment(raw, MAX)
    except CommentRejected as exc:
        assert exc.code in ("empty", "too_long")
        return
    assert has_visible(out)
    assert "\u200c\u200c" not in out and "\u200d\u200d" not in out
    assert "\u00ad" not in out and "\u034f" not in out
    assert out.count("\U000e007f") == out.count("\U0001f3f4\U000e0067") or "\U000e007f" not in out
