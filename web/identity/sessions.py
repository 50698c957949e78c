"""Signed, HttpOnly session cookies for guests and staff, and CSRF tokens.

A guest picks a nickname (`POST /api/session`); a member signs in with a provider
(`web.accounts.signin`; checked against `members` on every load); staff log in. Either way
the identity lives in one cookie signed with `SECRET_KEY` (itsdangerous, timestamped so it
expires). The CSRF token is derived from the session id, so it needs no storage: forms carry
it in a hidden field, scripts in the `X-CSRF-Token` header.

A signed cookie cannot be taken back, so staff sessions are also checked against the
database on every request and WebSocket connect (asynchronously, by
`SessionRefreshMiddleware` through `SessionCodec.verify`; `load` reads its answer):
logging out records the session id in `revoked_sessions` (`AccountStore.revoke_session`),
and from then on every worker process refuses that cookie, for HTTP and WebSocket alike.
Disabling an account refuses its cookies the same way. Guest cookies hold no privileges
and are never looked up: a guest's logout only clears the cookie.

A staff cookie also carries its account's session epoch, and disabling the account or
changing its role or password raises the epoch (`AccountStore._update`), so all of that
account's cookies end at once. A staff cookie ends after `STAFF_IDLE_MINUTES` without a
request: `SessionRefreshMiddleware` re-signs it as it is used, and `load` refuses a
signature older than the idle time (the login time, `iat`, still bounds it to
`SESSION_MAX_AGE_DAYS`).

After a successful login the browser also gets a device cookie naming the account
(`load_device`): during a flood of wrong logins that browser keeps its own limit and a
reserved hashing slot, so staff still get in (see `web.accounts.auth`).
A member's cookie (signed in with a provider) is checked against `members` and
`revoked_sessions` the same way (`MemberStore.session_name`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from livechat import Identity, Role
from web.identity.members import MemberStore
from web.identity.store import AccountStore

COOKIE = "ls_session"
DEVICE_COOKIE = "ls_device"
DEVICE_MAX_AGE = 180 * 86400
NICKNAME_MAX = 20
log = logging.getLogger("web.identity.sessions")
# The scope key where `SessionCodec.verify` leaves what the database said about the
# cookie's session: {"staff": bool} and/or {"member": display name or None}.
CHECKED = "live_seoul.session_checked"


@dataclass(frozen=True)
class Session:
    sid: str
    nickname: str
    role: Role = Role.VIEWER
    account_id: int | None = None
    department: str = ""
    epoch: int = 0  # the account's session epoch when this staff session began
    issued_at: float = 0.0  # when the session began (epoch seconds; 0: unknown)
    member_id: int | None = None  # signed in with a provider (web.identity.members)
    mark: str = ""  # the provider signed in with ("kakao", …), shown beside the name

    @property
    def identity(self) -> Identity:
        if self.account_id is not None:
            key = f"u:{self.account_id}"
        elif self.member_id is not None:
            key = f"m:{self.member_id}"
        else:
            key = f"g:{self.sid}"
        return Identity(
            key=key, name=self.nickname, role=self.role, department=self.department, mark=self.mark
        )

    @property
    def is_member(self) -> bool:
        return self.member_id is not None and self.account_id is None

    @property
    def age(self) -> float | None:
        """Seconds since this session began, or None when the cookie does not say."""
        return time.time() - self.issued_at if self.issued_at else None

    @property
    def is_staff(self) -> bool:
        return self.account_id is not None


class SessionCodec:
    def __init__(
        self, secret_key: str, max_age_days: int, secure: bool, staff_idle_minutes: int = 60
    ) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="live-seoul.session")
        self._devices = URLSafeTimedSerializer(secret_key, salt="live-seoul.device")
        self._csrf_key = hashlib.sha256(("csrf:" + secret_key).encode()).digest()
        self.max_age = max_age_days * 86400
        self.staff_idle = staff_idle_minutes * 60
        self.secure = secure

    @property
    def lifetime(self) -> timedelta:
        """The longest a cookie stays valid after it is issued."""
        return timedelta(seconds=self.max_age)

    def load(self, conn: HTTPConnection, *, check_idle: bool = True) -> Session | None:
        """The caller's session, or None: no cookie, a bad or expired one, a staff session
        idle longer than `staff_idle` (unless `check_idle` is False: an open socket's
        messages are activity themselves), or one that was logged out or ended by an
        account change."""
        found = self._decode(conn)
        if found is None:
            return None
        session, signed_at = found
        if session.account_id is not None:
            now = time.time()
            if check_idle and now - signed_at > self.staff_idle:
                return None
            if session.issued_at and now - session.issued_at > self.max_age:
                return None
            if not _checked(conn).get("staff", False):
                return None
        if session.is_member:
            name = _checked(conn).get("member")
            if name is None:  # the account was deleted, or this session logged out
                return None
            session = replace(session, nickname=name)
        return session

    async def verify(self, conn: HTTPConnection) -> None:
        """Ask the database whether the cookie's staff or member session is still live and
        keep the answer in the connection's scope, where `load` finds it (guests' cookies
        cost nothing). A check that fails or takes too long refuses the session."""
        found = self._decode(conn)
        answer: dict[str, Any] = {}
        if found is not None:
            session, _ = found
            stores = session_stores(conn)
            if session.account_id is not None:
                answer["staff"] = await _staff_session_live(stores.accounts, session)
            if session.is_member:
                answer["member"] = await _member_name(stores.members, session)
        conn.scope[CHECKED] = answer

    def _decode(self, conn: HTTPConnection) -> tuple[Session, float] | None:
        """The cookie's session and when it was last signed, or None (signature only)."""
        raw = conn.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data, signed = self._serializer.loads(raw, max_age=self.max_age, return_timestamp=True)
            session = Session(
                sid=str(data["sid"]),
                nickname=str(data["nick"]),
                role=Role(str(data.get("role", Role.VIEWER))),
                account_id=data.get("uid"),
                department=str(data.get("dept", "")),
                epoch=int(data.get("ep", 0)),
                issued_at=float(data.get("iat", 0.0)),
                member_id=data.get("mid"),
                mark=str(data.get("mark", "")),
            )
        except (BadSignature, KeyError, TypeError, ValueError):
            return None
        return session, signed.timestamp()

    def store(self, response: Response, session: Session) -> None:
        if not session.issued_at:
            session = replace(session, issued_at=time.time())
        response.set_cookie(
            COOKIE,
            self._encode(session),
            max_age=self.max_age,
            httponly=True,
            secure=self.secure,
            samesite="lax",
            path="/",
        )

    def _encode(self, session: Session) -> str:
        payload: dict[str, Any] = {
            "sid": session.sid,
            "nick": session.nickname,
            "role": session.role,
            "uid": session.account_id,
            "dept": session.department,
            "ep": session.epoch,
            "iat": round(session.issued_at, 3),
        }
        if session.member_id is not None:
            payload["mid"] = session.member_id
        if session.mark:
            payload["mark"] = session.mark
        return self._serializer.dumps(payload)

    def refreshed(self, conn: HTTPConnection) -> str | None:
        """A freshly signed copy of a live staff cookie that is older than a tenth of the
        idle time (so an active staff member never meets the idle limit), else None."""
        found = self._decode(conn)
        if found is None or found[0].account_id is None:
            return None
        if time.time() - found[1] < self.staff_idle / 10:
            return None
        session = self.load(conn)
        return None if session is None else self._encode(session)

    def cookie_header(self, value: str) -> str:
        """A Set-Cookie header value for the session cookie (as `store` sets it)."""
        response = Response()
        response.set_cookie(
            COOKIE,
            value,
            max_age=self.max_age,
            httponly=True,
            secure=self.secure,
            samesite="lax",
            path="/",
        )
        return response.headers["set-cookie"]

    def store_device(self, response: Response, user_key: str) -> None:
        """Remember in this browser that it logged in to the account `user_key`."""
        token = self._devices.dumps({"k": user_key, "d": secrets.token_urlsafe(12)})
        response.set_cookie(
            DEVICE_COOKIE,
            token,
            max_age=DEVICE_MAX_AGE,
            httponly=True,
            secure=self.secure,
            samesite="strict",
            path="/",
        )

    def load_device(self, conn: HTTPConnection) -> tuple[str, str] | None:
        """(username key, device id) of a browser that logged in before, or None."""
        raw = conn.cookies.get(DEVICE_COOKIE)
        if not raw:
            return None
        try:
            data = self._devices.loads(raw, max_age=DEVICE_MAX_AGE)
            return str(data["k"]), str(data["d"])
        except (BadSignature, KeyError, TypeError, ValueError):
            return None

    def clear(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/", httponly=True, secure=self.secure, samesite="lax")

    def csrf_token(self, session: Session | None) -> str:
        if session is None:
            return ""
        return hmac.new(self._csrf_key, session.sid.encode(), hashlib.sha256).hexdigest()[:32]

    def csrf_ok(self, session: Session | None, token: str | None) -> bool:
        if session is None or not token:
            return False
        return hmac.compare_digest(self.csrf_token(session), token)


@dataclass(frozen=True)
class SessionStores:
    """Where `verify` checks that a staff or member session still stands (logged out,
    account changed or deleted): the lifespan's stores, kept in its state as
    `session_stores`. Without them (outside a lifespan) such a session is refused."""

    accounts: AccountStore | None = None
    members: MemberStore | None = None


def session_stores(conn: HTTPConnection) -> SessionStores:
    found = getattr(conn.state, "session_stores", None)
    return found if isinstance(found, SessionStores) else SessionStores()


def new_sid() -> str:
    return secrets.token_urlsafe(18)


def _checked(conn: HTTPConnection) -> dict[str, Any]:
    """What `verify` found for this connection (nothing: every check fails closed)."""
    found: dict[str, Any] = conn.scope.get(CHECKED, {})
    return found


async def _staff_session_live(accounts: AccountStore | None, session: Session) -> bool:
    assert session.account_id is not None
    if accounts is None:
        return False
    try:
        return await accounts.session_live(session.sid, session.account_id, session.epoch)
    except Exception as exc:  # fail closed: a staff cookie we cannot check is refused
        # (a database error of either engine, a timeout, no services outside the lifespan)
        log.warning("staff session check failed, session refused: %s", exc)
        return False


async def _member_name(members: MemberStore | None, session: Session) -> str | None:
    assert session.member_id is not None
    if members is None:
        return None
    try:
        return await members.session_name(session.member_id, session.sid)
    except Exception as exc:  # fail closed, as above
        log.warning("member session check failed, session refused: %s", exc)
        return None


def has_session_cookie(scope: Scope) -> bool:
    """Whether the request's Cookie header may carry a session (only then is it verified)."""
    return COOKIE.encode() in dict(scope["headers"]).get(b"cookie", b"")


class SessionRefreshMiddleware:
    """Checks a staff or member cookie against the database before the endpoint runs
    (HTTP and WebSocket: `SessionCodec.verify`), and re-signs a staff cookie on its way
    back (HTTP only) when `SessionCodec.refreshed` says so: staff who keep working stay
    signed in; an idle cookie ages out."""

    def __init__(self, app: ASGIApp, codec: SessionCodec) -> None:
        self.app = app
        self.codec = codec

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not has_session_cookie(scope):
            await self.app(scope, receive, send)
            return
        await self.codec.verify(HTTPConnection(scope))
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        fresh = self.codec.refreshed(HTTPConnection(scope))

        async def send_refreshed(message: Message) -> None:
            if fresh is not None and message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                # The endpoint's own Set-Cookie (login, logout) wins over a refresh.
                if not any(COOKIE + "=" in v for v in headers.getlist("set-cookie")):
                    headers.append("set-cookie", self.codec.cookie_header(fresh))
            await send(message)

        await self.app(scope, receive, send_refreshed)
