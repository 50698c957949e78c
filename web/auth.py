"""Guest sessions (`POST /api/session`), staff login and logout."""

from __future__ import annotations

import time
import unicodedata

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from livechat import clean_text
from web.errors import ApiError
from web.requests import current_session, json_body, require_session, same_origin
from web.services import services
from web.sessions import NICKNAME_MAX, Session, new_sid

# Login throttling: failures per (address, username) inside a sliding window.
LOGIN_WINDOW = 300.0
LOGIN_MAX_FAILURES = 5
_failures: dict[tuple[str, str], list[float]] = {}


def clean_nickname(raw: object) -> str:
    if not isinstance(raw, str):
        raise ApiError(400, "nickname", "must be a string")
    nick = clean_text(raw).strip()
    if not nick:
        raise ApiError(400, "nickname", "must not be empty")
    if len(nick) > NICKNAME_MAX:
        raise ApiError(400, "nickname", f"at most {NICKNAME_MAX} characters")
    if any(unicodedata.category(ch) in ("Zl", "Zp") or ch in "<>\"'&" for ch in nick):
        raise ApiError(400, "nickname", "must not contain < > \" ' &")
    return nick


def session_json(request: Request, session: Session) -> dict[str, object]:
    return {
        "nickname": session.nickname,
        "role": session.role,
        "department": session.department,
        "csrf_token": services(request).sessions.csrf_token(session),
    }


async def create_session(request: Request) -> Response:
    if not same_origin(request):
        raise ApiError(403, "Origin", "cross-site request refused", code="bad_origin")
    data = await json_body(request)
    nickname = clean_nickname(data.get("nickname"))
    existing = current_session(request)
    if existing is not None and existing.is_staff:
        raise ApiError(409, None, "staff are logged in; log out to use a guest nickname")
    session = Session(sid=existing.sid if existing else new_sid(), nickname=nickname)
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
    address = request.client.host if request.client else "?"
    key = (address, username.lower())
    now = time.monotonic()
    recent = [t for t in _failures.get(key, []) if now - t < LOGIN_WINDOW]
    if len(recent) >= LOGIN_MAX_FAILURES:
        retry = int(LOGIN_WINDOW - (now - recent[0])) + 1
        raise ApiError(429, None, f"too many failed logins; retry in {retry} s",
                       headers={"Retry-After": str(retry)})
    account = await services(request).accounts.authenticate(username, password)
    if account is None:
        recent.append(now)
        _failures[key] = recent
        raise ApiError(401, "password", "wrong username or password", code="bad_credentials")
    _failures.pop(key, None)
    session = Session(sid=new_sid(), nickname=account.display_name, role=account.role,
                      account_id=account.id, department=account.department)
    response = JSONResponse(session_json(request, session))
    services(request).sessions.store(response, session)
    return response


async def logout(request: Request) -> Response:
    require_session(request)
    response = JSONResponse({"ok": True})
    services(request).sessions.clear(response)
    return response


routes = [
    Route("/api/session", create_session, methods=["POST"]),
    Route("/api/session", read_session, methods=["GET"]),
    Route("/api/login", login, methods=["POST"]),
    Route("/api/logout", logout, methods=["POST"]),
]
