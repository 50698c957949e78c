"""Moderation over HTTP: the JSON API, the moderator console, the audit log, the public
transparency page, reports and appeals, and the admin page for staff accounts.

Every moderator endpoint checks the role on the server (`require_access`) and every
state-changing one the CSRF token; the service checks the role again. The console itself
acts over the WebSocket (`moderate` messages); `POST /api/moderation/broadcasts/{id}/actions`
takes the same bodies for scripts and tests.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from livechat import CommentHub, Role
from livechat.moderation.moderation import REASONS, Reason
from livechat.moderation.moderation_store import ModerationStore
from livechat.moderation.moderator import (
    TIMEOUT_MINUTES,
    ModerationConfig,
    ModerationError,
    Moderator,
    mod_item,
)
from web.accounts.staff_pages import ROLE_LABELS, staff_gate
from web.http.errors import ApiError, refused
from web.http.requests import (
    ascii_int,
    form_body,
    json_body,
    require_access,
    require_session,
    same_origin,
    search_text,
)
from web.identity.roles import ROLES, Access
from web.identity.store import AccountError
from web.moderation import words as staff_words
from web.moderation.author_notices import NOTICES
from web.moderation.words import REASON_LABELS
from web.pages.broadcasts import find_broadcast
from web.pages.errors import error_page
from web.rendering.csv_cells import csv_cell
from web.rendering.i18n import SEOUL, translate
from web.rendering.templating import request_locale
from web.services import services
from web.settings import Settings

AUDIT_PAGE = 100
CSV_MAX_ROWS = 100_000


async def start_moderation(
    stack: contextlib.AsyncExitStack, hub: CommentHub, settings: Settings
) -> Moderator:
    """Install the moderation service on `hub` (called by the lifespan); its store uses
    the hub's database and changes comments through the hub's comment store."""
    moderator = Moderator(
        hub,
        ModerationStore(hub.store.db, hub.store),
        NOTICES,
        ModerationConfig(
            report_hide_threshold=settings.report_hide_threshold,
            reports_per_address=settings.reports_per_address,
            reports_per_network=settings.reports_per_network,
            restriction_origin_hours=settings.restriction_address_hours,
        ),
    )
    await moderator.install()
    stack.push_async_callback(moderator.stop)
    return moderator


def moderation(conn: HTTPConnection) -> Moderator:
    found: Moderator = conn.state.moderator
    return found


async def _broadcast(request: Request) -> int:
    broadcast_id = int(request.path_params["broadcast_id"])
    if not await services(request).schedule.exists(broadcast_id):
        raise ApiError(404, "broadcast_id", f"no broadcast {broadcast_id}")
    return broadcast_id


def _int_query(request: Request, name: str, default: int | None, lo: int, hi: int) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    assert raw is not None
    value = ascii_int(raw)
    if value is None or not lo <= value <= hi:
        raise ApiError(400, name, f"must be an integer from {lo} to {hi}")
    return value


# -- JSON API: moderators -----------------------------------------------------------
async def perform_action(request: Request) -> Response:
    session = require_access(request, Access.MODERATE)
    broadcast_id = await _broadcast(request)
    body = await json_body(request)
    try:
        result = await moderation(request).perform(session.identity, broadcast_id, body)
    except ModerationError as exc:
        raise refused(exc) from None
    return JSONResponse({"ok": True, "action": body.get("action"), "result": result})


async def list_all_comments(request: Request) -> Response:
    require_access(request, Access.MODERATE)
    broadcast_id = await _broadcast(request)
    limit = _int_query(request, "limit", 200, 1, 500) or 200
    before = _int_query(request, "before", None, 1, 2**62)
    store = moderation(request).store
    comments = await store.recent_all(broadcast_id, limit, before)
    reports = await store.report_counts([c.id for c in comments])
    items = [mod_item(c, reports=sum(reports.get(c.id, {}).values())) for c in comments]
    return JSONResponse({"broadcast_id": broadcast_id, "items": items})


async def review_queue(request: Request) -> Response:
    require_access(request, Access.MODERATE)
    broadcast_id = await _broadcast(request)
    mod = moderation(request)
    held = await mod.store.held(broadcast_id)
    reports = await mod.store.report_counts([c.id for c in held])
    items = []
    for c in held:
        reasons = reports.get(c.id, {})
        word = mod.blocklist.match(c.text)
        cause = "reports" if reasons and word is None else "blocked_word"
        items.append(
            mod_item(
                c, cause=cause, matched=word, reports=sum(reasons.values()), report_reasons=reasons
            )
        )
    return JSONResponse({"broadcast_id": broadcast_id, "items": items})


async def list_appeals(request: Request) -> Response:
    require_access(request, Access.MODERATE)
    broadcast_id = await _broadcast(request)
    status = request.query_params.get("status") or None
    if status not in (None, "open", "upheld", "reinstated"):
        raise ApiError(400, "status", "must be open, upheld or reinstated")
    store = moderation(request).store
    out = []
    for appeal in await store.appeals(broadcast_id, status):
        comment = await store.comment(appeal.comment_id)
        removal = await store.removal(appeal.comment_id)
        out.append(
            {
                **appeal.public(),
                "item": mod_item(comment) if comment else None,
                "removal": None
                if removal is None
                else {"reason": removal.reason, "reason_text": removal.reason_text},
            }
        )
    return JSONResponse({"broadcast_id": broadcast_id, "items": out})


async def list_restrictions(request: Request) -> Response:
    require_access(request, Access.MODERATE)
    broadcast_id = await _broadcast(request)
    found = await moderation(request).store.restrictions(broadcast_id)
    return JSONResponse({"broadcast_id": broadcast_id, "items": [r.public() for r in found]})


async def list_words(request: Request) -> Response:
    require_access(request, Access.MODERATE)
    words = await moderation(request).store.words()
    return JSONResponse({"items": [w.public() for w in words]})


def _audit_filters(request: Request) -> dict[str, Any]:
    q = request.query_params
    action = q.get("action", "")
    if action and not action.replace("_", "").isalpha():
        raise ApiError(400, "action", "unknown action")
    filters: dict[str, Any] = {
        "query": search_text(request, "q")[:100],
        "action": action,
        "broadcast_id": _int_query(request, "broadcast_id", None, 1, 2**62),
    }
    for name in ("since", "until"):
        raw = q.get(name, "")
        if raw:
            try:
                datetime.fromisoformat(raw)
            except ValueError:
                raise ApiError(400, name, "must be a date like 2026-05-01") from None
        filters[name] = raw
    return filters


async def audit_json(request: Request) -> Response:
    require_access(request, Access.MODERATE)
    filters = _audit_filters(request)
    before = _int_query(request, "before", None, 1, 2**62)
    limit = _int_query(request, "limit", AUDIT_PAGE, 1, 500) or AUDIT_PAGE
    entries = await moderation(request).store.search_audit(**filters, before_id=before, limit=limit)
    items = [e.public() for e in entries]
    return JSONResponse(
        {"items": items, "next_before": items[-1]["id"] if len(items) == limit else None}
    )


# -- JSON API: everyone ---------------------------------------------------------------
async def transparency_json(request: Request) -> Response:
    broadcast_id = await _broadcast(request)
    return JSONResponse(await moderation(request).store.transparency(broadcast_id))


def _comment_id(request: Request) -> int:
    return int(request.path_params["comment_id"])


async def report_comment(request: Request) -> Response:
    session = require_session(request)
    body = await json_body(request)
    try:
        result = await moderation(request).report(
            session.identity,
            _comment_id(request),
            body.get("reason"),
            body.get("reason_text"),
            address=request.client.host if request.client else "",
            session_age=session.age,
        )
    except ModerationError as exc:
        raise refused(exc) from None
    return JSONResponse(result, status_code=201)


async def my_comment_status(request: Request) -> Response:
    session = require_session(request)
    try:
        result = await moderation(request).status_for_author(session.identity, _comment_id(request))
    except ModerationError as exc:
        raise refused(exc) from None
    return JSONResponse(result)


async def appeal_comment(request: Request) -> Response:
    session = require_session(request)
    body = await json_body(request)
    try:
        result = await moderation(request).appeal(
            session.identity, _comment_id(request), body.get("text")
        )
    except ModerationError as exc:
        raise refused(exc) from None
    return JSONResponse(result, status_code=201)


# -- pages ------------------------------------------------------------------------------
def _forbidden(request: Request) -> Response:
    message = translate(request_locale(request), "이 페이지는 권한이 있는 직원만 볼 수 있습니다.")
    return services(request).templates.TemplateResponse(
        request, "error.html", {"status": 403, "detail": message}, status_code=403
    )


def _reason_choices() -> list[tuple[str, str]]:
    return [(r, REASON_LABELS[r]) for r in REASONS]


async def console_page(request: Request) -> Response:
    found = staff_gate(request, Access.MODERATE)
    if isinstance(found, Response):
        return found
    svc = services(request)
    broadcast_id = int(request.path_params["broadcast_id"])
    broadcast = await find_broadcast(svc, broadcast_id)
    if broadcast is None:
        return await error_page(request, 404, "no such broadcast")
    context = {
        "broadcast": broadcast,
        "csrf_token": svc.sessions.csrf_token(found),
        "reasons": _reason_choices(),
        "timeouts": TIMEOUT_MINUTES,
        "me": found,
        "labels": staff_words.as_json(request_locale(request)),
    }
    return svc.templates.TemplateResponse(request, "moderation/moderate.html", context)


_CSV_COLUMNS = (
    "id",
    "created_at",
    "broadcast_id",
    "action",
    "actor",
    "actor_role",
    "comment_id",
    "target",
    "target_name",
    "reason",
    "reason_text",
    "comment_text",
    "detail",
)


def seoul_minute(iso_utc: str) -> str:
    """`2026-05-01 15:30` in Seoul (the page says all times are Seoul time)."""
    return f"{datetime.fromisoformat(iso_utc).astimezone(SEOUL):%Y-%m-%d %H:%M}"


async def audit_page(request: Request) -> Response:
    found = staff_gate(request, Access.MODERATE)
    if isinstance(found, Response):
        return found
    svc = services(request)
    store = moderation(request).store
    try:
        filters = _audit_filters(request)
        before = _int_query(request, "before", None, 1, 2**62)
    except ApiError as exc:
        message = {
            "since": "시작일은 2026-05-01처럼 적어 주세요.",
            "until": "종료일은 2026-05-01처럼 적어 주세요.",
            "action": "조치 종류를 목록에서 고르세요.",
        }.get(exc.field or "", "검색 조건을 확인하세요.")
        return await error_page(request, 400, translate(request_locale(request), message))
    if request.query_params.get("format") == "csv":
        entries = await store.search_audit(**filters, limit=CSV_MAX_ROWS)

        def rows() -> Iterator[str]:
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            buffer.write("\ufeff")  # so spreadsheet programs read the Korean as UTF-8
            writer.writerow(_CSV_COLUMNS)
            for entry in entries:
                public = entry.public()
                writer.writerow(
                    [
                        csv_cell(public[c] if c != "detail" else str(public["detail"]))
                        for c in _CSV_COLUMNS
                    ]
                )
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
            yield buffer.getvalue()

        return StreamingResponse(
            rows(),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": 'attachment; filename="moderation-audit.csv"',
                "Cache-Control": "no-store",
            },
        )
    entries = await store.search_audit(**filters, before_id=before, limit=AUDIT_PAGE)
    query = {k: v for k, v in request.query_params.items() if k not in ("before", "format")}
    locale = request_locale(request)
    shown = [
        {
            **e.public(),
            "seoul": seoul_minute(e.created_at),
            "action_label": staff_words.word("actions", e.action, locale),
            "role_label": staff_words.word("roles", e.actor_role, locale),
            "reason_label": staff_words.word("reasons", e.reason, locale) if e.reason else "",
        }
        for e in entries
    ]
    choices = [
        (code, staff_words.word("actions", code, locale))
        for code in staff_words.ACTIONS
        if code != "chat"
    ]
    context = {
        "entries": shown,
        "filters": filters,
        "query": query,
        "action_choices": choices,
        "next_before": entries[-1].id if len(entries) == AUDIT_PAGE else None,
    }
    return svc.templates.TemplateResponse(request, "moderation/audit.html", context)


_REASON_ORDER = tuple(Reason)  # the chosen reasons, then `reports`


async def transparency_page(request: Request) -> Response:
    svc = services(request)
    broadcast_id = int(request.path_params["broadcast_id"])
    broadcast = await find_broadcast(svc, broadcast_id)
    if broadcast is None:
        return await error_page(request, 404, "no such broadcast")
    report = await moderation(request).store.transparency(broadcast_id)
    labels = dict(_reason_choices())
    removed = [(labels.get(r, r), report["removed_by_reason"].get(r, 0)) for r in REASONS]
    return svc.templates.TemplateResponse(
        request,
        "moderation/transparency.html",
        {"broadcast": broadcast, "report": report, "removed_rows": removed},
    )


async def accounts_page(request: Request) -> Response:
    found = staff_gate(request, Access.ACCOUNTS)
    if isinstance(found, Response):
        return found
    svc = services(request)
    errors: dict[str, str] = {}
    values = {"username": "", "display_name": "", "department": "", "role": Role.MODERATOR}
    status = 200
    created = request.query_params.get("created", "")
    if request.method == "POST":
        form = await form_body(request)
        if not same_origin(request) or not svc.sessions.csrf_ok(
            found, str(form.get("csrf_token", ""))
        ):
            return _forbidden(request)
        values = {k: str(form.get(k, "")) for k in values}
        try:
            account = await svc.accounts.create(
                values["username"],
                str(form.get("password", "")),
                values["role"],
                values["display_name"],
                values["department"],
            )
        except AccountError as exc:
            errors[exc.field] = translate(request_locale(request), _account_error(exc))
            status = 400
        else:
            return RedirectResponse(f"/admin/accounts?created={account.username}", status_code=303)
    context = {
        "accounts": await svc.accounts.list(),
        "roles": ROLES,
        "role_labels": ROLE_LABELS,
        "errors": errors,
        "values": values,
        "csrf_token": svc.sessions.csrf_token(found),
        "created": created,
    }
    return svc.templates.TemplateResponse(
        request, "accounts/admin_accounts.html", context, status_code=status
    )


_ACCOUNT_ERRORS = {
    ("username", "already taken"): "이미 있는 아이디입니다. 다른 아이디를 고르세요.",
    ("username", ""): "아이디는 2–40자의 영문, 숫자, 마침표(.), 밑줄(_)로 만드세요.",
    ("password", ""): "비밀번호는 10자 이상이어야 합니다.",
    ("role", ""): "역할을 목록에서 고르세요.",
}


def _account_error(exc: AccountError) -> str:
    """The page's words for an `AccountError` (the JSON API keeps the English)."""
    return _ACCOUNT_ERRORS.get((exc.field, str(exc))) or _ACCOUNT_ERRORS.get(
        (exc.field, ""), "입력한 값을 확인하세요."
    )


