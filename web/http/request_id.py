"""A request id for every request and WebSocket, and one access log line for each.

The id comes from the `X-Request-ID` header when it is a sane token (a proxy such as
nginx can set it with `$request_id`), else a new random one. It is put in
`web.http.logs.request_id_var` for every log line written while the request is handled,
returned in the `X-Request-ID` response header (WebSocket handshakes too), and kept in
`scope["state"]["request_id"]` for handlers that want it.

A pure ASGI middleware: it wraps `send` and never buffers a body, so streaming
responses and WebSockets pass through untouched.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.http.logs import request_id_var

HEADER = "X-Request-ID"
_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,127}")

access_log = logging.getLogger("web.access")


def request_id_from(raw: str | None) -> str:
    """`raw` if it is a sane token (1–128 chars of [A-Za-z0-9._:@+=-]), else a new id."""
    if raw is not None and _SANE.fullmatch(raw):
        return raw
    return uuid.uuid4().hex


def incoming_request_id(scope: Scope) -> str:
    """The request id of an HTTP or WebSocket scope (its sane `X-Request-ID`, else new)."""
    raw = None
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            raw = value.decode("latin-1")
            break
    return request_id_from(raw)


def accept_with_id(message: Message, request_id: str) -> Message:
    """A `websocket.accept` message that also returns the `X-Request-ID` header."""
    headers = list(message.get("headers", []))
    headers.append((HEADER.lower().encode(), request_id.encode()))
    return {**message, "headers": headers}


QUIET_PATHS = ("/healthz", "/metrics")


def log_access(
    scope: Scope,
    request_id: str,
    status: int,
    start: float,
    quiet_paths: tuple[str, ...] = QUIET_PATHS,
) -> None:
    """The access log line of one request or WebSocket (`start`: its `perf_counter`)."""
    path = scope.get("path", "")
    level = logging.WARNING if status >= 500 else logging.INFO
    if path in quiet_paths and status < 400:
        level = logging.DEBUG
    if not access_log.isEnabledFor(level):
        return
    client = scope.get("client")
    method = scope.get("method", "WS") if scope["type"] == "http" else "WS"
    duration = round((time.perf_counter() - start) * 1000, 2)
    access_log.log(
        level,
        "%s %s %s %.1f ms",
        method,
        path,
        status,
        duration,
        extra={
            "request_id": request_id,
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": duration,
            "client": client[0] if client else None,
        },
    )


class RequestTrace:
    """One request's or WebSocket's id, its status as the response goes out (`send`, the
    wrapped ASGI send), and its access log line (`end`)."""

    __slots__ = ("_send", "_start", "_token", "request_id", "status")

    def __init__(self, scope: Scope, send: Send) -> None:
        self.request_id = incoming_request_id(scope)
        self._token = request_id_var.set(self.request_id)
        scope.setdefault("state", {})["request_id"] = self.request_id
        self.status = 0
        self._send = send
        self._start = time.perf_counter()

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.status = message["status"]
            MutableHeaders(scope=message)[HEADER] = self.request_id
        elif kind == "websocket.accept":
            self.status = 101
            message = accept_with_id(message, self.request_id)
        elif kind == "websocket.close" and not self.status:
            self.status = 403  # closed before the handshake completed: refused
        await self._send(message)

    def end(self, scope: Scope, failed: bool, quiet_paths: tuple[str, ...] = QUIET_PATHS) -> None:
        """Log the access line (500 when it `failed` before a status went out)."""
        if failed and not self.status:
            self.status = 500
        log_access(scope, self.request_id, self.status, self._start, quiet_paths)
        request_id_var.reset(self._token)


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp, quiet_paths: tuple[str, ...] = QUIET_PATHS) -> None:
        self.app = app
        self.quiet_paths = quiet_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        trace = RequestTrace(scope, send)
        failed = True
        try:
            await self.app(scope, receive, trace.send)
            failed = False
        finally:
            trace.end(scope, failed, self.quiet_paths)
