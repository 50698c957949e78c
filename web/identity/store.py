"""Staff accounts (roles in `web.identity.roles`) with argon2id password hashes, and which
of their sessions have ended.

Usernames are looked up by `web.identity.usernames.username_key` (NFKC, trimmed, case-folded), and
a name whose key or look-alike skeleton matches an existing one is refused. Disabling an
account, changing its role or its password raises its session epoch (`session_epochs`):
every cookie signed with an older epoch is refused by every worker from then on."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from db import Database, Row, UniqueViolation
from livechat import Role
from web.identity.password_gate import PasswordGate
from web.identity.roles import ROLES
from web.identity.usernames import UsernameError, username_key, username_skeleton, validate_username

_hasher = PasswordHasher()  # argon2id: memory-hard
# Verifying against this keeps the time of "no such user" equal to "wrong password": a hash
# of a random password nobody kept, with the hasher's parameters (a test checks they still
# match). Written out, not computed: hashing it at import cost every start 0.2 s of CPU.
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$806Z57lNQzf0D6qEQuRvng$"
    "Sk+HPmI6TIJeooTX7Z88CnwvnC5G7M8/YO8GrdkSrOI"
)
# How long a staff request may wait for its session check; past it the session is refused
# (fail closed) rather than the request held longer.
SESSION_CHECK_TIMEOUT = 0.5
# Account creation holds this key: the look-alike check and the insert are one step for
# every process and host.
LOCK = "accounts"


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
    role: Role
    disabled: bool = False
    session_epoch: int = 0


_SELECT = (
    "SELECT a.id, a.username, a.display_name, a.department, a.role, a.disabled,"
    " COALESCE(e.epoch, 0) AS epoch FROM accounts a"
    " LEFT JOIN session_epochs e ON e.account_id = a.id"
)


def _account(row: Row) -> Account:
    return Account(
        row["id"],
        row["username"],
        row["display_name"],
        row["department"],
        Role(row["role"]),
        bool(row["disabled"]),
        row["epoch"],
    )


class AccountStore:
    def __init__(self, db: Database, gate: PasswordGate | None = None) -> None:
        self._db = db
        self.gate = gate or PasswordGate(slots=2, queue=8)

    async def create(
        self,
        username: str,
        password: str,
        role: str,
        display_name: str = "",
        department: str = "",
    ) -> Account:
        try:
            username = validate_username(username)
        except UsernameError as exc:
            raise AccountError("username", str(exc)) from None
        if role not in ROLES:
            raise AccountError("role", f"must be one of {', '.join(ROLES)}")
        if len(password) < 10:
            raise AccountError("password", "at least 10 characters")
        display_name = (display_name or username).strip()[:40]
        hashed = await self._hash(password)
        key, skeleton = username_key(username), username_skeleton(username_key(username))
        try:
            # One transaction under LOCK: two processes (or hosts) cannot each create one
            # of a pair of look-alikes.
            async with self._db.transaction(lock=LOCK) as tx:
                for row in await tx.fetch("SELECT username FROM accounts"):
                    taken = str(row[0])
                    if username_key(taken) == key:
                        raise AccountError("username", "already taken")
                    if username_skeleton(username_key(taken)) == skeleton:
                        raise AccountError("username", f"too easily confused with {taken!r}")
                account_id = await tx.fetchval(
                    "INSERT INTO accounts (username, display_name, department, role,"
                    f" password_hash, created_at) VALUES (?, ?, ?, ?, ?, {self._db.now_sql})"
                    " RETURNING id",
                    (username, display_name, department.strip()[:60], role, hashed),
                )
        except UniqueViolation:
            raise AccountError("username", "already taken") from None
        return Account(int(account_id), username, display_name, department.strip()[:60], Role(role))

    async def _hash(self, password: str) -> str:
        async with self.gate.slot(trusted=True):
            return await asyncio.to_thread(_hasher.hash, password)

    async def _by_key(self, key: str) -> Row | None:
        """The enabled account whose username normalises to `key` (the oldest, should two
        created before names were normalised share it)."""
        rows = await self._db.fetch(
            "SELECT id, username, password_hash FROM accounts WHERE disabled = 0 ORDER BY id"
        )
        for row in rows:
            if username_key(row["username"]) == key:
                return row
        return None

    async def authenticate(
        self, username: str, password: str, trusted: bool = False
    ) -> Account | None:
        """The account if `password` is right, else None (timing does not reveal which).

        `username` is matched by its normalised form (`username_key`). The hash runs
        through `self.gate`: raises `PasswordGateBusy` when too many are running."""
        row = await self._by_key(username_key(username))
        stored = row["password_hash"] if row else _DUMMY_HASH
        async with self.gate.slot(trusted):
            try:
                await asyncio.to_thread(_hasher.verify, stored, password)
            except (VerificationError, InvalidHashError):
                return None
        if row is None:
            return None
        return await self.get(row["id"])

    async def get(self, account_id: int) -> Account | None:
        row = await self._db.fetchone(f"{_SELECT} WHERE a.id = ? AND a.disabled = 0", (account_id,))
        return None if row is None else _account(row)

    async def find(self, username: str) -> Account | None:
        """The account (enabled or not) whose username normalises like `username`."""
        key = username_key(username)
        for account in await self.list():
            if username_key(account.username) == key:
                return account
        return None

    async def list(self) -> list[Account]:
        rows = await self._db.fetch(f"{_SELECT} ORDER BY a.id")
        return [_account(r) for r in rows]

    # -- administration: each ends every session of the account -----------------------
    async def set_disabled(self, account_id: int, disabled: bool) -> Account:
        return await self._update(account_id, "disabled = ?", (int(disabled),))

    async def set_role(self, account_id: int, role: str) -> Account:
        if role not in ROLES:
            raise AccountError("role", f"must be one of {', '.join(ROLES)}")
        return await self._update(account_id, "role = ?", (role,))

    async def set_password(self, account_id: int, password: str) -> Account:
        if len(password) < 10:
            raise AccountError("password", "at least 10 characters")
        return await self._update(account_id, "password_hash = ?", (await self._hash(password),))

    async def _update(
        self, account_id: int, assignment: str, values: tuple[object, ...]
    ) -> Account:
        """Change one account and raise its session epoch in one transaction: from the
        moment this returns, every worker refuses the cookies it had (see
        `session_live`). Raises `AccountError("account", …)` for an unknown id."""
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                f"UPDATE accounts SET {assignment} WHERE id = ?", (*values, account_id)
            )
            if changed == 0:
                raise AccountError("account", f"no account {account_id}")
            await tx.execute(
                "INSERT INTO session_epochs (account_id, epoch) VALUES (?, 1)"
                " ON CONFLICT (account_id) DO UPDATE"
                " SET epoch = session_epochs.epoch + 1",
                (account_id,),
            )
        row = await self._db.fetchone(f"{_SELECT} WHERE a.id = ?", (account_id,))
        assert row is not None
        return _account(row)

    async def revoke_session(self, sid: str, account_id: int, lifetime: timedelta) -> None:
        """End staff session `sid` for every worker process: `session_live` says no
        from the moment this returns. The row is kept for `lifetime` (the longest its
        cookie could still be valid); rows past their time are pruned here."""
        now = await self._db.now()  # the database's clock: every host prunes by it
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO revoked_sessions (sid, account_id, revoked_at, expires_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (sid, account_id, now.isoformat(), (now + lifetime).isoformat()),
            )
            await tx.execute(
                "DELETE FROM revoked_sessions WHERE expires_at < ?", (now.isoformat(),)
            )

    async def session_live(self, sid: str, account_id: int, epoch: int = 0) -> bool:
        """False once `sid` was revoked (logout), the account is disabled, or its session
        epoch moved past `epoch` (role or password changed, disabled), else True.

        One indexed read of the shared database on every staff request and socket check,
        so the database every worker and host shares stays the only record: no cache, no
        window. Raises `DatabaseError`/`TimeoutError` (callers refuse the session)."""
        row = await asyncio.wait_for(
            self._db.fetchone(
                "SELECT EXISTS (SELECT 1 FROM revoked_sessions WHERE sid = ?),"
                " (SELECT disabled FROM accounts WHERE id = ?),"
                " COALESCE((SELECT epoch FROM session_epochs WHERE account_id = ?), 0)",
                (sid, account_id, account_id),
            ),
            SESSION_CHECK_TIMEOUT,
        )
        assert row is not None
        revoked, disabled, current = row[0], row[1], row[2]
        # A missing account row (a cookie signed for tests, say) is not "disabled".
        return not revoked and not disabled and current == epoch
