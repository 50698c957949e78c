"""Personal data in text: Korean phone numbers, resident registration numbers (RRN) and
e-mail addresses, found on a normalised form of the text and masked (pure functions).

People write these to slip past a filter, or just carelessly, in many spellings; the
matcher reads through them instead of listing them:

- **digits** of every script (full-width ０, Arabic-Indic ٣ …), the look-alikes O o ○ ㅇ
  for 0 and l I | ㅣ for 1, and Sino-Korean number words (공/영/빵 0, 일 1, 이 2, 삼 3,
  사 4, 오 5, 육/륙 6, 칠 7, 팔 8, 구 9) are all digits;
- **separators** between digits — spaces, dashes of every kind, the Hangul vowel ㅡ,
  dots, tildes, slashes, underscores, brackets, `+` — are skipped (at most three in a
  row), so `010 1 2 3 4 ~ 5678`, `공일공-일이삼사-오육칠팔` and `O1O/1234/5678` are one
  number;
- **numbers** are judged by their digits: mobile (010 + 8, 011/016–019 + 7–8), Seoul 02,
  area codes 031–064, 070, 050x, 080, `+82`/`82` forms, representative numbers
  (the 15xx/16xx/18xx series in use, unless the eight digits read as a range of years,
  1600 ~ 1800, or a count, 15881234명) and RRNs (a valid YYMMDD, then 1–8 and six
  digits), written in one piece, one digit at a time, or in groups ending with four
  (phones) or seven (RRN) digits. A number starts and ends where the digits do, at a
  separator, or where the kind of digit changes (사010-… is "사" then a phone number);
- **e-mail**: `@`, ＠, `(at)`/`[at]`, 골뱅이 and 앳 for the at sign; `.`, `(dot)`, ` dot `,
  닷, 쩜, 점 for dots; Hangul in the local part and in the domain (`홍길동@서울.한국`).

Dates, times, prices, years, counts and broadcast numbers are left alone: their digits
do not make a valid number of the kinds above (`tests/livechat/pii_corpus.tsv` measures
it; the figures are in `docs/security.md`).

`mask_personal_data` replaces each digit-like character of a number with `*` (separators
stay, so a reader sees a number was there) and every character of an address but its first
and its at sign; the text keeps its length.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from livechat.text import CommentRejected

PERSONAL_DATA_KINDS = ("phone", "rrn", "email")

_DIGIT_WORDS = {
    "공": "0",
    "영": "0",
    "빵": "0",
    "일": "1",
    "이": "2",
    "삼": "3",
    "사": "4",
    "오": "5",
    "육": "6",
    "륙": "6",
    "칠": "7",
    "팔": "8",
    "구": "9",
}
_LOOKALIKE_DIGITS = {
    "O": "0",
    "o": "0",
    "Ｏ": "0",
    "ｏ": "0",
    "○": "0",
    "◯": "0",
    "〇": "0",
    "ㅇ": "0",
    "О": "0",
    "о": "0",
    "Ο": "0",
    "ο": "0",
    "l": "1",
    "I": "1",
    "|": "1",
    "ｌ": "1",
    "Ｉ": "1",
    "ㅣ": "1",
}
_SEPARATORS = frozenset(
    " \t\u00a0\u3000\u2002\u2003\u2009\u202f"  # spaces
    "-‐‑‒–—―−－ーㅡ一﹣"  # dashes, the Hangul vowel ㅡ, the CJK one used as a dash
    ".。．｡·・~～〜/／\\_＿()（）[]［］+＋"
)
MAX_SEPARATOR_RUN = 3

_MOBILE = re.compile(r"010\d{8}|01[16789]\d{7,8}")
_LANDLINE = re.compile(
    r"02\d{7,8}|0(?:3[1-3]|4[1-4]|5[1-5]|6[1-4])\d{7,8}|070\d{8}"
    r"|050\d\d{7,8}|080\d{7}"
)
# Representative numbers (대표번호): the series in use, then four digits.
_REPRESENTATIVE = re.compile(
    r"(?:1522|1533|1544|1551|1566|1577|1588|1599|1600|1644|1661|1666"
    r"|1670|1688|1800|1811|1833|1844|1855|1877|1899)\d{4}"
)
# A counter or unit right after eight digits makes them a count, a year or a price.
_UNITS = frozenset("년명원회개건세대차번호분초시일월점표위석곳층권쪽장배살주")
_RRN = re.compile(r"\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])[1-8]\d{6}")

_AT = r"\s?[@＠﹫]\s?|\s?[(\[{<]\s?(?:at|AT|At|골뱅이)\s?[)\]}>]\s?|\s?골뱅이\s?|앳"
_DOT = r"[.．。｡]|\s?[(\[{<]\s?(?:dot|DOT|Dot|닷|점)\s?[)\]}>]\s?|\s(?:dot|DOT)\s|닷|쩜|점"
_EMAIL_TOKENS = re.compile(f"(?P<at>{_AT})|(?P<dot>{_DOT})")
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-가-힣]+@"
    r"(?:[A-Za-z0-9\-가-힣]+\.)+(?:[A-Za-z]{2,}|[가-힣]{1,4})(?![A-Za-z0-9\-])"
)


@dataclass(frozen=True, slots=True)
class _Token:
    digit: str
    kind: str  # "d" a digit, "w" a number word, "l" a look-alike letter
    position: int  # index in the original text


def _digit_of(ch: str) -> tuple[str, str] | None:
    if unicodedata.category(ch) == "Nd":
        return str(unicodedata.digit(ch)), "d"
    if ch in _DIGIT_WORDS:
        return _DIGIT_WORDS[ch], "w"
    if ch in _LOOKALIKE_DIGITS:
        return _LOOKALIKE_DIGITS[ch], "l"
    return None


def _runs(text: str) -> list[tuple[list[_Token], list[bool]]]:
    """Runs of digit-like characters joined by short separator runs: (tokens, gap before
    each token)."""
    runs: list[tuple[list[_Token], list[bool]]] = []
    tokens: list[_Token] = []
    gaps: list[bool] = []
    pending = 0  # separators since the last token
    for i, ch in enumerate(text):
        found = _digit_of(ch)
        if found is not None:
            gaps.append(pending > 0)
            tokens.append(_Token(found[0], found[1], i))
            pending = 0
        elif ch in _SEPARATORS and tokens and pending < MAX_SEPARATOR_RUN:
            pending += 1
        else:
            if tokens:
                runs.append((tokens, gaps))
            tokens, gaps, pending = [], [], 0
    if tokens:
        runs.append((tokens, gaps))
    return runs


def number_kind(digits: str) -> str | None:
    """`phone` or `rrn` if `digits` (ASCII) are one, else None."""
    if _RRN.fullmatch(digits):
        return "rrn"
    if (
        _MOBILE.fullmatch(digits)
        or _LANDLINE.fullmatch(digits)
        or _REPRESENTATIVE.fullmatch(digits)
    ):
        return "phone"
    if digits.startswith("82") and len(digits) >= 10:
        national = digits[2:] if digits[2] == "0" else "0" + digits[2:]
        if _MOBILE.fullmatch(national) or _LANDLINE.fullmatch(national):
            return "phone"
    return None


def _grouped_like_a_number(gaps: list[bool]) -> bool:
    """Whether digits split into groups by `gaps` (one flag per digit after the first) are
    written as people write these numbers: in one piece, one digit at a time, or ending in
    a group of four or of seven and more (010-1234-5678, 010-12345678, 1588 1234,
    +82 1012345678, RRN 900101-1234567).
    Dates and ranges end otherwise (2026.01.05 ~ 2026.02.05)."""
    sizes = [1]
    for gap in gaps:
        if gap:
            sizes.append(1)
        else:
            sizes[-1] += 1
    return len(sizes) == 1 or max(sizes) == 1 or sizes[-1] == 4 or sizes[-1] >= 7


def _representative(text: str, tokens: list[_Token]) -> bool:
    """Whether eight digits read as a representative number (1588-1234), not as a range
    of years (1600 ~ 1800, 1800-2000년), a count (15881234명) or a list."""
    after = tokens[-1].position + 1
    if after < len(text) and text[after] in _UNITS:
        return False
    between = text[tokens[3].position + 1 : tokens[4].position]
    first, second = (
        int("".join(t.digit for t in tokens[:4])),
        int("".join(t.digit for t in tokens[4:])),
    )
    return not (between and first < second <= 2100)  # 1600 ~ 1800: years


def _numbers(text: str) -> list[tuple[str, list[int]]]:
    """(kind, original positions of its digit-like characters) of each number in `text`."""
    found = []
    for tokens, gaps in _runs(text):
        count = len(tokens)
        cuts = (
            [0]
            + [i for i in range(1, count) if gaps[i] or tokens[i].kind != tokens[i - 1].kind]
            + [count]
        )
        digits = "".join(t.digit for t in tokens)
        start_index = 0
        while start_index < len(cuts) - 1:
            start = cuts[start_index]
            for end in reversed(cuts[start_index + 1 :]):
                if 8 <= end - start <= 13 and _grouped_like_a_number(gaps[start + 1 : end]):
                    kind = number_kind(digits[start:end])
                    if (
                        kind == "phone"
                        and end - start == 8
                        and not _representative(text, tokens[start:end])
                    ):
                        kind = None
                    if kind is not None:
                        found.append((kind, [t.position for t in tokens[start:end]]))
                        start_index = cuts.index(end)
                        break
            else:
                start_index += 1
    return found


def _emails(text: str) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """(start, end, at-sign spans) in the original text of each e-mail address."""
    view: list[str] = []
    origin: list[tuple[int, int]] = []  # original span of each character of `view`
    last = 0
    for m in _EMAIL_TOKENS.finditer(text):
        for i in range(last, m.start()):
            view.append(text[i])
            origin.append((i, i + 1))
        view.append("@" if m.lastgroup == "at" else ".")
        origin.append((m.start(), m.end()))
        last = m.end()
    for i in range(last, len(text)):
        view.append(text[i])
        origin.append((i, i + 1))
    flat = unicodedata.normalize("NFKC", "".join(view))
    if len(flat) != len(view):  # NFKC changed the length: match the view as it is
        flat = "".join(view)
    found = []
    for m in _EMAIL.finditer(flat):
        ats = [origin[i] for i in range(m.start(), m.end()) if flat[i] == "@"]
        found.append((origin[m.start()][0], origin[m.end() - 1][1], ats))
    return found


def find_personal_data(text: str) -> list[tuple[str, int, int]]:
    """(kind, start, end) of every phone number, RRN and e-mail address in `text`."""
    spans = [(kind, positions[0], positions[-1] + 1) for kind, positions in _numbers(text)]
    spans += [("email", start, end) for start, end, _ in _emails(text)]
    return sorted(spans, key=lambda s: (s[1], s[2]))


@dataclass(frozen=True)
class Masked:
    text: str
    kinds: frozenset[str]

    @property
    def changed(self) -> bool:
        return bool(self.kinds)


def mask_personal_data(text: str) -> Masked:
    """Hide phone numbers, resident registration numbers and e-mail addresses.

    Each digit-like character of a number becomes `*` (separators stay); an e-mail keeps
    its first character and its at sign. Same length, idempotent, and the result contains
    nothing `find_personal_data` would find.
    """
    kinds: set[str] = set()
    for _ in range(4):  # masking one span can expose a neighbour; repeat to a fixed point
        chars = list(text)
        hits = 0
        for kind, positions in _numbers(text):
            for p in positions:
                chars[p] = "*"
            kinds.add(kind)
            hits += 1
        for start, end, ats in _emails(text):
            keep = {i for a, b in ats for i in range(a, b)} | {start}
            for i in range(start, end):
                if i not in keep and not chars[i].isspace():
                    chars[i] = "*"
            kinds.add("email")
            hits += 1
        text = "".join(chars)
        if not hits:
            break
    return Masked(text, frozenset(kinds))


def mask_for_publishing(text: str, confirmed: bool) -> str:
    """Text an official publishes under their name (answers, status notes): returned as is
    when it holds no personal data; masked when it does and the official has seen the
    warning (`confirmed`); otherwise `CommentRejected("personal_data")` carrying the masked
    text (`masked`) and the kinds found, so the page can show what would be published."""
    masked = mask_personal_data(text)
    if not masked.changed or confirmed:
        return masked.text
    kinds = [k for k in PERSONAL_DATA_KINDS if k in masked.kinds]
    raise CommentRejected(
        "personal_data",
        f"the text contains personal data ({', '.join(kinds)}); send it "
        "again with mask_personal_data: true to publish it masked",
        masked=masked.text,
        kinds=kinds,
    )


__all__ = [
    "PERSONAL_DATA_KINDS",
    "Masked",
    "find_personal_data",
    "mask_for_publishing",
    "mask_personal_data",
    "number_kind",
]
