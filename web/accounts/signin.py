"""Sign-in with Kakao, Naver, Google, X and Facebook (Authlib's Starlette client).

Authlib does the protocol: `state` and, for OpenID Connect, the `nonce` are kept in a
short-lived signed cookie (`ls_signin`, Starlette's SessionMiddleware, 10 minutes); PKCE
(S256) is sent where the provider takes it; the ID token is checked against the provider's
keys (JWKS), issuer, audience (our client id), nonce and expiry. The redirect URI is always
`PUBLIC_BASE_URL/auth/<provider>/callback`, never built from the request's Host.

This module only moves data: who signed in (`web.identity.providers.Profile`) becomes a member
(first time: a consent page, `/account/welcome`), a staff session (identity linked by an
admin) or a second link of the signed-in member. Every failure leads back to the page the
person came from with `?signin_error=<code>` (cancelled, refused, down, expired, taken);
the page keeps their half-typed comment (livechat.js keeps drafts in sessionStorage).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx2 as httpx  # what Authlib uses when installed (its httpx_client._compat)
from authlib.integrations.starlette_client import OAuthError
from authlib.integrations.starlette_client.apps import StarletteOAuth2App
from itsdangerous import BadSignature
from joserfc.errors import JoseError
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from web.accounts.auth import clean_nickname
from web.accounts.signin_clients import sign_in_config
from web.http.errors import ApiError
from web.http.requests import current_session, json_body, require_access, require_session
from web.identity.members import LinkTaken
from web.identity.providers import BY_NAME, ProviderConfig, subject_key
from web.identity.roles import Access
from web.identity.sessions import Session, new_sid
from web.services import services

log = logging.getLogger("web.accounts.signin")

SIGNIN_COOKIE = "ls_signin"
SIGNIN_MAX_AGE = 600  # seconds a person has to finish at the provider
DELETED_NAME = "탈퇴한 사용자"
ERRORS = ("cancelled", "refused", "down", "expired", "taken")
STAFF_LINK_MAX_AGE = 3600


async def _metadata(config: ProviderConfig, client: StarletteOAuth2App) -> None:
    """Discovery first (OpenID Connect), then the endpoints the settings override."""
    await client.load_server_metadata()
    overrides = config.overrides()
    if overrides and any(client.server_metadata.get(k) != v for k, v in overrides.items()):
        client.server_metadata.update(overrides)
        client.server_metadata.pop("jwks", None)


def safe_next(raw: str | None) -> str:
    """A path on this site to return to; anything else (another host, a scheme, `//x`,
    a backslash trick) becomes `/`. No open redirects."""
    if not raw or not raw.startswith("/") or raw.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc or any(ch in raw for ch in "\r\n\\"):
        return "/"
    return raw


def _with_error(next_path: str, code: str) -> str:
    parts = urlsplit(next_path)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "signin_error"]
    query.append(("signin_error", code))
    return urlunsplit(("", "", parts.path, urlencode(query), parts.fragment))


def _back(next_path: str, code: str) -> Response:
    return RedirectResponse(_with_error(next_path, code), status_code=303)


# -- start ------------------------------------------------------------------------------
async def start(request: Request) -> Response:
    """`GET /auth/{provider}/login?next=/live/1[&link=1]`: off to the provider."""
    name = request.path_params["provider"]
    next_path = safe_next(request.query_params.get("next"))
    try:
        config, client = sign_in_config(request).client(name)
    except ApiError:
        return _back(next_path, "refused")
    intent = "link" if request.query_params.get("link") == "1" else "signin"
    if request.session.get("staff_link") and intent == "signin":
        intent = "staff"
    request.session["flow"] = {"provider": name, "next": next_path, "intent": intent}
    try:
        await _metadata(config, client)
        response: Response = await client.authorize_redirect(
            request, sign_in_config(request).redirect_uri(name)
        )
    except httpx.HTTPError as exc:
        log.warning("%s unreachable at sign-in: %s", name, exc)
        return _back(next_path, "down")
    return response


# -- callback ---------------------------------------------------------------------------
async def callback(request: Request) -> Response:
    """`GET /auth/{provider}/callback`: verify, then sign in, link or ask for consent."""
    name = request.path_params["provider"]
    flow = request.session.pop("flow", None) or {}
    next_path = safe_next(flow.get("next"))
    try:
        config, client = sign_in_config(request).client(name)
    except ApiError:
        return _back(next_path, "refused")
    if flow.get("provider") != name:
        # No flow for this provider in this browser: the cookie expired or the state is
        # not ours. Authlib would refuse it too; this names it for the person.
        await client.framework.clear_state_data(request.session, request.query_params.get("state"))
        if request.query_params.get("error"):
            return _back(next_path, "cancelled")
        return _back(next_path, "expired")
    try:
        await _metadata(config, client)
        token = await client.authorize_access_token(request)
        if config.spec.openid:
            claims = token.get("userinfo")
            if not claims:
                raise OAuthError(error="no_id_token", description="no ID token was returned")
            profile = config.spec.profile(claims)
        else:
            response = await client.get(config.userinfo_url, token=token)
            response.raise_for_status()
            profile = config.spec.profile(response.json())
    except OAuthError as exc:
        code = {"access_denied": "cancelled", "mismatching_state": "expired"}.get(
            exc.error or "", "refused"
        )
        log.info("%s sign-in refused (%s): %s", name, exc.error, exc.description)
        return _back(next_path, code)
    except httpx.HTTPStatusError as exc:
        log.warning("%s answered %s during sign-in", name, exc.response.status_code)
        return _back(next_path, "down" if exc.response.status_code >= 500 else "refused")
    except httpx.HTTPError as exc:
        log.warning("%s unreachable during sign-in: %s", name, exc)
        return _back(next_path, "down")
    except (JoseError, KeyError, TypeError, ValueError) as exc:
        # ID token: bad signature, wrong issuer/audience/nonce, expired; or a profile
        # answer without the subject.
        log.warning("%s sign-in not verified: %r", name, exc)
        return _back(next_path, "refused")
    key = subject_key(sign_in_config(request).secret, name, profile.subject)
    return await _signed_in(
        request, flow, name, key, profile.nickname, profile.real_name, next_path
    )


async def _signed_in(
    request: Request,
    flow: dict[str, Any],
    provider: str,
    key: str,
    nickname: str,
    real_name: str,
    next_path: str,
) -> Response:
    svc = services(request)
    current = current_session(request)
    intent = flow.get("intent")
    if intent == "staff":
        account_id = request.session.pop("staff_link", None)
        if isinstance(account_id, int):
            try:
                await svc.members.link(provider, key, account_id=account_id)
            except LinkTaken:
                return _back(next_path, "taken")
    elif intent == "link" and current is not None and current.is_member:
        assert current.member_id is not None
        try:
            await svc.members.link(provider, key, member_id=current.member_id)
        except LinkTaken:
            return _back("/account", "taken")
        return RedirectResponse("/account?linked=" + provider, status_code=303)
    link = await svc.members.find_link(provider, key)
    if link is not None and link.account_id is not None:
        account = await svc.accounts.get(link.account_id)
        if account is None:  # disabled
            return _back(next_path, "refused")
        session = Session(
            sid=new_sid(),
            nickname=account.display_name,
            role=account.role,
            account_id=account.id,
            department=account.department,
            mark=provider,
        )
        return _issue(request, session, next_path)
    if link is not None and link.member_id is not None:
        member = await svc.members.get(link.member_id)
        if member is not None:
            session = Session(
                sid=new_sid(), nickname=member.display_name, member_id=member.id, mark=provider
            )
            return _issue(request, session, next_path)
    # First sign-in with this identity: consent and a display name first.
    request.session["pending"] = {
        "provider": provider,
        "key": key,
        "nickname": nickname,
        "real_name": real_name,
        "next": next_path,
        "nonce": secrets.token_urlsafe(16),
    }
    return RedirectResponse("/account/welcome", status_code=303)


def _issue(request: Request, session: Session, next_path: str) -> Response:
    response = RedirectResponse(next_path, status_code=303)
    services(request).sessions.store(response, session)
    return response


# -- consent ----------------------------------------------------------------------------
def _pending_token(request: Request, pending: dict[str, Any]) -> str:
    secret = sign_in_config(request).secret.encode()
    return hmac.new(secret, ("welcome:" + pending["nonce"]).encode(), hashlib.sha256).hexdigest()[
        :32
    ]


async def welcome(request: Request) -> Response:
    """The consent notice at first sign-in: what is kept and why, and the display name."""
    svc = services(request)
    pending = request.session.get("pending")
    if not isinstance(pending, dict):
        return _back("/", "expired")
    error = ""
    name = pending.get("nickname", "")
    if request.method == "POST":
        form = await request.form()
        token = str(form.get("csrf_token", ""))
        if not hmac.compare_digest(token, _pending_token(request, pending)):
            raise ApiError(403, "csrf_token", "missing or wrong CSRF token", code="csrf")
        if form.get("action") == "cancel":
            request.session.pop("pending", None)
            return _back(pending["next"], "cancelled")
        raw_name = form.get("display_name", "")
        if form.get("action") == "real_name":  # the person chose to show their name
            raw_name = pending.get("real_name", "")
        name = raw_name if isinstance(raw_name, str) else ""
        try:
            display_name = clean_nickname(name)
        except ApiError as exc:
            error = exc.message
        else:
            request.session.pop("pending", None)
            try:
                member = await svc.members.create(display_name, pending["provider"], pending["key"])
            except LinkTaken:
                return _back(pending["next"], "taken")
            session = Session(
                sid=new_sid(),
                nickname=member.display_name,
                member_id=member.id,
                mark=pending["provider"],
            )
            return _issue(request, session, pending["next"])
    spec = BY_NAME[pending["provider"]]
    return svc.templates.TemplateResponse(
        request,
        "accounts/welcome.html",
        {
            "provider": spec,
            "display_name": name,
            "real_name": pending.get("real_name", ""),
            "csrf_token": _pending_token(request, pending),
            "error": error,
            "next": pending["next"],
        },
        status_code=400 if error else 200,
    )


# -- my account -------------------------------------------------------------------------
async def account_page(request: Request) -> Response:
    svc = services(request)
    session = current_session(request)
    member = None
    if session is not None and session.is_member:
        assert session.member_id is not None
        member = await svc.members.get(session.member_id)
    linked = {link.provider for link in member.links} if member else set()
    staff_links: list[str] = []
    if session is not None and session.account_id is not None:
        staff_links = [link.provider for link in await svc.members.staff_links(session.account_id)]
    return svc.templates.TemplateResponse(
        request,
        "accounts/account.html",
        {
            "member": member,
            "session": session,
            "csrf_token": svc.sessions.csrf_token(session),
            "providers": [p.spec for p in sign_in_config(request).providers],
            "linked": linked,
            "staff_links": staff_links,
            "staff_link_pending": bool(request.session.get("staff_link")),
            "signin_error": _error_code(request),
            "just_linked": request.query_params.get("linked", ""),
        },
    )


def _error_code(request: Request) -> str:
    code = request.query_params.get("signin_error", "")
    return code if code in ERRORS else ""


def _member(request: Request) -> Session:
    session = require_session(request)
    if not session.is_member:
        raise ApiError(403, None, "only for people signed in with a provider", code="forbidden")
    return session


async def rename(request: Request) -> Response:
    session = _member(request)
    data = await json_body(request)
    name = clean_nickname(data.get("display_name"))
    assert session.member_id is not None
    await services(request).members.rename(session.member_id, name)
    return JSONResponse({"display_name": name})


async def unlink(request: Request) -> Response:
    session = _member(request)
    data = await json_body(request)
    provider = data.get("provider")
    if provider not in BY_NAME:
        raise ApiError(400, "provider", "unknown provider")
    assert session.member_id is not None
    if not await services(request).members.unlink(session.member_id, str(provider)):
        raise ApiError(409, "provider", "not linked, or the only way to sign in")
    return JSONResponse({"unlinked": provider})


async def export(request: Request) -> Response:
    """`GET /api/account/export`: one's own comments and questions, as JSON."""
    session = _member(request)
    svc = services(request)
    assert session.member_id is not None
    member = await svc.members.get(session.member_id)
    assert member is not None
    comments: list[dict[str, Any]] = []
    questions: list[dict[str, Any]] = []
    for comment in await svc.comments.by_author(member.key):
        item = {
            "id": comment.id,
            "broadcast_id": comment.broadcast_id,
            "text": comment.text,
            "created_at": comment.created_at,
            "status": comment.status,
        }
        (questions if "question" in comment.flag_set else comments).append(item)
    body = {
        "account": {
            "display_name": member.display_name,
            "created_at": member.created_at,
            "consented_at": member.consented_at,
            "linked": [
                {"provider": link.provider, "linked_at": link.linked_at} for link in member.links
            ],
        },
        "comments": comments,
        "questions": questions,
    }
    return JSONResponse(
        body, headers={"Content-Disposition": 'attachment; filename="live-seoul-my-comments.json"'}
    )


