"""`WS /ws/channel`: open home and schedule pages hear at once that the channel changed.

Operators' edits, go-live, end and cancel publish a `channel` frame on room 0 (see
`web.schedule.routes.publish_status`). Each process subscribes to that room once
(`ChannelFeed.running`) and counts changes; every socket waits for the count to move and
then sends one `{"type": "channel", "changed": true}` (on connect, one with `false`: the
page knows it is listening), so the feed never awaits a socket.
The page then re-reads what it shows (`/api/now`, or the schedule day). Sockets carry no
comments and no presence; a Redis reconnect (`RESYNC`) counts as a change.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket

from livechat import Broker
from livechat.room import channel_name
from web.http.requests import same_origin

CHANNEL_ROOM = 0
MAX_SOCKETS = 5000  # per process; beyond it pages keep their 30-s poll
CHANGED = '{"type":"channel","changed":true}'
LISTENING = '{"type":"channel","changed":false}'  # sent once on connect


class ChannelFeed:
    """Counts channel changes heard on room 0 and wakes the sockets waiting on them."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.version = 0
        self.sockets = 0
        self._changed = asyncio.Condition()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ChannelFeed]:
        """Listen (one subscription for the process) until the context exits."""
        task = asyncio.create_task(self._listen())
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _listen(self) -> None:
        async with self.broker.subscribe(channel_name(CHANNEL_ROOM)) as messages:
            async for _ in messages:
                async with self._changed:
                    self.version += 1
                    self._changed.notify_all()

    async def wait(self, seen: int) -> int:
        """The version after `seen`, once there is one."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.version != seen)
            return self.version


async def _closed(ws: WebSocket) -> None:
    while (await ws.receive())["type"] != "websocket.disconnect":
        pass  # the page sends nothing; anything it does send is ignored


async def channel_socket(ws: WebSocket) -> None:
    feed: ChannelFeed = ws.state.channel_feed
    if not same_origin(ws):
        await ws.close(code=1008, reason="origin not allowed")
        return
    await ws.accept()
    if feed.sockets >= MAX_SOCKETS:
        await ws.close(code=1013, reason="busy; the page polls instead")
        return
    feed.sockets += 1
    closed = asyncio.create_task(_closed(ws))
    try:
        seen = feed.version
        await ws.send_text(LISTENING)
        while True:
            change = asyncio.create_task(feed.wait(seen))
            await asyncio.wait({change, closed}, return_when=asyncio.FIRST_COMPLETED)
            if closed.done():
                change.cancel()
                return
            seen = change.result()
            await ws.send_text(CHANGED)
    finally:
        feed.sockets -= 1
        closed.cancel()


routes: list[BaseRoute] = [WebSocketRoute("/ws/channel", channel_socket)]
