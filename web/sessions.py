"""Signed, HttpOnly session cookies for guests and staff, and CSRF tokens.

A guest picks a nickname (`POST /api/session`); staff log in. Either way the identity lives
in one cookie signed with `SECRET_KEY` (itsdangerous, timestamped so it expires). The CSRF
token is derived from the session id, so it needs no storage: forms carry it in a hidden
field, scripts in the `X-CSRF-Token` header.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import HTTPConnection
from starlette.responses import Response

from livechat import Identity

COOKIE = "ls_session"
NICKNAME_MAX = 20


@dataclass(frozen=True)
class Session:
    sid: str
    nickname: str
    role: str = "viewer"
    account_id: int | None = None
    department: str = ""

    @property
    def identity(self) -> Identity:
        key = f"u:{self.account_id}" if self.account_id is not None else f"g:{self.sid}"
        return Identity(key=key, name=self.nickname, role=self.role, department=self.department)

    @property
    def is_staff(self) -> bool:
        return self.account_id is not None


class SessionCodec:
    def __init__(self, secret_key: str, max_age_days: int, secure: bool) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="live-seoul.session")
        self._csrf_key = hashlib.sha256(("csrf:" + secret_key).encode()).digest()
        self.max_age = max_age_days * 86400
        self.secure = secure

    def load(self, conn: HTTPConnection) -> Session | None:
        raw = conn.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data: dict[str, Any] = self._serializer.loads(raw, max_age=self.max_age)
            return Session(
                sid=str(data["sid"]),
                nickname=str(data["nick"]),
                role=str(data.get("role", "viewer")),
                account_id=data.get("uid"),
                department=str(data.get("dept", "")),
            )
        except (BadSignature, KeyError, TypeError, ValueError):
            return None

    def store(self, response: Response, session: Session) -> None:
        payload = {"sid": session.sid, "nick": session.nickname, "role": session.role,
                   "uid": session.account_id, "dept": session.department}
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
