"""Pure moderation rules: blocked-word matching after normalisation, personal-data masking."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livechat.moderation.moderation import (
    Blocklist,
    ReasonError,
    find_personal_data,
    fold,
    mask_personal_data,
    parse_reason,
)

BLOCKED = Blocklist(["시발", "병신", "개새끼", "fuck", "shit", "씹"])

# Real-world evasion spellings and the blocked word each must be caught as.
EVASIONS = [
    ("시발", "시발"),
    ("씨발", "시발"),  # tense consonant
    ("씨 발", "시발"),  # spacing
    ("시.발", "시발"),  # punctuation
    ("시1발", "시발"),  # a digit slipped between syllables
    ("시_발_", "시발"),
    ("십알", "시발"),  # liaison: final ㅂ + silent ㅇ
    ("씨 발 이게 뭐야", "시발"),  # …but a plain word before a vowel syllable still counts
    ("시발아", "시발"),
    ("ㅅㅂ", "시발"),  # initial consonants typed alone
    ("ㅆㅂ", "시발"),
    ("ㅅ ㅂ", "시발"),
    ("ㅅ1ㅂ", "시발"),
    ("ㅅ발", "시발"),
    ("씨\u200b발", "시발"),  # zero-width space
    ("ｼｰ씨발", "시발"),
    ("이 ㅂㅅ아", "병신"),
    ("병1신", "병신"),
    ("뼝신", "병신"),
    ("개 새 끼", "개새끼"),
    ("개새기", "개새끼"),  # tense ㄲ written plain
    ("ｆｕｃｋ", "fuck"),  # full-width
    ("FUCK", "fuck"),
    ("f u c k", "fuck"),
    ("f.u.c.k", "fuck"),
    ("fuuuuck", "fuck"),  # repeated letters
    ("fuсk", "fuck"),  # Cyrillic с
    ("fսck", "fuck"),  # Armenian ս
    ("ƒuck", None),
    ("5h1t", "shit"),  # leet
    ("$hit", "shit"),
    ("sh!t", "shit"),
    ("ѕһit", None),  # Cyrillic һ is not folded: listed as a known gap
    ("씹", "씹"),
    ("씨 ㅂ", "시발"),
]

# Ordinary sentences that must not be held.
INNOCENT = [
    "시비 걸지 마세요",  # 시 + ㅂ followed by a vowel is not ㅅㅂ
    "갑시다",  # final ㅂ then ㅅ is not ㅂㅅ
    "시바견이 귀여워요",
    "병원 신청은 어디서 하나요?",
    "개나리 새끼손가락",
    "안녕하세요 서울시 여러분",
    "Shitake mushrooms",  # Scunthorpe: held for review, see test below
]


@pytest.mark.parametrize(("text", "word"), EVASIONS)
def test_evasion_table(text: str, word: str | None) -> None:
    """Each real-world spelling is caught as its blocked word (or documented as not)."""
    assert BLOCKED.match(text) == word


@pytest.mark.parametrize("text", INNOCENT[:-1])
def test_ordinary_sentences_pass(text: str) -> None:
    """Everyday Korean that shares letters with a blocked word is not held."""
    assert BLOCKED.match(text) is None


def test_substring_match_holds_shitake_for_a_human() -> None:
    """Latin words match inside longer words; that only holds a comment for review."""
    assert BLOCKED.match("Shitake mushrooms") == "shit"


def test_empty_list_matches_nothing() -> None:
    """No blocked words: nothing is held."""
    assert Blocklist().match("시발 fuck") is None
    assert Blocklist(["", "  ", "...", "\u200b"]).words == ()


def test_fold_examples() -> None:
    """Folding drops spacing and punctuation, lower-cases and decomposes Hangul."""
    assert fold("Ｆ.U c-K") == "fuck"
    assert fold("씨 발") == fold("시발")
    assert fold("ㅅㅂ") == "\u1109\u1107"


@given(st.text(max_size=60))
@settings(max_examples=200)
def test_fold_is_idempotent(text: str) -> None:
    """Folding a folded text changes nothing."""
    once = fold(text)
    assert fold(once) == once


@given(st.text(max_size=40), st.sampled_from(["시발", "병신", "fuck"]), st.text(max_size=40))
@settings(max_examples=150)
def test_blocked_word_found_anywhere(before: str, word: str, after: str) -> None:
    """A blocked word written plainly is found whatever surrounds it."""
    assert BLOCKED.match(before + word + after) is not None


@given(
    st.lists(
        st.sampled_from([" ", ".", "\u200b", "-", "_", "*", "ㅤ", "\u3000"]), min_size=2, max_size=2
    ),
    st.booleans(),
)
@settings(max_examples=50)
def test_separators_do_not_hide_a_word(separators: list[str], tense: bool) -> None:
    """Any separator between the syllables, tense or plain, still matches."""
    first = "씨" if tense else "시"
    text = first + separators[0] + "발" + separators[1]
    assert BLOCKED.match(text) == "시발"


# -- personal data ------------------------------------------------------------------

MASKING = [
    ("010-1234-5678", "***-****-****", {"phone"}),
    ("01012345678", "***********", {"phone"}),
    ("010 1234 5678로 연락", "*** **** ****로 연락", {"phone"}),
    ("010.1234.5678", "***.****.****", {"phone"}),
    ("+82 10 1234 5678", "+** ** **** ****", {"phone"}),
    ("+82-10-1234-5678", "+**-**-****-****", {"phone"}),
    ("02-123-4567", "**-***-****", {"phone"}),
    ("(02) 1234-5678", "(**) ****-****", {"phone"}),
    ("031-123-4567", "***-***-****", {"phone"}),
    ("０１０－１２３４－５６７８", "***－****－****", {"phone"}),  # full-width
    ("900101-1234567", "******-*******", {"rrn"}),
    ("9001011234567", "*************", {"rrn"}),
    ("주민번호 851231 2345678", "주민번호 ****** *******", {"rrn"}),
    ("me@example.com", "m*@***********", {"email"}),
    ("문의 hong.gildong@seoul.go.kr 로", "문의 h***********@*********** 로", {"email"}),
    ("hong＠seoul.go.kr", "h***＠***********", {"email"}),
    ("2026년 5월 1일 19시 30분", "2026년 5월 1일 19시 30분", set()),
    ("120 다산콜센터", "120 다산콜센터", set()),
    ("인구 9,386,034명", "인구 9,386,034명", set()),
    ("@서울시 공식 계정", "@서울시 공식 계정", set()),
]


@pytest.mark.parametrize(("text", "masked", "kinds"), MASKING)
def test_masking_table(text: str, masked: str, kinds: set[str]) -> None:
    """Phone numbers, RRNs and e-mail addresses are hidden; dates and counts are not."""
    result = mask_personal_data(text)
    assert result.text == masked
    assert result.kinds == kinds


def phones() -> st.SearchStrategy[str]:
    digits = st.integers(0, 9).map(str)
    sep = st.sampled_from(["-", " ", ".", ""])
    mobile = st.tuples(
        st.sampled_from(["010", "011", "016", "019"]),
        sep,
        st.lists(digits, min_size=4, max_size=4).map("".join),
        sep,
        st.lists(digits, min_size=4, max_size=4).map("".join),
    ).map("".join)
    seoul = st.tuples(
        st.just("02"),
        sep,
        st.lists(digits, min_size=3, max_size=4).map("".join),
        sep,
        st.lists(digits, min_size=4, max_size=4).map("".join),
    ).map("".join)
    intl = mobile.map(lambda m: "+82 " + m[1:])
    return st.one_of(mobile, seoul, intl)


def rrns() -> st.SearchStrategy[str]:
    return st.tuples(
        st.integers(0, 99),
        st.integers(1, 12),
        st.integers(1, 28),
        st.sampled_from(["-", ""]),
        st.integers(1, 8),
        st.integers(0, 999_999),
    ).map(lambda t: f"{t[0]:02d}{t[1]:02d}{t[2]:02d}{t[3]}{t[4]}{t[5]:06d}")


def emails() -> st.SearchStrategy[str]:
    local = st.from_regex(r"[a-z][a-z0-9._]{0,10}", fullmatch=True)
    domain = st.from_regex(r"[a-z]{2,8}\.(com|kr|go\.kr|net)", fullmatch=True)
    return st.tuples(local, domain).map(lambda t: f"{t[0]}@{t[1]}")


# Context that cannot itself glue onto a number (digits would make it another number).
context = st.text(alphabet=st.sampled_from(list("가나다 라마바사 ,!?()ㅋ")), max_size=12)


@given(context, st.one_of(phones(), rrns(), emails()), context)
@settings(max_examples=200)
def test_personal_data_in_context_is_always_masked(before: str, secret: str, after: str) -> None:
    """A phone number, RRN or e-mail inside ordinary text never survives masking."""
    result = mask_personal_data(before + secret + after)
    assert result.changed
    assert secret not in result.text
    assert re.sub(r"\D", "", secret) == "" or not re.search(
        re.escape(re.sub(r"\D", "", secret)), re.sub(r"\D", "", result.text)
    )


@given(
    st.text(max_size=80)
    | st.lists(st.one_of(phones(), rrns(), emails(), st.text(max_size=8)), max_size=6).map(" ".join)
)
@settings(max_examples=200)
def test_masking_leaves_no_pattern_and_is_idempotent(text: str) -> None:
    """After masking nothing is detectable, and masking again changes nothing."""
    once = mask_personal_data(text)
    assert find_personal_data(once.text) == []
    assert mask_personal_data(once.text).text == once.text
    assert len(once.text) == len(text)


def test_reasons() -> None:
    """Reasons come from the list; `other` needs a text; texts are bounded."""
    assert parse_reason("spam") == ("spam", "")
    assert parse_reason("other", "  광고   링크 ") == ("other", "광고 링크")
    for bad, text, field in [
        ("rude", "", "reason"),
        (None, "", "reason"),
        ("other", "", "reason_text"),
        ("spam", 5, "reason_text"),
        ("abuse", "x" * 201, "reason_text"),
    ]:
        with pytest.raises(ReasonError) as info:
            parse_reason(bad, text)
        assert info.value.field == field
