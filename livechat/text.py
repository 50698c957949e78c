"""Comment text: normalisation and validation (pure functions).

`clean_text` makes text safe to store and show: NFC, no control characters, no bidi
overrides or isolates, no runs of zero-width characters, no blank-line floods.
`validate_comment` cleans and then enforces the length limit, counted in characters a
person sees (grapheme clusters: 👍🏽, 👨‍👩‍👧 and decomposed Hangul each count once).
HTML is left as text: escaping is the renderer's job, never stripping's.
"""

from __future__ import annotations

import re
import unicodedata

# Bidi embeddings, overrides and isolates (Trojan Source), plus the Arabic letter mark.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c")
# Characters with no width; ZWJ is kept singly because emoji sequences need it.
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u180e\u3164\u115f\u1160\uffa0")
_MULTI_ZERO_WIDTH = re.compile("[" + "".join(sorted(ZERO_WIDTH)) + "]{2,}")
_DROP_ZERO_WIDTH = re.compile("[\u200b\u2060\ufeff\u180e\u3164\u115f\u1160\uffa0]")
_BLANK_LINES = re.compile(r"\n{3,}")
_SPACES = re.compile(r"[ \t\u00a0\u3000]{4,}")


class CommentRejected(ValueError):
    """The text cannot be accepted; `code` is stable, the message says why."""

    def __init__(self, code: str, message: str, **extra: object) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra  # e.g. retry_after, until: sent along in the error frame


def clean_text(raw: str) -> str:
    """Normalise `raw` (NFC) and remove what must never be shown. Idempotent."""
    text = unicodedata.normalize("NFC", raw.replace("\r\n", "\n").replace("\r", "\n"))
    out = []
    for ch in text:
        if ch == "\n" or ch == "\t":
            out.append(ch)
            continue
        if ch in BIDI_CONTROLS:
            continue
        cat = unicodedata.category(ch)
        if cat == "Cc" or cat == "Cs" or cat == "Co" or cat == "Cn":
            continue
        if (
            cat == "Cf"
            and ch not in ZERO_WIDTH
            and ch not in "\u00ad\ufe0f\ufe0e"
            and not ("\U000e0020" <= ch <= "\U000e007f")  # emoji tag sequences
        ):
            continue  # other format characters, e.g. invisible operators
        out.append(ch)
    text = "".join(out)
    text = _MULTI_ZERO_WIDTH.sub("", text)
    text = _DROP_ZERO_WIDTH.sub("", text)
    text = text.replace("\t", " ")
    text = _BLANK_LINES.sub("\n\n", text)
    text = _SPACES.sub("   ", text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return unicodedata.normalize("NFC", text.strip())


def grapheme_count(text: str) -> int:
    """Characters a person sees: extended grapheme clusters (a close approximation of UAX #29
    without a dependency: combining marks, variation selectors, emoji modifiers, ZWJ
    sequences, regional-indicator pairs and Hangul jamo sequences join the previous one)."""
    count = 0
    prev = ""
    joiner = False
    regional_open = False
    for ch in text:
        cp = ord(ch)
        extends = (
            unicodedata.combining(ch) != 0
            or unicodedata.category(ch) in ("Mn", "Me", "Mc")
            or 0xFE00 <= cp <= 0xFE0F
            or 0x1F3FB <= cp <= 0x1F3FF
            or 0xE0020 <= cp <= 0xE007F
            or ch == "\u200d"
            or (0x1160 <= cp <= 0x11FF and prev != "" and 0x1100 <= ord(prev[-1]) <= 0x11FF)
            or (0x1160 <= cp <= 0x11FF and prev != "" and 0xAC00 <= ord(prev[-1]) <= 0xD7A3)
        )
        is_regional = 0x1F1E6 <= cp <= 0x1F1FF
        if count and (extends or joiner):
            pass
        elif is_regional and regional_open:
            regional_open = False
            prev = ch
            joiner = False
            continue
        else:
            count += 1
            regional_open = is_regional
        joiner = ch == "\u200d"
        prev = ch
    return count


def validate_comment(raw: object, max_chars: int) -> str:
    """Return the cleaned text, or raise `CommentRejected` with a precise code."""
    if not isinstance(raw, str):
        raise CommentRejected("bad_field", "text must be a string")
    text = clean_text(raw)
    if not text:
        raise CommentRejected("empty", "the comment is empty")
    length = grapheme_count(text)
    if length > max_chars:
        raise CommentRejected(
            "too_long", f"the comment has {length} characters; at most {max_chars} are allowed"
        )
    return text
