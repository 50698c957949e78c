"""Error answers: the HTML error page in the reader's language, and the handlers that
turn `ApiError`, Starlette's `HTTPException` and unexpected failures into JSON for the
API or that page for a browser."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from web.http.errors import ApiError, error_body
from web.rendering.i18n import catalog, translate
from web.rendering.templating import request_locale
from web.services import services

# What a citizen reads for each status, whatever the code that raised it said (Korean
# source strings; web/locales/ translate them).
ERROR_TITLES = {
    400: "요청을 처리할 수 없습니다",
    403: "이 페이지를 볼 권한이 없습니다",
    404: "페이지를 찾을 수 없습니다",
    405: "지원하지 않는 요청입니다",
    413: "보낸 내용이 너무 큽니다",
    429: "요청이 너무 많습니다",
    500: "일시적인 오류가 발생했습니다",
    503: "잠시 후 다시 시도해 주세요",
}
ERROR_HINTS = {
    404: "주소가 바뀌었거나 삭제된 페이지일 수 있습니다.",
    429: "잠시 기다렸다가 다시 시도해 주세요.",
    500: "잠시 후 다시 시도해 주세요. 문제가 계속되면 아래 요청 번호와 함께 알려 주세요.",
    503: "이용자가 많아 잠시 응답할 수 없습니다.",
}


def error_detail(locale: str, detail: str) -> str:
    """`detail` in the reader's language, or "" when it is developer text (English words
    from a framework or an endpoint) that would mean nothing to a citizen. It may come as
    the Korean source string or already translated."""
    if not detail:
        return ""
    if detail in catalog(locale).values() or any("\uac00" <= ch <= "\ud7a3" for ch in detail):
        return translate(locale, detail)
    return ""


async def error_page(request: Request, status: int, detail: str) -> Response:
    """The HTML error page, in the reader's language: what happened, the code, the way on."""
    locale = request_locale(request)
    title = ERROR_TITLES.get(status, ERROR_TITLES[500] if status >= 500 else ERROR_TITLES[400])
    context = {
        "status": status,
        "title": translate(locale, title),
        "detail": error_detail(locale, detail),
        "hint": translate(locale, ERROR_HINTS.get(status, "")) if status in ERROR_HINTS else "",
        "request_id": str(request.scope.get("state", {}).get("request_id", ""))
        if status >= 500
        else "",
    }
    return services(request).templates.TemplateResponse(
        request, "error.html", context, status_code=status
    )


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return JSONResponse(
        error_body(exc.code, exc.message, exc.field, **exc.extra), exc.status, headers=exc.headers
    )


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith("/api/") or "text/html" not in request.headers.get("accept", ""):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
        return JSONResponse(error_body(code, str(exc.detail)), exc.status_code, headers=exc.headers)
    return await error_page(request, exc.status_code, str(exc.detail))


async def _server_error(request: Request, exc: Exception) -> Response:
    """An unexpected failure: JSON for the API, else the error page in the reader's
    language (Starlette still logs the traceback and re-raises)."""
    if request.url.path.startswith("/api/") or "text/html" not in request.headers.get("accept", ""):
        return JSONResponse(error_body("error", "internal server error"), 500)
    try:
        return await error_page(request, 500, "")
    except Exception:
        return Response("500", status_code=500, media_type="text/plain")


def exception_handlers() -> dict[Any, Any]:
    return {ApiError: _api_error, HTTPException: _http_exception, 500: _server_error}
