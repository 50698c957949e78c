"""uvicorn's sans-I/O WebSocket protocol, lighter per connection.

An idle viewer's connection holds uvicorn's protocol for hours. Its inbox is an
`asyncio.Queue` (three deques of ~600 bytes each, two of them for getters and putters it
never has more than one of) and its `writable` flag an `asyncio.Event` (one more deque):
about 3 KiB a connection, most of what uvicorn itself keeps. `LeanWebSocketsProtocol`
swaps them for the subset the protocol uses — `put_nowait` / `get` / `empty` and
`is_set` / `set` / `clear` / `wait` — which allocate only while something waits or is
queued. Everything else is uvicorn's.

`live-seoul serve` uses it (`--ws web.http.websocket_protocol:LeanWebSocketsProtocol`
with uvicorn directly); `web.live.socket` finds it as a `WebSocketsSansIOProtocol`.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class Inbox:
    """A FIFO with one consumer: the subset of `asyncio.Queue` uvicorn's protocol uses."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: collections.deque[Any] | None = None
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        if self._items is None:
            self._items = collections.deque()
        self._items.append(item)
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def empty(self) -> bool:
        return not self._items

    async def get(self) -> Any:
        while not self._items:
            waiter = asyncio.get_running_loop().create_future()
            self._waiter = waiter
            try:
                await waiter
            finally:
                if self._waiter is waiter:
                    self._waiter = None
        items = self._items
        item = items.popleft()
        if not items:
            self._items = None
        return item


class Flag:
    """The subset of `asyncio.Event` uvicorn's protocol uses; waiters only while waiting."""

    __slots__ = ("_set", "_waiters")

    def __init__(self, value: bool = False) -> None:
        self._set = value
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> None:
        if self._set:
            return
        waiter = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)
                if not self._waiters:
                    self._waiters = None


class LeanWebSocketsProtocol(WebSocketsSansIOProtocol):
    """`WebSocketsSansIOProtocol` with an `Inbox` and a `Flag` for its queue and event."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = Inbox()  # type: ignore[assignment]
        self.writable = Flag(True)  # type: ignore[assignment]
