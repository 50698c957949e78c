"""Guest sessions (`POST /api/session`), staff login and logout."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from livechat import clean_text, find_personal_data
from livechat.text import LINE_BREAKS, has_visible
from web.http.errors import ApiError
from web.http.requests import current_session, json_body, local_path, require_session, same_origin
from web.identity.password_gate import PasswordGateBusy
from web.identity.sessions import NICKNAME_MAX, Session, new_sid
from web.identity.usernames import USERNAME_MAX, username_key
from web.services import services


def clean_nickname(raw: object) -> str:
    """A guest's display name: one line, cleaned like a comment (`clean_text`), with at
    least one visible character. Line breaks are refused, not folded: a name is shown
    inline next to every comment, and a silently rewritten name would surprise its owner.
    Raises `ApiError` 400 naming `nickname`."""
    if not isinstance(raw, str):
        raise ApiError(400, "nickname", "must be a string")
    if any(ch in LINE_BREAKS for ch in raw):
        raise ApiError(400, "nickname", "must be a single line (no line breaks)")
    nick = clean_text(raw)
    if not nick:
        raise ApiError(400, "nickname", "must not be empty")
    if not has_visible(nick):
        raise ApiError(400, "nickname", "must contain a visible character")
    if len(nick) > NICKNAME_MAX:
        raise ApiError(400, "nickname", f"at most {NICKNAME_MAX} characters")
    if find_personal_data(nick):
        # Shown beside every comment and in exports: a number here cannot be masked away.
        raise ApiError(
            400,
            "nickname",
            "must not contain a phone number, resident registration number or e-mail address",
            code="personal_data",
        )
    if any(ch in "<>\"'&" for ch in nick):
        raise ApiError(400, "nickname", "must not contain < > \" ' &")
    return nick


def session_json(request: Request, session: Session) -> dict[str, object]:
    return {
        "nickname": session.nickname,
        "role": session.role,
        "department": session.department,
        "csrf_token": services(request).sessions.csrf_token(session),
        "signed_in": session.member_id is not None or session.account_id is not None,
        "mark": session.mark,
    }


async def create_session(request: Request) -> Response:
    if not same_origin(request):
        raise ApiError(403, "Origin", "cross-site request refused", code="bad_origin")
    data = await json_body(request)
    nickname = clean_nickname(data.get("nickname"))
    existing = current_session(request)
    if existing is not None and existing.is_staff:
        raise ApiError(409, None, "staff are logged in; log out to use a guest nickname")
    if existing is not None and existing.is_member:
        raise ApiError(409, None, "signed in: change your display name on /account")
    # A new nickname keeps the session's age (reports weigh by it: livechat.moderation.reporting).
    session = Session(
        sid=existing.sid if existing else new_sid(),
        nickname=nickname,
        issued_at=existing.issued_at if existing else 0.0,
    )
    response = JSONResponse(session_json(request, session), status_code=201)
    services(request).sessions.store(response, session)
    return response


async def read_session(request: Request) -> Response:
    session = current_session(request)
    if session is None:
        return JSONResponse({"nickname": None, "role": "anonymous"})
    return JSONResponse(session_json(request, session))


async def login(request: Request) -> Response:
    if not same_origin(request):
        raise ApiError(403, "Origin", "cross-site request refused", code="bad_origin")
    data = await json_body(request)
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not username:
        raise ApiError(400, "username", "required")
    if not isinstance(password, str) or not password:
        raise ApiError(400, "password", "required")
    svc = services(request)
    address = request.client.host if request.client else "?"
    key = username_key(username)
    if len(key) > USERNAME_MAX:  # no account has such a name; keeps limit keys short
        raise ApiError(400, "username", f"at most {USERNAME_MAX} characters")
    # A browser that logged in to this very account before is limited on its own (see
    # web.identity.login_limits) and may use the reserved hashing slot.
    device = svc.sessions.load_device(request)
    device_id = device[1] if device is not None and device[0] == key else None
    wait = await svc.login_limits.wait(address, key, device_id)
    if wait:
        retry = int(wait) + 1
        raise ApiError(
            429,
            None,
            f"too many failed logins; retry in {retry} s",
            headers={"Retry-After": str(retry)},
        )
    try:
        account = await svc.accounts.authenticate(username, password, trusted=device_id is not None)
    except PasswordGateBusy:
        raise ApiError(
            503,
            None,
            "too many logins at once; retry in 1 s",
            headers={"Retry-After": "1"},
            code="login_busy",
        ) from None
    if account is None:
        await svc.login_limits.failed(address, key, device_id)
        raise ApiError(401, "password", "wrong username or password", code="bad_credentials")
    replaced = current_session(request)
    if replaced is not None and replaced.account_id is not None:
        # Logging in again replaces this browser's staff cookie: end the old one too.
        await services(request).accounts.revoke_session(
            replaced.sid, replaced.account_id, services(request).sessions.lifetime
        )
    session = Session(
        sid=new_sid(),
        nickname=account.display_name,
        role=account.role,
        account_id=account.id,
        department=account.department,
        epoch=account.session_epoch,
    )
    # Where the login form goes next: a path on this site only, never elsewhere.
    response = JSONResponse(
        {**session_json(request, session), "next": local_path(str(data.get("next") or "/"))}
    )
    svc.sessions.store(response, session)
    svc.sessions.store_device(response, key)
    return response


async def logout(request: Request) -> Response:
    """Clear the cookie; a staff or member session also ends on the server, so a copy of
    the cookie is refused by every worker from now on (guest cookies carry no privileges)."""
    session = require_session(request)
    svc = services(request)
    if session.account_id is not None:
        await svc.accounts.revoke_session(session.sid, session.account_id, svc.sessions.lifetime)
    elif session.member_id is not None:  # account 0: a member's session, not staff's
        await svc.accounts.revoke_session(session.sid, 0, svc.sessions.lifetime)
    response = JSONResponse({"ok": True})
    svc.sessions.clear(response)
    return response


routes = [
    Route("/api/session", create_session, methods=["POST"]),
    Route("/api/session", read_session, methods=["GET"]),
    Route("/api/login", login, methods=["POST"]),
    Route("/api/logout", logout, methods=["POST"]),
]
