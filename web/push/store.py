"""Push subscriptions and reminders (tables `push_subscriptions`, `push_reminders`, web
migration 4).

A subscription row is the browser's endpoint and keys, the session that made it (if any,
so `forget` can delete it with the person's data), the language to write in, and an expiry
that every new reminder pushes forward. Reminders belong to a subscription and go with it
(`ON DELETE CASCADE`). Expired rows are never read and are pruned by `prune`. `now`
defaults to the database's clock (`Database.now`), so every host agrees on what expired.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from db import Database, Transaction
from web.push.messages import PushSubscription


@dataclass(frozen=True)
class Recipient:
    subscription: PushSubscription
    locale: str


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


class PushStore:
    def __init__(self, db: Database, lifetime: timedelta) -> None:
        self._db = db
        self.lifetime = lifetime

    def _transaction(self) -> contextlib.AbstractAsyncContextManager[Transaction]:
        return self._db.transaction()

    async def remind(
        self,
        sub: PushSubscription,
        session_key: str | None,
        locale: str,
        kind: str,
        target: int,
        now: datetime | None = None,
    ) -> datetime:
        """Store (or renew) `sub` and add one reminder to it; return when it now expires.
        Idempotent."""
        now = now or await self._db.now()
        async with self._transaction() as db:
            await db.execute(
                "INSERT INTO push_subscriptions (endpoint, p256dh, auth, session_key, locale,"
                " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (endpoint) DO UPDATE SET p256dh = excluded.p256dh,"
                " auth = excluded.auth, locale = excluded.locale,"
                " session_key = COALESCE(excluded.session_key, push_subscriptions.session_key),"
                " expires_at = excluded.expires_at",
                (
                    sub.endpoint,
                    sub.p256dh,
                    sub.auth,
                    session_key,
                    locale,
                    _iso(now),
                    _iso(now + self.lifetime),
                ),
            )
            await db.execute(
                "INSERT INTO push_reminders (endpoint, kind, target, created_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (sub.endpoint, kind, target, _iso(now)),
            )
        return now + self.lifetime

    async def cancel(self, endpoint: str, kind: str, target: int) -> bool:
        """Remove one reminder; a subscription left with none is deleted too."""
        async with self._transaction() as db:
            removed = await db.execute(
                "DELETE FROM push_reminders WHERE endpoint = ? AND kind = ? AND target = ?",
                (endpoint, kind, target),
            )
            await db.execute(
                "DELETE FROM push_subscriptions WHERE endpoint = ? AND NOT EXISTS"
                " (SELECT 1 FROM push_reminders r WHERE r.endpoint = ?)",
                (endpoint, endpoint),
            )
            return removed > 0

    async def reminders(self, endpoint: str, now: datetime | None = None) -> list[tuple[str, int]]:
        """(kind, target) of every reminder of a live subscription, oldest first."""
        rows = await self._db.fetch(
            "SELECT r.kind, r.target FROM push_reminders r JOIN push_subscriptions s"
            " ON s.endpoint = r.endpoint WHERE r.endpoint = ? AND s.expires_at > ?"
            " ORDER BY r.created_at, r.kind, r.target",
            (endpoint, _iso(now or await self._db.now())),
        )
        return [(str(row[0]), int(row[1])) for row in rows]

    async def recipients(
        self, kind: str, target: int, now: datetime | None = None
    ) -> list[Recipient]:
        """The unexpired subscriptions that asked for this reminder."""
        rows = await self._db.fetch(
            "SELECT s.endpoint, s.p256dh, s.auth, s.locale FROM push_reminders r"
            " JOIN push_subscriptions s ON s.endpoint = r.endpoint"
            " WHERE r.kind = ? AND r.target = ? AND s.expires_at > ?",
            (kind, target, _iso(now or await self._db.now())),
        )
        return [Recipient(PushSubscription(row[0], row[1], row[2]), row[3]) for row in rows]

    async def remove(self, endpoint: str) -> bool:
        """Delete a subscription the push service says is gone (404/410)."""
        return (
            await self._db.execute("DELETE FROM push_subscriptions WHERE endpoint = ?", (endpoint,))
            > 0
        )

    async def done(self, kind: str, target: int, endpoints: list[str]) -> None:
        """A reminder fires once: drop it for the subscriptions it was sent to (and those
        subscriptions, once they have no reminder left)."""
        async with self._transaction() as db:
            for endpoint in endpoints:
                await db.execute(
                    "DELETE FROM push_reminders WHERE kind = ? AND target = ? AND endpoint = ?",
                    (kind, target, endpoint),
                )
                await db.execute(
                    "DELETE FROM push_subscriptions WHERE endpoint = ? AND NOT EXISTS"
                    " (SELECT 1 FROM push_reminders r WHERE r.endpoint = ?)",
                    (endpoint, endpoint),
                )

    async def prune(self, now: datetime | None = None) -> int:
        """Delete expired subscriptions (their reminders go with them); return how many."""
        return await self._db.execute(
            "DELETE FROM push_subscriptions WHERE expires_at <= ?",
            (_iso(now or await self._db.now()),),
        )

    async def forget(self, session_key: str) -> int:
        """Delete every subscription a person made (with their data); return how many."""
        return await self._db.execute(
            "DELETE FROM push_subscriptions WHERE session_key = ?", (session_key,)
        )
