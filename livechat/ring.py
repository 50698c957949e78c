"""A room's memory of its recent comments: backfill and resume without the database.

`CommentRing` holds every comment of one broadcast with `floor < id <= top`, in id order,
whatever its status: it is filled from the same `id > watermark` reads that feed the live
stream (so it has no gap), and told of every status change (removed, held, put back).
When the oldest entries fall out, `floor` rises; a question about ids at or below the floor
is answered `None`, and the caller asks the database instead.

Pure: no I/O, no clock. Statuses are the comment's own (`visible`, `held`, `removed`);
`reshown` marks comments a moderator put back (restored, approved, reinstated), which a
resuming page gets again.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable

from livechat.comment import Comment, CommentStatus, CommentWire

EARLY_LIMIT = 10_000


class RingEntry:
    __slots__ = ("author_key", "id", "reshown", "status", "wire")

    def __init__(self, comment: Comment, reshown: bool = False) -> None:
        self.id = comment.id
        self.status = comment.status
        self.author_key = comment.author_key
        self.wire: CommentWire = comment.wire()
        self.reshown = reshown


class CommentRing:
    """The last `capacity` comments of a broadcast (all statuses), gapless above `floor`."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.entries: collections.deque[RingEntry] = collections.deque()
        self._by_id: dict[int, RingEntry] = {}
        self.floor = 0  # every comment with floor < id <= top is here
        self.top = 0
        # Status changes of comments not read yet (the change overtook the read).
        self._early: dict[int, tuple[CommentStatus, bool]] = {}
        # Bumped by every change: an answer computed from the ring at another version is old.
        self.version = 0

    def load(
        self, latest: list[Comment], complete: bool, top: int, reshown: Iterable[int] = ()
    ) -> None:
        """Start from `latest` (oldest first): the newest comments up to `top`. `complete`:
        there is nothing older (else the floor is just below the oldest loaded)."""
        self.version += 1
        self.entries.clear()
        self._by_id.clear()
        again = set(reshown)
        for comment in latest:
            self._push(RingEntry(comment, comment.id in again))
        if complete or not latest:
            self.floor = 0 if complete else top
        else:
            self.floor = latest[0].id - 1
        self.top = max(top, latest[-1].id if latest else 0)
        self._trim()

    def extend(self, comments: Iterable[Comment]) -> None:
        """Append comments read with `id > top`, in id order."""
        self.version += 1
        for comment in comments:
            if comment.id <= self.top:
                raise ValueError(f"comment {comment.id} is not above the ring's top {self.top}")
            entry = RingEntry(comment)
            early = self._early.pop(comment.id, None) if self._early else None
            if early is not None:
                entry.status = early[0]
                entry.reshown = entry.reshown or early[1]
            self._push(entry)
            self.top = comment.id
        self._trim()

    def set_status(self, ids: Iterable[int], status: CommentStatus, reshown: bool = False) -> None:
        """A moderator (or the report threshold) changed these comments' status."""
        self.version += 1
        for comment_id in ids:
            entry = self._by_id.get(comment_id)
            if entry is not None:
                entry.status = status
                if reshown and status == CommentStatus.VISIBLE:
                    entry.reshown = True
            elif comment_id > self.top:
                if len(self._early) >= EARLY_LIMIT:
                    self._early.clear()  # bounded; the database read has the new status
                self._early[comment_id] = (status, reshown and status == CommentStatus.VISIBLE)

    def covers(self, after: int) -> bool:
        """Whether every comment with `id > after` (up to top) is here."""
        return after >= self.floor

    # -- questions a joining or resuming viewer asks -----------------------------------
    def visible_after(self, after: int, upto: int) -> list[CommentWire] | None:
        """Wire forms of visible comments with `after < id <= upto`, or None if the ring
        does not reach back to `after`."""
        if not self.covers(after):
            return None
        out = []
        for entry in self._from(after):
            if entry.id > upto:
                break
            if entry.status == CommentStatus.VISIBLE:
                out.append(entry.wire)
        return out

    def recent_visible(self, n: int, upto: int) -> list[CommentWire] | None:
        """The last `n` visible comments with id <= `upto` (oldest first), or None if the
        ring holds fewer and older ones may exist."""
        out: list[CommentWire] = []
        for entry in reversed(self.entries):
            if entry.id > upto:
                continue
            if entry.status == CommentStatus.VISIBLE:
                out.append(entry.wire)
                if len(out) == n:
                    break
        if len(out) < n and self.floor > 0:
            return None
        out.reverse()
        return out

    def latest(self, upto: int, window: int) -> list[RingEntry] | None:
        """The last `window` entries with id <= `upto`, oldest first, or None if the ring
        cannot tell (fewer here and older ones may exist)."""
        out: list[RingEntry] = []
        for entry in reversed(self.entries):
            if entry.id > upto:
                continue
            out.append(entry)
            if len(out) == window:
                break
        if len(out) < window and (self.floor > 0 or upto > self.top):
            return None
        out.reverse()
        return out

    def get(self, comment_id: int) -> RingEntry | None:
        return self._by_id.get(comment_id)

    def __len__(self) -> int:
        return len(self.entries)

    # -- internals -----------------------------------------------------------------------
    def _push(self, entry: RingEntry) -> None:
        self.entries.append(entry)
        self._by_id[entry.id] = entry

    def _trim(self) -> None:
        while len(self.entries) > self.capacity:
            gone = self.entries.popleft()
            del self._by_id[gone.id]
            self.floor = gone.id

    def _from(self, after: int) -> Iterable[RingEntry]:
        """Entries with id > after, in order (binary search on the deque's ids)."""
        entries = self.entries
        lo, hi = 0, len(entries)
        while lo < hi:
            mid = (lo + hi) // 2
            if entries[mid].id <= after:
                lo = mid + 1
            else:
                hi = mid
        for i in range(lo, len(entries)):
            yield entries[i]