async def delete_account(request: Request) -> Response:
    """`DELETE /api/account {"comments": "keep" | "remove"}`: the member and its links go
    at once; past comments stay as 탈퇴한 사용자, or are taken down."""
    session = _member(request)
    svc = services(request)
    data = await json_body(request)
    choice = data.get("comments", "keep")
    if choice not in ("keep", "remove"):
        raise ApiError(400, "comments", 'must be "keep" or "remove"')
    assert session.member_id is not None
    key = session.identity.key
    await svc.members.delete(session.member_id)
    for forget in svc.on_forget_person:  # push reminders are the person's data too
        await forget(key)
    removed = await svc.comments.forget_author(key, DELETED_NAME, remove=choice == "remove")
    for broadcast_id, ids in removed.items():
        svc.hub.broadcast_frame(broadcast_id, {"type": "deleted", "ids": ids})
    response = JSONResponse(
        {"deleted": True, "comments": choice, "removed": sum(len(v) for v in removed.values())}
    )
    svc.sessions.clear(response)
    return response


# -- staff links ------------------------------------------------------------------------
async def staff_link_invite(request: Request) -> Response:
    """`POST /api/admin/accounts/{id}/provider-link` (admin): a one-hour URL that lets the
    staff member link a provider identity to their account."""
    require_access(request, Access.ACCOUNTS)
    svc = services(request)
    account_id = int(request.path_params["account_id"])
    if await svc.accounts.get(account_id) is None:
        raise ApiError(404, "account_id", "no such active account")
    token = sign_in_config(request).staff_links().dumps(account_id)
    return JSONResponse(
        {
            "url": f"{sign_in_config(request).public_origin}/auth/staff-link/{token}",
            "expires_in": STAFF_LINK_MAX_AGE,
        },
        status_code=201,
    )


async def staff_link_open(request: Request) -> Response:
    try:
        account_id = (
            sign_in_config(request)
            .staff_links()
            .loads(request.path_params["token"], max_age=STAFF_LINK_MAX_AGE)
        )
    except BadSignature:
        return _back("/account", "expired")
    request.session["staff_link"] = int(account_id)
    return RedirectResponse("/account", status_code=303)


routes = [
    Route("/auth/{provider:str}/login", start),
    Route("/auth/{provider:str}/callback", callback),
    Route("/auth/staff-link/{token:str}", staff_link_open),
    Route("/account/welcome", welcome, methods=["GET", "POST"]),
    Route("/account", account_page),
    Route("/api/account", delete_account, methods=["DELETE"]),
    Route("/api/account/name", rename, methods=["POST"]),
    Route("/api/account/unlink", unlink, methods=["POST"]),
    Route("/api/account/export", export),
    Route("/api/admin/accounts/{account_id:id}/provider-link", staff_link_invite, methods=["POST"]),
]
