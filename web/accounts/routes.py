"""Account administration by an admin: disable or enable an account, change its role or
its password — as JSON (`POST /api/admin/accounts/{id}`) and as the form on
`/admin/accounts`. Each change raises the account's session epoch, so every session of
that account ends at once on every worker; an admin changing their own password keeps the
session they are using (it is signed again with the new epoch)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from web.accounts.staff_pages import staff_gate
from web.http.errors import ApiError
from web.http.requests import json_body, require_access, same_origin
from web.identity.roles import Access
from web.identity.sessions import Session
from web.identity.store import Account, AccountError
from web.pages.errors import error_page
from web.services import services

ACTIONS = ("disable", "enable", "role", "password")


async def change_account(
    request: Request, admin: Session, account_id: int, body: dict[str, Any]
) -> tuple[Account, Session | None]:
    """Apply one change; return the account and, when the admin changed their own
    password, their session signed again (else None). Raises `AccountError`."""
    action = body.get("action")
    if action not in ACTIONS:
        raise AccountError("action", f"must be one of {', '.join(ACTIONS)}")
    accounts = services(request).accounts
    own = account_id == admin.account_id
    if own and action in ("disable", "role"):
        raise AccountError("action", "you cannot disable your own account or change its role")
    if action in ("disable", "enable"):
        account = await accounts.set_disabled(account_id, action == "disable")
    elif action == "role":
        role = body.get("role")
        account = await accounts.set_role(account_id, role if isinstance(role, str) else "")
    else:
        password = body.get("password")
        account = await accounts.set_password(
            account_id, password if isinstance(password, str) else ""
        )
    kept = replace(admin, epoch=account.session_epoch) if own else None
    return account, kept


def account_json(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "username": account.username,
        "role": account.role,
        "display_name": account.display_name,
        "department": account.department,
        "disabled": account.disabled,
    }


async def change_account_json(request: Request) -> Response:
    admin = require_access(request, Access.ACCOUNTS)
    body = await json_body(request)
    try:
        account, kept = await change_account(
            request, admin, int(request.path_params["account_id"]), body
        )
    except AccountError as exc:
        status = 404 if exc.field == "account" else 400
        raise ApiError(status, exc.field, str(exc)) from None
    response = JSONResponse(account_json(account))
    if kept is not None:
        services(request).sessions.store(response, kept)
    return response


async def change_account_form(request: Request) -> Response:
    admin = staff_gate(request, Access.ACCOUNTS)
    if isinstance(admin, Response):
        return admin
    svc = services(request)
    form = await request.form()
    if not same_origin(request) or not svc.sessions.csrf_ok(admin, str(form.get("csrf_token", ""))):
        return await error_page(request, 403, "forbidden")
    body = {k: str(form.get(k, "")) for k in ("action", "role", "password")}
    try:
        account, kept = await change_account(
            request, admin, int(request.path_params["account_id"]), body
        )
    except AccountError as exc:
        return await error_page(
            request, 404 if exc.field == "account" else 400, f"{exc.field}: {exc}"
        )
    response = RedirectResponse(f"/admin/accounts?changed={account.username}", status_code=303)
    if kept is not None:
        svc.sessions.store(response, kept)
    return response


routes: list[BaseRoute] = [
    Route("/api/admin/accounts/{account_id:id}", change_account_json, methods=["POST"]),
    Route("/admin/accounts/{account_id:id}", change_account_form, methods=["POST"]),
]
