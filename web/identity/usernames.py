"""Staff usernames: the one normalised form every lookup and limit is keyed on, and the
look-alike skeleton that keeps two accounts from wearing the same name.

Pure functions. `username_key` is what a login means by a name: NFKC (full-width and
compatibility forms become their plain letters; U+3000 becomes a space), trimmed,
case-folded. `username_skeleton` folds further what a reader cannot tell apart (``0``/``o``,
``1``/``l``/``i``, ``rn``/``m``, ``vv``/``w``, separators): two names with the same skeleton
would let one person pass for another in the audit log and the staff bar, so creating the
second is refused. Letters are limited to Latin and Hangul syllables: a Cyrillic ``о`` or a
Greek ``ο`` inside a Latin name is the look-alike no table of ours could list completely.
"""

from __future__ import annotations

import re
import unicodedata

USERNAME_MIN, USERNAME_MAX = 2, 40
# After NFKC and case folding: ASCII lower-case letters, digits, '.', '_' and Hangul syllables.
_ALLOWED = re.compile(r"[a-z0-9._\uac00-\ud7a3]+")
_CONFUSABLE_PAIRS = (("rn", "m"), ("vv", "w"), ("cl", "d"))
_CONFUSABLE_CHARS = str.maketrans(
    {"0": "o", "1": "l", "i": "l", "|": "l", "5": "s", "8": "b", ".": None, "_": None}
)


class UsernameError(ValueError):
    """A name that cannot be a staff username, with the reason in words."""


def username_key(raw: str) -> str:
    """The form every lookup and every login limit uses: NFKC, trimmed, case-folded (and
    NFKC again: case folding can leave a decomposed letter, so a key is its own key)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", raw).strip().casefold())


def username_skeleton(key: str) -> str:
    """What `key` looks like to a reader: look-alike letters and separators folded."""
    folded = key.translate(_CONFUSABLE_CHARS)
    for pair, single in _CONFUSABLE_PAIRS:
        folded = folded.replace(pair, single)
    return folded


def validate_username(raw: str) -> str:
    """The username to store for `raw` (NFKC and trimmed, case kept), or `UsernameError`."""
    name = unicodedata.normalize("NFKC", raw).strip()
    key = name.casefold()
    if not USERNAME_MIN <= len(name) <= USERNAME_MAX or not _ALLOWED.fullmatch(key):
        raise UsernameError(
            f"{USERNAME_MIN}–{USERNAME_MAX} Latin letters, Hangul, digits, '.' or '_'"
        )
    if not any(ch.isalnum() for ch in key):
        raise UsernameError("must contain a letter or a digit")
    return name
