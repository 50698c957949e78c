"""Run the real app as if requests came from many addresses (for per-address limits)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

ADDRESS_HEADER = b"x-test-address"


class FromAddress:
    """ASGI wrapper: a request with `X-Test-Address: 203.0.113.7` reaches the app with that
    client address (as a reverse proxy with forwarded-IP support would hand it over)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            for name, value in scope["headers"]:
                if name == ADDRESS_HEADER:
                    scope = {**scope, "client": (value.decode(), 40000)}
        await self.app(scope, receive, send)


def at(address: str) -> dict[str, str]:
    """Headers that make a test request come from `address`."""
    return {ADDRESS_HEADER.decode(): address}
