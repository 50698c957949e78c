"""Comment text: normalisation and validation (pure functions).

`clean_text` makes text safe to store and show: NFC, one kind of line break, no control
characters, no bidi overrides or isolates, no invisible padding, no blank-line floods.
Invisible characters survive only where they change what a person sees:

- ZWJ (U+200D) singly between two pictographs (👨‍👩‍👧, 🏳️‍🌈) or between a letter or mark and a
  letter (Indic conjuncts such as Sinhala ශ්‍රී); ZWNJ (U+200C) singly between a letter or mark
  and a letter (Persian می‌خواهم). A run of two or more joiners is removed entirely, even
  when separated only by other invisible characters.
- Tag characters (U+E0020–U+E007F) only in the three flags Unicode recommends (RGI):
  U+1F3F4, the tags `gbeng`, `gbsct` or `gbwls`, then U+E007F CANCEL TAG (🏴󠁧󠁢󠁥󠁮󠁧󠁿). Anywhere
  else they are hidden text (a black flag with invisible tags after it).
- Variation selectors only right after a base character, one per base (❤️, 1️⃣).
- At most `MAX_MARKS_PER_CHAR` combining marks per character (Thai and Vietnamese need
  two or three; Zalgo needs hundreds).
- Soft hyphens, word joiners, ZWSP, BOM, CGJ, Hangul fillers and every other format
  character are dropped: they only hint at line breaking or are there to hide or pad.

`validate_comment` cleans, refuses text with nothing visible, then enforces the length
limit, counted in characters a person sees (grapheme clusters: 👍🏽, 👨‍👩‍👧 and decomposed
Hangul each count once), and a hard bound on code points so that no small count carries a
large payload. HTML is left as text: escaping is the renderer's job, never stripping's.
"""

from __future__ import annotations

import re
import unicodedata

import regex

# Bidi embeddings, overrides and isolates (Trojan Source), plus the Arabic letter mark.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c")
# Every way to break a line (those of `str.splitlines`): one line means none of these.
LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
# Blank characters: whitespace a renderer draws as nothing, including the braille blank.
BLANKS = " \t\u00a0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u202f\u205f\u3000\u2800"
# Not format characters, yet invisible and of no use in a comment: combining grapheme
# joiner, Hangul fillers, Khmer inherent vowels.
INVISIBLE_LETTERS = frozenset("\u034f\u115f\u1160\u3164\uffa0\u17b4\u17b5")
ZWJ = "\u200d"
ZWNJ = "\u200c"
# One extended grapheme cluster (UAX #29).
_GRAPHEME = regex.compile(r"\X")
MAX_MARKS_PER_CHAR = 4
# A comment may not have more code points than this many per allowed character.
MAX_CODE_POINTS_PER_CHAR = 4

_CANCEL_TAG = "\U000e007f"
# A subdivision flag (kept, group 1) or any other tag character (hidden text, removed).
_TAG = re.compile(
    "(\U0001f3f4\U000e0067\U000e0062(?:\U000e0065\U000e006e\U000e0067"
    "|\U000e0073\U000e0063\U000e0074|\U000e0077\U000e006c\U000e0073)\U000e007f)"
    "|[\U000e0000-\U000e007f]"
)
_LINE_BREAK_TO_NEWLINE = str.maketrans({"\r": "\n", "\u2028": "\n", "\u2029": "\n"})
_BLANK_LINES = re.compile(r"\n{3,}")
_SPACES = re.compile("[" + BLANKS.replace("\t", "") + "]{4,}")
# Code-point ranges that (approximately) make up Extended_Pictographic.
_PICTOGRAPHIC_RANGES = (
    (0x2190, 0x21FF),
    (0x2300, 0x23FF),
    (0x25A0, 0x27BF),
    (0x2900, 0x297F),
    (0x2B00, 0x2BFF),
    (0x1F000, 0x1FAFF),
)
_PICTOGRAPHIC_SINGLES = frozenset("\u00a9\u00ae\u203c\u2049\u2122\u2139\u3030\u303d\u3297\u3299")
# Cleaning converges in one pass almost always; the loop is a guarantee of idempotence.
_MAX_PASSES = 8


class CommentRejected(ValueError):
    """The text cannot be accepted; `code` is stable, the message says why."""

    def __init__(self, code: str, message: str, **extra: object) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra  # e.g. retry_after, until: sent along in the error frame


def is_pictographic(ch: str) -> bool:
    """Whether `ch` is an emoji-like pictograph (approximately Extended_Pictographic)."""
    cp = ord(ch)
    return ch in _PICTOGRAPHIC_SINGLES or any(
        low <= cp <= high for low, high in _PICTOGRAPHIC_RANGES
    )


def is_variation_selector(ch: str) -> bool:
    """Standard (VS1–VS16), ideographic (VS17–VS256) and Mongolian variation selectors."""
    cp = ord(ch)
    return 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF or 0x180B <= cp <= 0x180F


def is_visible(ch: str) -> bool:
    """Whether `ch` draws something by itself: not a space, control, format character,
    combining mark (with or without a base) or blank such as U+2800 or a Hangul filler."""
    return (
        unicodedata.category(ch)[0] not in "ZCM"
        and ch not in BLANKS
        and ch not in INVISIBLE_LETTERS
    )


