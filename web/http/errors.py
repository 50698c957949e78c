"""Errors as JSON bodies that name the field and the problem.

Endpoints raise `ApiError(status, field, message)`; every 4xx/5xx answer of `/api/` is
`{"error": {"code": ..., "field": ..., "message": ...}}`. HTML pages get a page instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from livechat import CommentRejected, ModerationError

# The one table from the stable codes of the domain errors (`livechat.CommentRejected`,
# `livechat.ModerationError`, `schedule.BroadcastError`, …) to the HTTP status every
# route answers with. The domain packages never speak HTTP; a code not listed is 400.
HTTP_STATUS: dict[str, int] = {
    "no_session": 401,
    # refused for who the caller is, or for the room's state
    "forbidden": 403,
    "own_question": 403,
    "banned": 403,
    "timed_out": 403,
    "chat_closed": 403,
    "address_restricted": 403,
    "sign_in_required": 403,
    "not_found": 404,
    # the thing is not in a state that allows it (now)
    "conflict": 409,
    "overlap": 409,
    "bad_transition": 409,
    "no_change": 409,
    "answer_required": 409,
    "personal_data": 409,
    "rate_limited": 429,
    "slow_mode": 429,
    "vote_limit": 429,
}


def http_status(code: str) -> int:
    """The HTTP status for a domain error's stable `code` (400 unless `HTTP_STATUS` says)."""
    return HTTP_STATUS.get(code, 400)


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        field: str | None,
        message: str,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.field = field
        self.message = message
        self.code = code or {
            400: "invalid",
            401: "unauthenticated",
            403: "forbidden",
            404: "not_found",
            409: "conflict",
            413: "too_large",
            429: "rate_limited",
            503: "unavailable",
        }.get(status, "error")
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})  # more fields of the error body


def error_body(code: str, message: str, field: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        body["field"] = field
    body.update(extra)
    return {"error": body}


def retry_headers(extra: Mapping[str, object]) -> dict[str, str]:
    """`Retry-After` (whole seconds, at least 1) when a refusal says when to retry."""
    if "retry_after" not in extra:
        return {}
    return {"Retry-After": str(max(1, round(float(str(extra["retry_after"])))))}


def rejected(exc: CommentRejected, field: str | None, shown: tuple[str, ...] = ()) -> ApiError:
    """The HTTP form of a comment or question rule's refusal; `shown`: the keys of
    `exc.extra` that go into the error body too."""
    return ApiError(
        http_status(exc.code),
        field,
        exc.message,
        code=exc.code,
        headers=retry_headers(exc.extra),
        extra={k: exc.extra[k] for k in shown if k in exc.extra},
    )


def refused(exc: ModerationError) -> ApiError:
    """The HTTP form of a moderation action's refusal."""
    return ApiError(http_status(exc.code), exc.field, exc.message, code=exc.code)
