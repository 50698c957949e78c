"""Related replays, pure: same category and staff first, then text similarity."""

from __future__ import annotations

from collections.abc import Iterable

from replay.models import Replay
from replay.search import normalize


def shingles(text: str) -> frozenset[str]:
    """Character trigrams (bigrams for very short words) of the words of `text`."""
    out: set[str] = set()
    for word in normalize(text).split():
        size = 3 if len(word) >= 3 else len(word)
        out.update(word[i : i + size] for i in range(len(word) - size + 1))
    return frozenset(out)


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the shingles of two texts, 0..1."""
    left, right = shingles(a), shingles(b)
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


def rank(replay: Replay, candidates: Iterable[Replay], limit: int) -> list[Replay]:
    """The `limit` candidates most related to `replay`, best first.

    Order: same category *and* shared staff, then either, then by title-and-description
    similarity, then newest. Never `replay` itself, never an unlisted replay.
    """
    text = f"{replay.title} {replay.description}"
    staff = set(replay.staff)

    def score(other: Replay) -> tuple[int, int, float, float]:
        same_category = bool(replay.category) and other.category == replay.category
        shared = len(staff & set(other.staff))
        tier = 2 if same_category and shared else 1 if same_category or shared else 0
        sim = similarity(text, f"{other.title} {other.description}")
        return tier, shared, sim, other.aired_at.timestamp()

    unique = {c.id: c for c in candidates if c.id != replay.id and c.listed}
    return sorted(unique.values(), key=score, reverse=True)[:limit]
