"""The one table from domain error codes to HTTP statuses (web.http.errors)."""

from __future__ import annotations

from livechat import CommentRejected, ModerationError
from web.http.errors import http_status, refused, rejected


def test_codes_map_to_their_status() -> None:
    """Each kind of refusal answers with its own HTTP status; unknown codes are 400."""
    assert http_status("no_session") == 401
    assert http_status("banned") == 403
    assert http_status("not_found") == 404
    assert http_status("overlap") == 409
    assert http_status("slow_mode") == 429
    assert http_status("too_long") == 400
    assert http_status("a_code_nobody_knows") == 400


def test_rejection_carries_retry_after_and_shown_extras() -> None:
    """A rate-limited rejection says when to retry, in whole seconds, and only the chosen
    extras reach the body."""
    exc = CommentRejected("rate_limited", "slow down", retry_after=0.2, until="x", masked="y")
    error = rejected(exc, "text", shown=("masked",))
    assert (error.status, error.code, error.field) == (429, "rate_limited", "text")
    assert error.headers == {"Retry-After": "1"}
    assert error.extra == {"masked": "y"}


def test_moderation_error_speaks_no_http() -> None:
    """A moderation refusal carries a code only; web maps it."""
    exc = ModerationError("conflict", "comment_id", "already removed")
    assert not hasattr(exc, "status")
    assert refused(exc).status == 409