async def create_account_json(request: Request) -> Response:
    require_access(request, Access.ACCOUNTS)
    body = await json_body(request)
    fields: dict[str, str] = {}
    for name in ("username", "password", "role", "display_name", "department"):
        value = body.get(name, "")
        if not isinstance(value, str):
            raise ApiError(400, name, "must be a string")
        fields[name] = value
    try:
        account = await services(request).accounts.create(
            fields["username"],
            fields["password"],
            fields["role"],
            fields["display_name"],
            fields["department"],
        )
    except AccountError as exc:
        raise ApiError(400, exc.field, str(exc)) from None
    return JSONResponse(
        {
            "id": account.id,
            "username": account.username,
            "role": account.role,
            "display_name": account.display_name,
            "department": account.department,
        },
        status_code=201,
    )


routes: list[BaseRoute] = [
    Route("/api/moderation/broadcasts/{broadcast_id:id}/actions", perform_action, methods=["POST"]),
    Route("/api/moderation/broadcasts/{broadcast_id:id}/comments", list_all_comments),
    Route("/api/moderation/broadcasts/{broadcast_id:id}/queue", review_queue),
    Route("/api/moderation/broadcasts/{broadcast_id:id}/appeals", list_appeals),
    Route("/api/moderation/broadcasts/{broadcast_id:id}/restrictions", list_restrictions),
    Route("/api/moderation/words", list_words),
    Route("/api/moderation/audit", audit_json),
    Route("/api/broadcasts/{broadcast_id:id}/transparency", transparency_json),
    Route("/api/comments/{comment_id:id}/reports", report_comment, methods=["POST"]),
    Route("/api/comments/{comment_id:id}/moderation", my_comment_status),
    Route("/api/comments/{comment_id:id}/appeal", appeal_comment, methods=["POST"]),
    Route("/api/admin/accounts", create_account_json, methods=["POST"]),
    Route("/moderate/audit", audit_page),
    Route("/moderate/{broadcast_id:id}", console_page),
    Route("/broadcasts/{broadcast_id:id}/transparency", transparency_page),
    Route("/admin/accounts", accounts_page, methods=["GET", "POST"]),
]
