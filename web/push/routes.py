"""Reminders over HTTP ("알림 받기"), and the hooks that fire them.

* `GET  /api/push/reminders?endpoint=` — whether push is on, the VAPID public key, and the
  reminders this browser's subscription holds.
* `POST /api/push/reminders` `{subscription, kind: broadcast|question, target}` — store the
  subscription (renewing its expiry) with one more reminder: a planned broadcast going
  live, or a visible question being answered.
* `POST /api/push/reminders/cancel` `{endpoint, kind, target}` — drop one reminder.
* `POST /api/push/forget` — delete every subscription the caller's session made.

A guest needs no nickname to ask for a broadcast reminder, and the broadcast page holds no
CSRF token, so these calls require a same-origin `Origin` header instead (browsers send it
with every cross-site POST, which is then refused). Subscriptions made with a session are
tied to it and are deleted with that person's data (`PushStore.forget`).

`broadcast_live` and `question_answered` only queue a job on the `PushSender`.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from livechat import Question
from schedule import Broadcast
from web.http.errors import ApiError
from web.http.requests import current_session, json_body, require_session, same_origin
from web.push.messages import (
    ENDPOINT_MAX,
    KINDS,
    SubscriptionError,
    answer_notice,
    live_notice,
    parse_subscription,
)
from web.push.sender import PushSender, Reminder, push_sender
from web.rendering.templating import request_locale
from web.services import Services, services


def broadcast_live(sender: PushSender, b: Broadcast) -> None:
    """Queue the go-live reminder of `b` (never waits)."""
    sender.offer(
        Reminder(
            "broadcast",
            b.id,
            lambda locale: live_notice(locale, b.id, b.title),
            ttl=3600,
            urgency="high",
        )
    )


def question_answered(sender: PushSender, q: Question) -> None:
    """Queue the answered reminder of `q` (never waits)."""
    sender.offer(
        Reminder(
            "question",
            q.id,
            lambda locale: answer_notice(locale, q.broadcast_id, q.id, q.text),
            ttl=7 * 86400,
        )
    )


def _caller(request: Request) -> str | None:
    """The caller's session key (None for a guest without one), after the same-origin check
    that stands in for a CSRF token here: browsers send `Origin` with every such POST."""
    if request.headers.get("origin") is None or not same_origin(request):
        raise ApiError(403, "Origin", "a same-origin request is required", code="csrf")
    session = current_session(request)
    return session.identity.key if session is not None else None


def _kind_target(data: dict[str, Any]) -> tuple[str, int]:
    kind, target = data.get("kind"), data.get("target")
    if kind not in KINDS:
        raise ApiError(400, "kind", f"must be one of {', '.join(KINDS)}")
    if isinstance(target, bool) or not isinstance(target, int) or not 0 < target < 2**62:
        raise ApiError(400, "target", "must be a positive integer id")
    return str(kind), target


async def _check_target(svc: Services, kind: str, target: int) -> None:
    if kind == "broadcast":
        b = await svc.schedule.get(target)
        if b is None:
            raise ApiError(404, "target", f"no broadcast {target}")
        if b.status != "planned":
            raise ApiError(409, "target", f"broadcast {target} is {b.status}, not planned")
    else:
        q = await svc.questions.store.get(target)
        if q is None or q.comment_status != "visible":
            raise ApiError(404, "target", f"no question {target}")
        if q.answer is not None:
            raise ApiError(409, "target", f"question {target} is already answered")


def _enabled(request: Request) -> None:
    if not push_sender(request).enabled:
        raise ApiError(
            404, None, "push notifications are not configured on this server", code="push_disabled"
        )


async def list_reminders(request: Request) -> Response:
    svc = services(request)
    endpoint = request.query_params.get("endpoint", "")
    if len(endpoint) > ENDPOINT_MAX:
        raise ApiError(400, "endpoint", f"at most {ENDPOINT_MAX} characters")
    sender = push_sender(request)
    found = await sender.store.reminders(endpoint) if endpoint else []
    return JSONResponse(
        {
            "enabled": sender.enabled,
            "public_key": svc.settings.vapid_public_key,
            "reminders": [{"kind": k, "target": t} for k, t in found],
        },
        headers={"Cache-Control": "no-store"},
    )


async def add_reminder(request: Request) -> Response:
    svc = services(request)
    _enabled(request)
    session_key = _caller(request)
    data = await json_body(request)
    kind, target = _kind_target(data)
    try:
        sub = parse_subscription(
            data.get("subscription"), allow_loopback=svc.settings.push_allow_loopback
        )
    except SubscriptionError as exc:
        raise ApiError(400, exc.field, str(exc)) from None
    await _check_target(svc, kind, target)
    store = push_sender(request).store
    expires = await store.remind(sub, session_key, request_locale(request), kind, target)
    return JSONResponse(
        {
            "kind": kind,
            "target": target,
            "reminding": True,
            "expires_at": expires.isoformat(timespec="seconds"),
        }
    )


async def cancel_reminder(request: Request) -> Response:
    _caller(request)
    data = await json_body(request)
    kind, target = _kind_target(data)
    endpoint = data.get("endpoint")
    if not isinstance(endpoint, str) or not 0 < len(endpoint) <= ENDPOINT_MAX:
        raise ApiError(400, "endpoint", "must be the subscription's endpoint URL")
    changed = await push_sender(request).store.cancel(endpoint, kind, target)
    return JSONResponse({"kind": kind, "target": target, "reminding": False, "changed": changed})


async def forget(request: Request) -> Response:
    session = require_session(request)
    removed = await push_sender(request).store.forget(session.identity.key)
    return JSONResponse({"removed": removed})


routes: list[BaseRoute] = [
    Route("/api/push/reminders", list_reminders, methods=["GET"]),
    Route("/api/push/reminders", add_reminder, methods=["POST"]),
    Route("/api/push/reminders/cancel", cancel_reminder, methods=["POST"]),
    Route("/api/push/forget", forget, methods=["POST"]),
]
