"""Personal-data masking measured on a corpus, and the spellings it must read through."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livechat.personal_data import mask_personal_data

CORPUS = Path(__file__).with_name("pii_corpus.tsv")
# A number left readable: four digits in a row (of any script) after masking.
_DIGITS_LEFT = re.compile(r"\d{4}")


def corpus() -> list[tuple[str, str]]:
    rows = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            label, text = line.split("\t", 1)
            rows.append((label, text))
    return rows


def test_corpus_recall_and_precision() -> None:
    """On ≥ 200 positive and ≥ 200 negative cases, recall ≥ 98 % (a positive counts when
    it is masked and no four digits in a row are left) and precision ≥ 99 % (a negative
    — price, date, year, time, count, broadcast number — must come back unchanged)."""
    rows = corpus()
    positives = [text for label, text in rows if label == "P"]
    negatives = [text for label, text in rows if label == "N"]
    assert len(positives) >= 200 and len(negatives) >= 200
    caught = [
        t
        for t in positives
        if (m := mask_personal_data(t)).changed and not _DIGITS_LEFT.search(m.text)
    ]
    false = [t for t in negatives if mask_personal_data(t).changed]
    recall = len(caught) / len(positives)
    precision = len(caught) / (len(caught) + len(false))
    print(
        f"personal data: {len(positives)} positive, {len(negatives)} negative cases; "
        f"recall {recall:.1%}, precision {precision:.1%}"
    )
    missed = sorted(set(positives) - set(caught))
    assert recall >= 0.98, missed[:20]
    assert precision >= 0.99, false[:20]


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("010~1234~5678", "***~****~****"),
        ("010/1234/5678", "***/****/****"),
        ("010_1234_5678", "***_****_****"),
        ("010ㅡ1234ㅡ5678", "***ㅡ****ㅡ****"),
        ("0 1 0 1 2 3 4 5 6 7 8", "* * * * * * * * * * *"),
        ("O1O-1234-5678", "***-****-****"),
        ("공일공 일이삼사 오육칠팔", "*** **** ****"),
        ("사010-1234-5678", "사***-****-****"),
        ("1588-1234", "****-****"),
        ("900101ㅡ1234567", "******ㅡ*******"),
        ("hong(at)seoul.go.kr", "h***(at)***********"),
        ("홍길동@서울.한국", "홍**@*****"),
        ("abc골뱅이naver닷com", "a**골뱅이*********"),
    ],
)
def test_spellings_are_read_through(text: str, masked: str) -> None:
    """Other separators, spaced-out digits, letters and Korean words for digits,
    representative numbers, "(at)" and Hangul domains are masked, keeping the length."""
    assert mask_personal_data(text).text == masked


@pytest.mark.parametrize(
    "text",
    [
        "2026.01.05 ~ 2026.02.05",
        "1,588,000원",
        "제1588회",
        "오늘 이 일은 사실이에요",
        "14:30~16:00",
        "1988 서울올림픽",
        "120 다산콜센터",
        "장점이 많네요",
        "at the city hall",
    ],
)
def test_ordinary_numbers_and_words_are_left_alone(text: str) -> None:
    """Dates, prices, broadcast numbers, times, years and words made of number syllables
    are not personal data."""
    assert not mask_personal_data(text).changed


_STYLES = {
    "ascii": lambda d: d,
    "full-width": lambda d: "".join(chr(0xFF10 + int(c)) for c in d),
    "words": lambda d: "".join("공일이삼사오육칠팔구"[int(c)] for c in d),
    "letters": lambda d: d.replace("0", "O").replace("1", "l"),
}


@given(
    st.sampled_from(["010", "011", "016", "019"]),
    st.text("0123456789", min_size=4, max_size=4),
    st.text("0123456789", min_size=4, max_size=4),
    st.lists(st.sampled_from(sorted(_STYLES)), min_size=3, max_size=3),
    st.sampled_from(["-", " ", ".", "~", "/", "_", "ㅡ", " - ", "—", ""]),
    st.sampled_from(["", "연락처 ", "제 번호는 "]),
    st.sampled_from(["", " 로 연락", "요"]),
)
@settings(max_examples=300)
def test_a_mobile_number_in_any_spelling_is_masked(
    prefix: str, middle: str, last: str, styles: list[str], sep: str, before: str, after: str
) -> None:
    """Each group in any digit spelling (ASCII, full-width, Korean words, O/l letters),
    joined by any separator and inside ordinary words: every digit character is masked."""
    groups = [_STYLES[s](g) for s, g in zip(styles, (prefix, middle, last), strict=True)]
    number = sep.join(groups)
    masked = mask_personal_data(before + number + after)
    assert masked.kinds == {"phone"}
    assert masked.text == before + sep.join("*" * len(g) for g in groups) + after


def _date(t: tuple[int, int, int], sep: str) -> str:
    return f"{t[0]}{sep}{t[1]:02d}{sep}{t[2]:02d}"


@given(
    st.tuples(st.integers(1990, 2030), st.integers(1, 12), st.integers(1, 31)),
    st.tuples(st.integers(1990, 2030), st.integers(1, 12), st.integers(1, 31)),
    st.sampled_from([".", "-", "/"]),
    st.sampled_from([" ~ ", "~", " - ", " / ", " "]),
    st.integers(0, 23),
    st.integers(0, 59),
    st.integers(100, 9_999_999),
)
@settings(max_examples=300)
def test_dates_ranges_times_and_prices_are_never_masked(
    a: tuple[int, int, int],
    b: tuple[int, int, int],
    sep: str,
    joint: str,
    hour: int,
    minute: int,
    price: int,
) -> None:
    """A date range, a time and a price together are not personal data."""
    text = f"{_date(a, sep)}{joint}{_date(b, sep)} {hour:02d}:{minute:02d} {price:,}원"
    assert not mask_personal_data(text).changed, text
