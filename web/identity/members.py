"""People who sign in with a provider (members) and the provider identities linked to a
member or, by an admin, to a staff account.

A member row holds the chosen display name and when the person consented; a link holds
the provider and the HMAC of its subject (`web.identity.providers.subject_key`). Nothing else about
the person is kept. Deleting a member deletes its links with it (the comments are the
hub's: `CommentStore.forget_author`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from db import Database, IntegrityError, Row, now_text
from web.identity.store import SESSION_CHECK_TIMEOUT


class LinkTaken(ValueError):
    """This provider identity already belongs to another member or account."""


@dataclass(frozen=True)
class Link:
    provider: str
    member_id: int | None
    account_id: int | None
    linked_at: str


@dataclass(frozen=True)
class Member:
    id: int
    display_name: str
    created_at: str
    consented_at: str
    links: tuple[Link, ...] = ()

    @property
    def key(self) -> str:
        return f"m:{self.id}"


def _link(row: Row) -> Link:
    return Link(str(row[0]), row[1], row[2], str(row[3]))


class MemberStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def find_link(self, provider: str, subject_key: str) -> Link | None:
        rows = list(
            await self._db.fetch(
                "SELECT provider, member_id, account_id, linked_at FROM provider_links"
                " WHERE provider = ? AND subject_key = ?",
                (provider, subject_key),
            )
        )
        return _link(rows[0]) if rows else None

    async def create(self, display_name: str, provider: str, subject_key: str) -> Member:
        """A new member with its first link, consented now. `LinkTaken` if the identity is
        linked already (two tabs finishing the same first sign-in)."""
        now = await now_text(self._db)  # the database's clock, shared by every host
        try:
            async with self._db.transaction() as tx:
                member_id = int(
                    await tx.fetchval(
                        "INSERT INTO members (display_name, created_at, consented_at)"
                        " VALUES (?, ?, ?) RETURNING id",
                        (display_name, now, now),
                    )
                )
                await tx.execute(
                    "INSERT INTO provider_links (provider, subject_key, member_id, linked_at)"
                    " VALUES (?, ?, ?, ?)",
                    (provider, subject_key, member_id, now),
                )
        except IntegrityError:
            raise LinkTaken(provider) from None
        return Member(member_id, display_name, now, now, (Link(provider, member_id, None, now),))

    async def link(
        self,
        provider: str,
        subject_key: str,
        *,
        member_id: int | None = None,
        account_id: int | None = None,
    ) -> None:
        """Link an identity to a member or a staff account; idempotent for the same owner,
        `LinkTaken` when someone else holds it."""
        assert (member_id is None) != (account_id is None)
        try:
            await self._db.execute(
                "INSERT INTO provider_links (provider, subject_key, member_id, account_id,"
                f" linked_at) VALUES (?, ?, ?, ?, {self._db.now_sql})",
                (provider, subject_key, member_id, account_id),
            )
            return
        except IntegrityError:
            pass
        held = await self.find_link(provider, subject_key)
        if held is None or (held.member_id, held.account_id) != (member_id, account_id):
            raise LinkTaken(provider)

    async def unlink(self, member_id: int, provider: str) -> bool:
        """Remove a member's link to `provider`, never its last one (it could not sign in
        again). Returns whether a link was removed."""
        return (
            await self._db.execute(
                "DELETE FROM provider_links WHERE member_id = ? AND provider = ?"
                " AND (SELECT COUNT(*) FROM provider_links WHERE member_id = ?) > 1",
                (member_id, provider, member_id),
            )
            > 0
        )

    async def get(self, member_id: int) -> Member | None:
        rows = list(
            await self._db.fetch(
                "SELECT id, display_name, created_at, consented_at FROM members WHERE id = ?",
                (member_id,),
            )
        )
        if not rows:
            return None
        links = await self._db.fetch(
            "SELECT provider, member_id, account_id, linked_at FROM provider_links"
            " WHERE member_id = ? ORDER BY linked_at, provider",
            (member_id,),
        )
        row = rows[0]
        return Member(
            int(row[0]), str(row[1]), str(row[2]), str(row[3]), tuple(_link(r) for r in links)
        )

    async def staff_links(self, account_id: int) -> list[Link]:
        rows = await self._db.fetch(
            "SELECT provider, member_id, account_id, linked_at FROM provider_links"
            " WHERE account_id = ? ORDER BY provider",
            (account_id,),
        )
        return [_link(r) for r in rows]

    async def rename(self, member_id: int, display_name: str) -> None:
        await self._db.execute(
            "UPDATE members SET display_name = ? WHERE id = ?", (display_name, member_id)
        )

    async def delete(self, member_id: int) -> bool:
        """Delete the member and its links at once; True if it existed."""
        return await self._db.execute("DELETE FROM members WHERE id = ?", (member_id,)) > 0

    async def session_name(self, member_id: int, sid: str = "") -> str | None:
        """The member's current display name, or None once the account is deleted or the
        session `sid` was ended by logout (`revoked_sessions`): one indexed read on every
        request of a member (`SessionCodec.verify`). Raises `DatabaseError`/`TimeoutError`
        (callers refuse the session)."""
        name = await asyncio.wait_for(
            self._db.fetchval(
                "SELECT display_name FROM members WHERE id = ?"
                " AND NOT EXISTS (SELECT 1 FROM revoked_sessions WHERE sid = ?)",
                (member_id, sid),
            ),
            SESSION_CHECK_TIMEOUT,
        )
        return None if name is None else str(name)
