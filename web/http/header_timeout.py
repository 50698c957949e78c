"""uvicorn's h11 protocol with a bound on the time a client takes to send request headers.

Neither of uvicorn's HTTP implementations limits it: a connection that sends a header
byte every few seconds (slowloris) is held for ever, and a few thousand of them exhaust
the process's sockets. This protocol starts a timer when a connection opens and again
after each response; if the next request's headers are not complete when it fires, the
connection is closed. It changes nothing once headers are in (bodies are bounded by
`web.http.requests.bounded_body`, WebSockets by their own pings).

`live-seoul serve` uses it (`--http web.http.header_timeout:HeaderTimeoutProtocol` with uvicorn
directly). The bound is `REQUEST_HEADER_TIMEOUT`, read once per process like every setting.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from web.settings import Settings


@functools.cache
def header_timeout() -> float:
    """REQUEST_HEADER_TIMEOUT of this process (the server layer reads it, as the factory does)."""
    return Settings.from_env().request_header_timeout


class HeaderTimeoutProtocol(H11Protocol):
    """`H11Protocol` that closes a connection whose request headers take too long."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        self._header_timer = self.loop.call_later(header_timeout(), self._headers_due)

    def _headers_due(self) -> None:
        self._header_timer = None
        # IDLE: no complete request line and headers since the timer was set.
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()
