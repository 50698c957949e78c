"""Catalog search text, pure: what is indexed and how a user's query becomes SQL.

Two FTS5 indexes cover every substring of any length:

* `replay_fts` uses the `trigram` tokenizer, so a term of three or more characters matches
  anywhere inside a word ("청책토론" inside "청책토론회를", "traffic" inside "Traffic-calming").
* Trigrams cannot find one or two characters ("교통" inside "교통정책"), so `replay_grams`
  indexes every run of letters and digits as its overlapping two-character pieces plus its
  last character ("교통정책" -> "교통 통정 정책 책"). A two-character term is one of those
  tokens; a one-character term is a prefix query (`"책"*`) that meets the piece it starts
  or the last character.
* A one- or two-character term with punctuation in it (`:)`, `*`, `"`) is rare and has no
  index: it is matched with `LIKE`, escaped.

Korean is written with and without spaces ("보행 친화", "보행친화"). Terms are ANDed, so a
query with spaces finds text without them; for the other way round the document carries
the title, category, staff and chapter titles a second time with their spaces removed
(`squash`), so "보행친화" is a substring of the indexed text of "보행 친화" too.

PostgreSQL (`postgres_match`) answers the same plan from one `replay_search` row per
replay: the document under a `pg_trgm` GIN index, searched with `LIKE '%term%'` (the index
serves terms of three or more characters, as trigrams do in FTS5), and the same bigram
pieces as a tsvector of exact lexemes (`array_to_tsvector`, no parser or stemming) under a
GIN index: a two-character term is the lexeme, a one-character term the prefix `'책':*`.

Every term is quoted as an FTS5 string, so user text never reaches the query syntax:
`AND`, `NEAR`, `*`, `^`, `:`, parentheses and quotes are searched as the text they are.
Terms are ANDed. Text is NFKC-normalised and lower-cased on both sides.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MAX_QUERY_CHARS = 200
MAX_TERMS = 10
_WORD = re.compile(r"[^\W_]+")


class QueryError(ValueError):
    """The search text cannot be used (too long, too many terms)."""


def normalize(text: str) -> str:
    """NFKC (full-width Latin becomes ASCII, Hangul composed) and lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def squash(text: str) -> str:
    """Normalised, with every space removed: the form spacing differences cannot change."""
    return "".join(normalize(text).split())


def terms(query: str) -> tuple[str, ...]:
    """The distinct whitespace-separated terms of `query`, normalised, in order."""
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"at most {MAX_QUERY_CHARS} characters")
    if any(unicodedata.category(ch) == "Cc" and not ch.isspace() for ch in query):
        # A NUL ends an FTS5 string early (SQLite reads C strings). Callers clean search
        # input like comment text (web.http.requests.search_text); this is the core's guard.
        raise QueryError("control characters are not searchable")
    seen: dict[str, None] = {}
    for term in normalize(query).split():
        seen.setdefault(term, None)
    if len(seen) > MAX_TERMS:
        raise QueryError(f"at most {MAX_TERMS} words")
    return tuple(seen)


def document(
    title: str, description: str, category: str, staff: Iterable[str], chapter_titles: Iterable[str]
) -> str:
    """The text a replay is found by: one line per field, then the title, category,
    staff and chapter titles once more without their spaces."""
    parts = [title, description, category, " ".join(staff), " ".join(chapter_titles)]
    spaced = [normalize(p) for p in parts]
    # Not the description: it is most of the text, and doubling it would double the
    # posting lists every common word walks (names are what people type without spaces).
    short = [spaced[0], *spaced[2:]]
    return "\n".join([*spaced, *(squash(p) for p in short if " " in p.strip())])


def grams(text: str) -> str:
    """Two-character pieces and the last character of each word, space-separated."""
    out: list[str] = []
    for word in _WORD.findall(normalize(text)):
        out.extend(word[i : i + 2] for i in range(len(word) - 1))
        out.append(word[-1])
    return " ".join(out)


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def like_pattern(term: str) -> str:
    """`%term%` for `LIKE … ESCAPE '\\'`, with the wildcards in `term` escaped."""
    return _like(term)


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True, slots=True)
class SearchPlan:
    """How the terms are matched: an FTS5 expression per index, LIKE patterns for the rest."""

    trigram: str | None = None
    bigram: str | None = None
    like: tuple[str, ...] = ()
    long: tuple[str, ...] = ()  # the terms behind `trigram`, as typed (normalised)
    short: tuple[str, ...] = ()  # the terms behind `bigram`

    @property
    def empty(self) -> bool:
        return self.trigram is None and self.bigram is None and not self.like


def plan(query_terms: Sequence[str]) -> SearchPlan:
    """Split terms between the indexes (see the module docstring)."""
    long, short, odd = [], [], []
    for term in query_terms:
        if len(term) >= 3:
            long.append(term)
        elif _WORD.fullmatch(term):
            short.append(term)
        else:
            odd.append(_like(term))
    return SearchPlan(
        trigram=" AND ".join(_quote(t) for t in long) or None,
        bigram=" AND ".join(_quote(t) + ("*" if len(t) == 1 else "") for t in short) or None,
        like=tuple(odd),
        long=tuple(long),
        short=tuple(short),
    )


def _lexeme(term: str) -> str:
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def tsquery(short_terms: Sequence[str]) -> str:
    """The tsquery text for one- and two-character terms: each a lexeme of the bigram
    tsvector, a one-character term as a prefix (`'책':*`), all ANDed."""
    return " & ".join(_lexeme(t) + (":*" if len(t) == 1 else "") for t in short_terms)


def postgres_match(found: SearchPlan) -> tuple[list[str], list[object]]:
    """WHERE clauses on `r.id` (and their parameters) that match `found` on PostgreSQL."""
    conditions: list[str] = []
    params: list[object] = []
    for pattern in [*(_like(t) for t in found.long), *found.like]:
        conditions.append("document LIKE ? ESCAPE '\\'")
        params.append(pattern)
    if found.short:
        conditions.append("grams @@ CAST(CAST(? AS text) AS tsquery)")
        params.append(tsquery(found.short))
    if not conditions:
        return [], []
    return (
        [f"r.id IN (SELECT replay_id FROM replay_search WHERE {' AND '.join(conditions)})"],
        params,
    )
