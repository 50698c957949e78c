"""Shed HTTP API load while this process is at its connection cap (503 + Retry-After)."""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from web.http.errors import error_body

RETRY_AFTER = 5


class OverloadMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            services = scope.get("state", {}).get("services")
            if services is not None and services.hub.admission.saturated:
                services.hub.stats.http_shed += 1
                response = JSONResponse(
                    error_body("busy", f"busy: retry in {RETRY_AFTER} s"),
                    503,
                    headers={"Retry-After": str(RETRY_AFTER)},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
