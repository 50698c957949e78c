"""Moderation rules as pure functions: matching blocked words, masking personal data.

`fold` turns text into the form blocked words are matched in, so that spacing,
punctuation, zero-width characters, full-width forms, look-alike letters (Cyrillic,
Greek, digits, `@`) and Hangul spellings (jamo typed alone, tense consonants, liaison, a
digit slipped between syllables) do not slip through. `Blocklist` compiles a list of words
once and says which word, if any, a text contains. Matching holds a comment for review;
it never removes one, so a rare false positive costs a moderator one keystroke.

Personal data (phone numbers, RRNs, e-mail addresses) is found and masked by
`livechat.personal_data`; its names are re-exported here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from livechat.personal_data import (
    PERSONAL_DATA_KINDS,
    Masked,
    find_personal_data,
    mask_personal_data,
)


class Reason(StrEnum):
    """Why a moderator acted (stored in the audit log and on restrictions)."""

    SPAM = "spam"
    ABUSE = "abuse"
    PERSONAL_DATA = "personal_data"
    OFF_TOPIC = "off_topic"
    OTHER = "other"  # needs a short text
    REPORTS = "reports"  # not chosen by a moderator: hidden automatically by reports


# The reasons a moderator may choose, in the order the console lists them.
REASONS: tuple[Reason, ...] = tuple(r for r in Reason if r is not Reason.REPORTS)
REASON_TEXT_MAX = 200

# Look-alikes folded to ASCII letters after NFKD and casefold (Cyrillic, Greek, leet).
_LOOKALIKE = {
    # Cyrillic
    "а": "a",
    "в": "b",
    "е": "e",
    "ё": "e",
    "з": "3",
    "и": "u",
    "і": "i",
    "ї": "i",
    "ј": "j",
    "к": "k",
    "м": "m",
    "н": "h",
    "о": "o",
    "п": "n",
    "р": "p",
    "с": "c",
    "т": "t",
    "у": "y",
    "х": "x",
    "ѕ": "s",
    "ԁ": "d",
    "ԛ": "q",
    "ԝ": "w",
    "ь": "b",
    # Greek
    "α": "a",
    "β": "b",
    "γ": "y",
    "δ": "d",
    "ε": "e",
    "η": "n",
    "ι": "i",
    "κ": "k",
    "ν": "v",
    "ο": "o",
    "ρ": "p",
    "τ": "t",
    "υ": "u",
    "χ": "x",
    "ω": "w",
    "μ": "u",
    "ς": "s",
    "σ": "o",
    # Armenian
    "ս": "u",
    "օ": "o",
    "հ": "h",
    "ո": "n",
    # digits and symbols used as letters
    "0": "o",
    "1": "i",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "8": "b",
    "@": "a",
    "$": "s",
    "!": "i",
    "|": "i",
    "+": "t",
    "€": "e",
    "£": "l",
    # letters that stand in for each other in evasions
    "l": "i",
}
_LOOKALIKE["з"] = "e"  # Cyrillic ze reads as 3, and 3 as e

_L_FIRST, _L_LAST = 0x1100, 0x1112  # modern initial consonants
_V_FIRST, _V_LAST = 0x1161, 0x1175  # modern vowels
_T_FIRST, _T_LAST = 0x11A8, 0x11C2  # modern final consonants

# Tense consonants to plain ones, ㅐ to ㅔ, ㅒ to ㅖ: spellings people swap freely.
_JAMO_FOLD = {
    "\u1101": "\u1100",
    "\u1104": "\u1103",
    "\u1108": "\u1107",
    "\u110a": "\u1109",
    "\u110d": "\u110c",
    "\u11a9": "\u11a8",
    "\u11bb": "\u11ba",
    "\u1162": "\u1166",
    "\u1164": "\u1168",
}
# A final consonant followed by silent ㅇ is read as the next initial: 십알 sounds 시발.
_FINAL_TO_INITIAL = {
    "\u11a8": "\u1100",
    "\u11ab": "\u1102",
    "\u11ae": "\u1103",
    "\u11af": "\u1105",
    "\u11b7": "\u1106",
    "\u11b8": "\u1107",
    "\u11ba": "\u1109",
    "\u11bd": "\u110c",
    "\u11be": "\u110e",
    "\u11bf": "\u110f",
    "\u11c0": "\u1110",
    "\u11c1": "\u1111",
    "\u11c2": "\u1112",
}
_SILENT_INITIAL = "\u110b"
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0")  # Hangul fillers: blank, not letters


def _is_jamo(ch: str) -> bool:
    return 0x1100 <= ord(ch) <= 0x11FF


def _is_vowel(ch: str) -> bool:
    return _V_FIRST <= ord(ch) <= _V_LAST


def _script(ch: str) -> str:
    if "a" <= ch <= "z":
        return "latin"
    if _is_jamo(ch):
        return "hangul"
    return "other"


def _fold_once(text: str) -> str:
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    kept: list[str] = []
    for ch in text:
        if ch in _FILLERS:
            continue
        ch = _LOOKALIKE.get(ch, ch)
        if ch == "3":
            ch = "e"
        if "a" <= ch <= "z" or _is_jamo(ch):
            kept.append(_JAMO_FOLD.get(ch, ch))
        elif unicodedata.category(ch).startswith("L") and not ch.isascii():
            kept.append(ch)
        # everything else (spaces, punctuation, marks, zero-width, other digits) goes
    out: list[str] = []
    for ch in kept:
        if out and out[-1] == ch:
            continue  # fuuuck, ㅅㅅㅂ: runs count once
        out.append(ch)
    return "".join(out)


def _liaison(folded: str) -> str:
    """Read a final consonant before a silent ㅇ as the next initial (십알 → 시발).

    Only a second view for matching: applied to every text it would hide 시발 in 시발이."""
    out: list[str] = []
    for i, ch in enumerate(folded):
        if (
            ch == _SILENT_INITIAL
            and out
            and out[-1] in _FINAL_TO_INITIAL
            and i + 1 < len(folded)
            and _is_vowel(folded[i + 1])
        ):
            out[-1] = _FINAL_TO_INITIAL[out[-1]]
            continue
        out.append(ch)
    return "".join(out)


def fold(text: str) -> str:
    """The matching form of `text`: lower-case ASCII letters, Hangul jamo, other letters.

    Idempotent: `fold(fold(t)) == fold(t)`.
    """
    for _ in range(8):
        folded = _fold_once(text)
        if folded == text:
            break
        text = folded
    return text


def _syllables(folded: str) -> list[str] | None:
    """Split folded jamo into syllables (initial, vowel, optional final), or None."""
    out: list[str] = []
    i = 0
    while i < len(folded):
        ch = folded[i]
        if not (_L_FIRST <= ord(ch) <= _L_LAST) or i + 1 >= len(folded):
            return None
        if not _is_vowel(folded[i + 1]):
            return None
        end = i + 2
        if end < len(folded) and _T_FIRST <= ord(folded[end]) <= _T_LAST:
            end += 1
        out.append(folded[i:end])
        i = end
    return out


_VOWELS = f"[{chr(_V_FIRST)}-{chr(_V_LAST)}]"


def _word_pattern(folded: str) -> str:
    """A regex over the Hangul view: each syllable written out, or just its initial
    consonant typed alone (ㅅㅂ), once the word has two syllables or more."""
    syllables = _syllables(folded)
    if syllables is None or len(syllables) < 2:
        return re.escape(folded)
    parts = [f"(?:{re.escape(s)}|{re.escape(s[0])}(?!{_VOWELS}))" for s in syllables]
    return "".join(parts)


@dataclass(frozen=True)
class _Compiled:
    word: str
    scripts: frozenset[str]
    pattern: re.Pattern[str]


class Blocklist:
    """Blocked words compiled once; `match(text)` names the first word found, or None."""

    def __init__(self, words: list[str] | tuple[str, ...] = ()) -> None:
        compiled: list[_Compiled] = []
        for word in words:
            folded = fold(word)
            if not folded:
                continue
            scripts = frozenset(_script(ch) for ch in folded)
            pattern = _word_pattern(folded) if scripts == {"hangul"} else re.escape(folded)
            compiled.append(_Compiled(word, scripts, re.compile(pattern)))
        self._words = tuple(compiled)

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(c.word for c in self._words)

    def match(self, text: str) -> str | None:
        if not self._words:
            return None
        folded = fold(text)
        texts = (folded, _liaison(folded))
        views: dict[frozenset[str], tuple[str, ...]] = {}
        for entry in self._words:
            found = views.get(entry.scripts)
            if found is None:
                found = tuple(
                    "".join(ch for ch in t if _script(ch) in entry.scripts) for t in texts
                )
                views[entry.scripts] = found
            if any(entry.pattern.search(view) for view in found):
                return entry.word
        return None


def blocked_word_key(word: str) -> str:
    """The form a blocked word is stored under (two spellings of one word are one entry)."""
    return fold(word)


# -- reasons ------------------------------------------------------------------------


class ReasonError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def parse_reason(reason: object, reason_text: object = "") -> tuple[Reason, str]:
    """Validate a reason from the list (spam, abuse, personal_data, off_topic, other);
    `other` needs a short text. Returns (reason, text)."""
    if not isinstance(reason, str) or reason not in REASONS:
        raise ReasonError("reason", f"must be one of {', '.join(REASONS)}")
    if reason_text is None:
        reason_text = ""
    if not isinstance(reason_text, str):
        raise ReasonError("reason_text", "must be a string")
    text = " ".join(reason_text.split())
    if len(text) > REASON_TEXT_MAX:
        raise ReasonError("reason_text", f"at most {REASON_TEXT_MAX} characters")
    if reason == Reason.OTHER and not text:
        raise ReasonError("reason_text", "say why when the reason is `other`")
    return Reason(reason), text


__all__ = [
    "PERSONAL_DATA_KINDS",
    "REASONS",
    "Blocklist",
    "Masked",
    "Reason",
    "ReasonError",
    "blocked_word_key",
    "find_personal_data",
    "fold",
    "mask_personal_data",
    "parse_reason",
]
