"""uvicorn's httptools protocol with a bound on the time a client takes to send request
headers.

Neither of uvicorn's HTTP implementations limits it: a connection that sends a header
byte every few seconds (slowloris) is held for ever, and a few thousand of them exhaust
the process's sockets. This protocol starts a timer when a connection opens and again
after each response; if the next request's headers are not complete when it fires, the
connection is closed. It changes nothing once headers are in (bodies are bounded by
`web.http.requests.bounded_body`, WebSockets by their own pings).

httptools (C; uvicorn's own default when installed), and the timer is disarmed once
headers are in: on h11 it stayed armed through a WebSocket upgrade and kept the upgraded
connection's whole HTTP protocol alive for the timeout — 20.1 KiB per idle connection at
10,000 against 14.7 now (docs/performance.md, Idle connections).

Headers are bounded in size too (`MAX_HEADER_BYTES`, h11's default of 16 KiB: httptools
itself takes any size): past it the answer is 431 and the connection is closed.

`live-seoul serve` uses it (`--http web.http.header_timeout:HeaderTimeoutProtocol` with uvicorn
directly). The bound is `REQUEST_HEADER_TIMEOUT`, read once per process like every setting.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from web.settings import Settings

MAX_HEADER_BYTES = 16 * 1024  # a request line and its headers (h11's default bound)
TOO_LARGE_BODY = b"request headers too large (at most 16 KiB)\n"
TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: text/plain; charset=utf-8\r\nconnection: close\r\n"
    b"content-length: %d\r\n\r\n" % len(TOO_LARGE_BODY)
) + TOO_LARGE_BODY


@functools.cache
def header_timeout() -> float:
    """REQUEST_HEADER_TIMEOUT of this process (the server layer reads it, as the factory does)."""
    return Settings.from_env().request_header_timeout


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """`HttpToolsProtocol` that closes a connection whose request headers take too long."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._header_bytes = 0  # of the request whose headers are awaited
        self._tail = b""  # the last bytes of them, for an end split across reads

    def data_received(self, data: bytes) -> None:
        if self._header_timer is not None:  # a request's headers are still coming
            seen = self._tail + data
            end = seen.find(b"\r\n\r\n")
            size = self._header_bytes + (len(data) if end < 0 else end + 4 - len(self._tail))
            if size > MAX_HEADER_BYTES:
                self._disarm()
                self.transport.write(TOO_LARGE)
                self.transport.close()
                return
            self._header_bytes, self._tail = size, seen[-3:]
        super().data_received(data)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()  # in time (a WebSocket upgrade too: its protocol takes over)
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        # A pipelined request already has its headers: the next timer is armed after it.
        pipelined = bool(self.pipeline)
        super().on_response_complete()
        if not pipelined and not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._header_bytes, self._tail = 0, b""
        self._header_timer = self.loop.call_later(header_timeout(), self._headers_due)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_due(self) -> None:
        self._header_timer = None  # fired: no complete request headers since it was armed
        if not self.transport.is_closing():
            self.transport.close()
