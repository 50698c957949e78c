"""Who may take part in a broadcast's chat, chosen by the operator per broadcast.

Comments are open to anyone with a nickname or to signed-in accounts only; questions and
votes may require an account separately (a city may want one vote per real account).
"Closed" is the chat's existing `closed` switch (`chat_settings`). Staff and signed-in
members always qualify; only guests (`Identity.is_guest`) are ever refused here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from db import Database
from livechat.comment import CommentFlag
from livechat.identity import Identity
from livechat.plugins import PostDecision
from livechat.text import CommentRejected

# A change reaches every process within this many seconds (each caches what it read).
ACCESS_CACHE_SECONDS = 2.0


@dataclass(frozen=True)
class CommentAccess:
    accounts_only: bool = False
    questions_need_account: bool = False
    votes_need_account: bool = False

    def public(self) -> dict[str, bool]:
        return {
            "accounts_only": self.accounts_only,
            "questions_need_account": self.questions_need_account,
            "votes_need_account": self.votes_need_account,
        }


def check_post(access: CommentAccess, author: Identity, question: bool) -> None:
    """Raise `CommentRejected("sign_in_required")` when a guest may not post this."""
    if not author.is_guest:
        return
    if access.accounts_only:
        raise CommentRejected(
            "sign_in_required", "this broadcast takes comments from signed-in accounts only"
        )
    if question and access.questions_need_account:
        raise CommentRejected(
            "sign_in_required", "this broadcast takes questions from signed-in accounts only"
        )


def check_vote(access: CommentAccess, voter: Identity) -> None:
    if voter.is_guest and access.votes_need_account:
        raise CommentRejected(
            "sign_in_required", "this broadcast counts votes from signed-in accounts only"
        )


class AccessStore:
    """`comment_access` rows, read through a short per-process cache."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: dict[int, tuple[float, CommentAccess]] = {}

    async def get(self, broadcast_id: int) -> CommentAccess:
        now = time.monotonic()
        cached = self._cache.get(broadcast_id)
        if cached is not None and now - cached[0] < ACCESS_CACHE_SECONDS:
            return cached[1]
        row = await self.db.fetchone(
            "SELECT accounts_only, questions_need_account, votes_need_account"
            " FROM comment_access WHERE broadcast_id = ?",
            (broadcast_id,),
        )
        access = CommentAccess(*(bool(row[i]) for i in range(3))) if row else CommentAccess()
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[broadcast_id] = (now, access)
        return access

    async def set(self, broadcast_id: int, access: CommentAccess) -> None:
        await self.db.execute(
            "INSERT INTO comment_access (broadcast_id, accounts_only,"
            " questions_need_account, votes_need_account) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (broadcast_id) DO UPDATE SET accounts_only = excluded.accounts_only,"
            " questions_need_account = excluded.questions_need_account,"
            " votes_need_account = excluded.votes_need_account",
            (
                broadcast_id,
                int(access.accounts_only),
                int(access.questions_need_account),
                int(access.votes_need_account),
            ),
        )
        self._cache[broadcast_id] = (time.monotonic(), access)

    async def check_post(
        self, broadcast_id: int, author: Identity, client_id: str, decision: PostDecision
    ) -> None:
        """The hub policy: guests are refused where the operator asked for accounts."""
        if author.is_guest:
            check_post(await self.get(broadcast_id), author, CommentFlag.QUESTION in decision.flags)


def access_from_json(data: dict[str, Any], current: CommentAccess) -> CommentAccess:
    """Apply the booleans present in `data` to `current`; `ValueError` names a bad field."""
    values = current.public()
    for name in values:
        if name in data:
            if not isinstance(data[name], bool):
                raise ValueError(name)
            values[name] = data[name]
    return CommentAccess(**values)
