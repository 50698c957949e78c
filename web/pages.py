"""(filled in by its owner)"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

routes: list[BaseRoute] = []


async def error_page(request: Request, status: int, detail: str) -> Response:
    from web.services import services

    return services(request).templates.TemplateResponse(
        request, "error.html", {"status": status, "detail": detail}, status_code=status
    )
