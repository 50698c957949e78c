"""Signed, HttpOnly session cookies for guests and staff, and CSRF tokens.

A guest picks a nickname (`POST /api/session`); staff log in. Either way the identity lives
in one cookie signed with `SECRET_KEY` (itsdangerous, timestamped so it expires). The CSRF
token is derived from the session id, so it needs no storage: forms carry it in a hidden
field, scripts in the `X-CSRF-Token` header.

A signed cookie cannot be taken back, so staff sessions are also checked against the
database on every load: logging out records the session id in `revoked_sessions`
(`AccountStore.revoke_session`), and from then on every worker process refuses that cookie,
for HTTP and WebSocket alike. Disabling an account refuses its cookies the same way. A
member's cookie (signed in with a provider) is checked against `members` and
`revoked_sessions` the same way (`web.members.member_name`). Guest cookies hold no
privileges and are never looked up: a guest's logout only clears the cookie.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import logging
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import HTTPConnection
from starlette.responses import Response

from livechat import Identity
from web.accounts import staff_session_live
from web.members import member_name

COOKIE = "ls_session"
NICKNAME_MAX = 20
log = logging.getLogger("web.sessions")


@dataclass(frozen=True)
class Session:
    sid: str
    nickname: str
    role: str = "viewer"
    account_id: int | None = None
    department: str = ""
    member_id: int | None = None  # signed in with a provider (web.members)
    mark: str = ""  # the provider signed in with ("kakao", …), shown beside the name

    @property
    def identity(self) -> Identity:
        if self.account_id is not None:
            key = f"u:{self.account_id}"
        elif self.member_id is not None:
            key = f"m:{self.member_id}"
        else:
            key = f"g:{self.sid}"
        return Identity(key=key, name=self.nickname, role=self.role, department=self.department,
                        mark=self.mark)

    @property
    def is_member(self) -> bool:
        return self.member_id is not None and self.account_id is None

    @property
    def is_staff(self) -> bool:
        return self.account_id is not None


class SessionCodec:
    def __init__(self, secret_key: str, max_age_days: int, secure: bool) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="live-seoul.session")
        self._csrf_key = hashlib.sha256(("csrf:" + secret_key).encode()).digest()
        self.max_age = max_age_days * 86400
        self.secure = secure

    @property
    def lifetime(self) -> timedelta:
        """The longest a cookie stays valid after it is issued."""
        return timedelta(seconds=self.max_age)

    def load(self, conn: HTTPConnection) -> Session | None:
        """The caller's session, or None: no cookie, a bad or expired one, or a staff
        session that was logged out (or whose account is disabled)."""
        raw = conn.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data: dict[str, Any] = self._serializer.loads(raw, max_age=self.max_age)
            session = Session(
                sid=str(data["sid"]),
                nickname=str(data["nick"]),
                role=str(data.get("role", "viewer")),
                account_id=data.get("uid"),
                department=str(data.get("dept", "")),
                member_id=data.get("mid"),
                mark=str(data.get("mark", "")),
            )
        except (BadSignature, KeyError, TypeError, ValueError):
            return None
        if session.account_id is not None and not _staff_session_live(conn, session):
            return None
        if session.is_member:
            name = _member_name(conn, session)
            if name is None:  # the account was deleted, or this session logged out
                return None
            session = dataclasses.replace(session, nickname=name)
        return session

    def store(self, response: Response, session: Session) -> None:
        payload = {"sid": session.sid, "nick": session.nickname, "role": session.role,
                   "uid": session.account_id, "dept": session.department}
        if session.member_id is not None:
            payload["mid"] = session.member_id
        if session.mark:
            payload["mark"] = session.mark
        response.set_cookie(
            COOKIE, self._serializer.dumps(payload), max_age=self.max_age, httponly=True,
            secure=self.secure, samesite="lax", path="/",
        )

    def clear(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/", httponly=True, secure=self.secure,
                               samesite="lax")

    def csrf_token(self, session: Session | None) -> str:
        if session is None:
            return ""
        return hmac.new(self._csrf_key, session.sid.encode(), hashlib.sha256).hexdigest()[:32]

    def csrf_ok(self, session: Session | None, token: str | None) -> bool:
        if session is None or not token:
            return False
        return hmac.compare_digest(self.csrf_token(session), token)


def new_sid() -> str:
    return secrets.token_urlsafe(18)


def _staff_session_live(conn: HTTPConnection, session: Session) -> bool:
    from web.services import services  # web.services imports this module

    assert session.account_id is not None
    try:
        return staff_session_live(services(conn).settings.database_path, session.sid,
                                  session.account_id)
    except sqlite3.Error as exc:  # fail closed: a staff cookie we cannot check is refused
        log.warning("staff session check failed, session refused: %s", exc)
        return False


def _member_name(conn: HTTPConnection, session: Session) -> str | None:
    from web.services import services  # web.services imports this module

    assert session.member_id is not None
    try:
        return member_name(services(conn).settings.database_path, session.member_id,
                           session.sid)
    except sqlite3.Error as exc:
        log.warning("member session check failed, session refused: %s", exc)
        return None
