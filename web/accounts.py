"""Staff accounts (roles in `web.roles`) with argon2id password hashes, and which of
their sessions have ended."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from web.roles import ROLES

_hasher = PasswordHasher()  # argon2id: memory-hard
# Verifying against this keeps the time of "no such user" equal to "wrong password".
_DUMMY_HASH = _hasher.hash("not a password")
# How long a staff request may wait for SQLite to let it read (WAL readers normally never
# wait); past it the session is refused rather than the event loop held longer.
SESSION_CHECK_TIMEOUT = 0.5


class AccountError(ValueError):
    """An account cannot be created as asked; `field` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    display_name: str
    department: str
    role: str


class AccountStore:
    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self._writer = writer
        self._reader = reader
        self._lock = asyncio.Lock()

    async def create(
        self,
        username: str,
        password: str,
        role: str,
        display_name: str = "",
        department: str = "",
    ) -> Account:
        username = username.strip()
        bare = username.replace("_", "").replace(".", "")
        if not (2 <= len(username) <= 40) or not bare.isalnum():
            raise AccountError("username", "2–40 letters, digits, '.' or '_'")
        if role not in ROLES:
            raise AccountError("role", f"must be one of {', '.join(ROLES)}")
        if len(password) < 10:
            raise AccountError("password", "at least 10 characters")
        display_name = (display_name or username).strip()[:40]
        hashed = await asyncio.to_thread(_hasher.hash, password)
        async with self._lock:
            try:
                cursor = await self._writer.execute(
                    "INSERT INTO accounts (username, display_name, department, role,"
                    " password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (username, display_name, department.strip()[:60], role, hashed,
                     datetime.now(UTC).isoformat()),
                )
            except aiosqlite.IntegrityError:
                raise AccountError("username", "already taken") from None
        assert cursor.lastrowid is not None
        return Account(cursor.lastrowid, username, display_name, department.strip()[:60], role)

    async def authenticate(self, username: str, password: str) -> Account | None:
        """The account if `password` is right, else None (timing does not reveal which)."""
        row = await (
            await self._reader.execute(
                "SELECT id, username, display_name, department, role, password_hash"
                " FROM accounts WHERE username = ? AND disabled = 0",
                (username.strip(),),
            )
        ).fetchone()
        stored = row["password_hash"] if row else _DUMMY_HASH
        try:
            await asyncio.to_thread(_hasher.verify, stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        return Account(row["id"], row["username"], row["display_name"], row["department"],
                       row["role"])

    async def get(self, account_id: int) -> Account | None:
        row = await (
            await self._reader.execute(
                "SELECT id, username, display_name, department, role FROM accounts"
                " WHERE id = ? AND disabled = 0",
                (account_id,),
            )
        ).fetchone()
        if row is None:
            return None
        return Account(row["id"], row["username"], row["display_name"], row["department"],
                       row["role"])

    async def list(self) -> list[Account]:
        rows = await self._reader.execute_fetchall(
            "SELECT id, username, display_name, department, role FROM accounts ORDER BY id"
        )
        return [Account(r["id"], r["username"], r["display_name"], r["department"], r["role"])
                for r in rows]

    async def revoke_session(self, sid: str, account_id: int, lifetime: timedelta) -> None:
        """End staff session `sid` for every worker process: `staff_session_live` says no
        from the moment this returns. The row is kept for `lifetime` (the longest its
        cookie could still be valid); rows past their time are pruned here."""
        now = datetime.now(UTC)
        async with self._lock:
            await self._writer.execute(
                "INSERT OR IGNORE INTO revoked_sessions (sid, account_id, revoked_at,"
                " expires_at) VALUES (?, ?, ?, ?)",
                (sid, account_id, now.isoformat(), (now + lifetime).isoformat()),
            )
            await self._writer.execute(
                "DELETE FROM revoked_sessions WHERE expires_at < ?", (now.isoformat(),))


def staff_session_live(db_path: Path, sid: str, account_id: int) -> bool:
    """False once `sid` was revoked (logout) or the account is disabled, else True.

    Synchronous on purpose: `SessionCodec.load` is synchronous and called from every
    endpoint and the WebSocket, and only staff cookies come here (guests cost nothing). It
    is one indexed read on a fresh connection, about 50 µs, so the file every worker shares
    stays the only record: no cache, no window. Raises `sqlite3.Error` (callers refuse).
    """
    conn = sqlite3.connect(db_path, timeout=SESSION_CHECK_TIMEOUT, isolation_level=None)
    try:
        revoked, disabled = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM revoked_sessions WHERE sid = ?),"
            " (SELECT disabled FROM accounts WHERE id = ?)",
            (sid, account_id),
        ).fetchone()
    finally:
        conn.close()
    # A missing account row (a cookie signed for tests, say) is not "disabled".
    return not revoked and not disabled