def has_visible(text: str) -> bool:
    """Whether a person would see anything at all in `text`."""
    return any(is_visible(ch) for ch in text)


def _always_dropped(ch: str) -> bool:
    """Characters removed wherever they are (the joiners and tags are judged in context)."""
    if ch == "\n" or ch == "\t":
        return False
    if ch in BIDI_CONTROLS or ch in INVISIBLE_LETTERS:
        return True
    cat = unicodedata.category(ch)
    if cat == "Cf":
        return ch != ZWJ and ch != ZWNJ and not "\U000e0000" <= ch <= "\U000e007f"
    return cat in ("Cc", "Cs", "Co", "Cn")


def _is_letter_or_mark(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LM"


def _joiner_kept(joiner: str, before: list[str], after: str) -> bool:
    """A ZWJ or ZWNJ stays only where it changes rendering (see the module docstring)."""
    if not before or not after:
        return False
    prev = before[-1]
    if unicodedata.category(after)[0] == "L" and _is_letter_or_mark(prev):
        return True
    if joiner != ZWJ:
        return False
    if prev in "\ufe0e\ufe0f" and len(before) > 1:
        prev = before[-2]  # 🏳️‍🌈: the joiner follows the flag's emoji presentation selector
    return (is_pictographic(prev) or prev == _CANCEL_TAG) and is_pictographic(after)


def _is_base(ch: str) -> bool:
    """Whether a variation selector may follow `ch`."""
    return unicodedata.category(ch)[0] not in "MCZ" and ch not in BLANKS


def _filter_invisible(text: str) -> str:
    """Drop invisible characters except where they belong (joiners, selectors; tags are
    already gone outside flags), and combining marks beyond `MAX_MARKS_PER_CHAR` on one
    character."""
    out: list[str] = []
    marks = 0  # combining marks kept since the last non-mark character
    for i, ch in enumerate(text):
        if ch in (ZWJ, ZWNJ):
            alone = text[i - 1 : i] not in (ZWJ, ZWNJ)  # a run of joiners goes entirely
            if alone and _joiner_kept(ch, out, text[i + 1 : i + 2]):
                out.append(ch)
                marks = 0
        elif unicodedata.category(ch)[0] == "M":
            if marks >= MAX_MARKS_PER_CHAR:
                continue
            if is_variation_selector(ch) and not (out and _is_base(out[-1])):
                continue
            out.append(ch)
            marks += 1
        else:
            out.append(ch)
            marks = 0
    return "".join(out)


def _clean_once(raw: str) -> str:
    text = raw.replace("\r\n", "\n").translate(_LINE_BREAK_TO_NEWLINE)
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if not _always_dropped(ch))
    text = _TAG.sub(lambda m: m.group(1) or "", text)
    text = _filter_invisible(text).replace("\t", " ")
    text = "\n".join(line.rstrip(BLANKS) for line in text.split("\n"))
    text = _BLANK_LINES.sub("\n\n", text)
    text = _SPACES.sub("   ", text)
    return unicodedata.normalize("NFC", text.strip(BLANKS + "\n"))


def clean_text(raw: str) -> str:
    """Normalise `raw` (NFC) and remove what must never be shown (see the module
    docstring). Idempotent: it repeats one cleaning pass until nothing changes, because a
    removal can make neighbours meet (marks that then compose, a joiner that loses its
    letter)."""
    text = _clean_once(raw)
    for _ in range(_MAX_PASSES):
        again = _clean_once(text)
        if again == text:
            break
        text = again
    return text


def one_line(raw: str) -> str:
    """`raw` cleaned like comment text (`clean_text`), its blanks and breaks one space: the
    one way text is put on a single line (search input, filters, share titles)."""
    return " ".join(clean_text(raw).split())


def grapheme_count(text: str) -> int:
    """Characters a person sees: extended grapheme clusters (UAX #29, the `regex` module's
    `\\X`), the same segmentation as the browser's `Intl.Segmenter`, so the server and the
    comment box agree on the length limit (tests/e2e/test_grapheme_agreement.py)."""
    return len(_GRAPHEME.findall(text))


def validate_comment(raw: object, max_chars: int) -> str:
    """Return the cleaned text, or raise `CommentRejected` with a precise code: `bad_field`
    (not a string), `empty` (nothing visible once cleaned) or `too_long` (more than
    `max_chars` characters, or more than `MAX_CODE_POINTS_PER_CHAR` code points each)."""
    if not isinstance(raw, str):
        raise CommentRejected("bad_field", "text must be a string")
    text = clean_text(raw)
    if not has_visible(text):
        if not raw.strip():
            raise CommentRejected("empty", "the comment is empty")
        raise CommentRejected(
            "empty",
            "the comment has no visible characters (only blanks, combining marks or "
            "invisible formatting characters)",
        )
    length = grapheme_count(text)
    if length > max_chars:
        raise CommentRejected(
            "too_long", f"the comment has {length} characters; at most {max_chars} are allowed"
        )
    bound = max_chars * MAX_CODE_POINTS_PER_CHAR
    if len(text) > bound:
        raise CommentRejected(
            "too_long",
            f"the comment has {len(text)} code points (accents, emoji parts); at most {bound} "
            "are allowed",
        )
    return text
