"""Errors as JSON bodies that name the field and the problem.

Endpoints raise `ApiError(status, field, message)`; every 4xx/5xx answer of `/api/` is
`{"error": {"code": ..., "field": ..., "message": ...}}`. HTML pages get a page instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response


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
        self.code = code or {400: "invalid", 401: "unauthenticated", 403: "forbidden",
                             404: "not_found", 409: "conflict", 413: "too_large",
                             429: "rate_limited", 503: "unavailable"}.get(status, "error")
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})  # more fields of the error body


def error_body(code: str, message: str, field: str | None = None,
               **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        body["field"] = field
    body.update(extra)
    return {"error": body}


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return JSONResponse(error_body(exc.code, exc.message, exc.field, **exc.extra), exc.status,
                        headers=exc.headers)


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith("/api/") or "text/html" not in request.headers.get(
        "accept", ""
    ):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
        return JSONResponse(error_body(code, str(exc.detail)), exc.status_code,
                            headers=exc.headers)
    from web.live.pages import error_page

    return await error_page(request, exc.status_code, str(exc.detail))


async def _server_error(request: Request, exc: Exception) -> Response:
    """An unexpected failure: JSON for the API, else the error page in the reader's
    language (Starlette still logs the traceback and re-raises)."""
    if request.url.path.startswith("/api/") or "text/html" not in request.headers.get(
        "accept", ""
    ):
        return JSONResponse(error_body("error", "internal server error"), 500)
    from web.live.pages import error_page

    try:
        return await error_page(request, 500, "")
    except Exception:
        return Response("500", status_code=500, media_type="text/plain")


def exception_handlers() -> dict[Any, Any]:
    return {ApiError: _api_error, HTTPException: _http_exception, 500: _server_error}
