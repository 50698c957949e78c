"""People who sign in with a provider (members) and the provider identities linked to a
member or, by an admin, to a staff account.

A member row holds the chosen display name and when the person consented; a link holds
the provider and the HMAC of its subject (`web.accounts.providers.subject_key`). Nothing else about
the person is kept. Deleting a member deletes its links with it (the comments are the
hub's: `CommentStore.forget_author`).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from web.accounts.store import SESSION_CHECK_TIMEOUT


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


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class MemberStore:
    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self._writer = writer
        self._reader = reader
        self._lock = asyncio.Lock()

    async def find_link(self, provider: str, subject_key: str) -> Link | None:
        rows = list(await self._reader.execute_fetchall(
            "SELECT provider, member_id, account_id, linked_at FROM provider_links"
            " WHERE provider = ? AND subject_key = ?", (provider, subject_key)))
        return Link(*rows[0]) if rows else None

    async def create(self, display_name: str, provider: str, subject_key: str) -> Member:
        """A new member with its first link, consented now. `LinkTaken` if the identity is
        linked already (two tabs finishing the same first sign-in)."""
        now = _now()
        async with self._lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                cursor = await self._writer.execute(
                    "INSERT INTO members (display_name, created_at, consented_at)"
                    " VALUES (?, ?, ?)", (display_name, now, now))
                member_id = cursor.lastrowid
                assert member_id is not None
                await self._writer.execute(
                    "INSERT INTO provider_links (provider, subject_key, member_id, linked_at)"
                    " VALUES (?, ?, ?, ?)", (provider, subject_key, member_id, now))
            except aiosqlite.IntegrityError:
                await self._writer.execute("ROLLBACK")
                raise LinkTaken(provider) from None
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            await self._writer.execute("COMMIT")
        return Member(member_id, display_name, now, now,
                      (Link(provider, member_id, None, now),))

    async def link(self, provider: str, subject_key: str, *, member_id: int | None = None,
                   account_id: int | None = None) -> None:
        """Link an identity to a member or a staff account; idempotent for the same owner,
        `LinkTaken` when someone else holds it."""
        assert (member_id is None) != (account_id is None)
        async with self._lock:
            try:
                await self._writer.execute(
                    "INSERT INTO provider_links (provider, subject_key, member_id, account_id,"
                    " linked_at) VALUES (?, ?, ?, ?, ?)",
                    (provider, subject_key, member_id, account_id, _now()))
                return
            except aiosqlite.IntegrityError:
                pass
        held = await self.find_link(provider, subject_key)
        if held is None or (held.member_id, held.account_id) != (member_id, account_id):
            raise LinkTaken(provider)

    async def unlink(self, member_id: int, provider: str) -> bool:
        """Remove a member's link to `provider`, never its last one (it could not sign in
        again). Returns whether a link was removed."""
        async with self._lock:
            cursor = await self._writer.execute(
                "DELETE FROM provider_links WHERE member_id = ? AND provider = ?"
                " AND (SELECT COUNT(*) FROM provider_links WHERE member_id = ?) > 1",
                (member_id, provider, member_id))
            return cursor.rowcount > 0

    async def get(self, member_id: int) -> Member | None:
        rows = list(await self._reader.execute_fetchall(
            "SELECT id, display_name, created_at, consented_at FROM members WHERE id = ?",
            (member_id,)))
        if not rows:
            return None
        links = await self._reader.execute_fetchall(
            "SELECT provider, member_id, account_id, linked_at FROM provider_links"
            " WHERE member_id = ? ORDER BY linked_at, provider", (member_id,))
        mid, name, created, consented = rows[0]
        return Member(mid, name, created, consented, tuple(Link(*r) for r in links))

    async def staff_links(self, account_id: int) -> list[Link]:
        rows = await self._reader.execute_fetchall(
            "SELECT provider, member_id, account_id, linked_at FROM provider_links"
            " WHERE account_id = ? ORDER BY provider", (account_id,))
        return [Link(*r) for r in rows]

    async def rename(self, member_id: int, display_name: str) -> None:
        async with self._lock:
            await self._writer.execute("UPDATE members SET display_name = ? WHERE id = ?",
                                       (display_name, member_id))

    async def delete(self, member_id: int) -> bool:
        """Delete the member and its links at once; True if it existed."""
        async with self._lock:
            cursor = await self._writer.execute("DELETE FROM members WHERE id = ?",
                                                (member_id,))
            return cursor.rowcount > 0


# One reader connection per (database file, thread), kept open: the session check runs on
# every request and socket message of a member, and opening a connection costs far more
# than the query (measured: ~30 µs on an open connection, 2.5–4 ms with connect, schema
# read and close, on the loaded 2-core test machine). Autocommit: each read sees the
# latest commit of any worker.
_readers: dict[tuple[Path, int], sqlite3.Connection] = {}


def _reader(db_path: Path) -> sqlite3.Connection:
    key = (db_path, threading.get_ident())
    conn = _readers.get(key)
    if conn is None:
        conn = sqlite3.connect(db_path, timeout=SESSION_CHECK_TIMEOUT, isolation_level=None)
        _readers[key] = conn
    return conn


def member_name(db_path: Path, member_id: int, sid: str = "") -> str | None:
    """The member's current display name, or None once the account is deleted or the
    session `sid` was ended by logout (`revoked_sessions`).

    Synchronous for `SessionCodec.load`, like `staff_session_live`: one indexed read on a
    kept connection, and only members' cookies pay it. Raises `sqlite3.Error` (callers
    refuse the session; the connection is dropped and opened anew next time)."""
    try:
        row = _reader(db_path).execute(
            "SELECT display_name FROM members WHERE id = ?"
            " AND NOT EXISTS (SELECT 1 FROM revoked_sessions WHERE sid = ?)",
            (member_id, sid)).fetchone()
    except sqlite3.Error:
        stale = _readers.pop((db_path, threading.get_ident()), None)
        if stale is not None:
            stale.close()
        raise
    return str(row[0]) if row else None


def close_member_readers(db_path: Path) -> None:
    """Close the kept session-check connections to `db_path` (app shutdown)."""
    for key in [k for k in _readers if k[0] == db_path]:
        _readers.pop(key).close()
