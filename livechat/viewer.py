"""A viewer: one connection's bounded queue of frames, drained by the transport.

Fan-out never waits on a socket: it offers each frame to every viewer's queue, and a
viewer whose queue is full is closed as too slow (4008) and told to resume.
"""

from __future__ import annotations

import asyncio
import collections
from dataclasses import dataclass
from typing import Any

from livechat import protocol
from livechat.identity import Identity
from livechat.network import address_key

CLOSE_TOO_SLOW = 4008


@dataclass(frozen=True)
class Frame:
    """An encoded frame; `max_id` is the highest comment id it carries (0 if none)."""

    text: str
    max_id: int = 0
    items: tuple[dict[str, Any], ...] = ()


CLOSE = Frame("")  # sentinel: the viewer must be closed as too slow


class FrameQueue:
    """A FIFO of frames with one consumer: `asyncio.Queue`'s subset we need, at a fraction of
    its cost (fan-out puts a frame into thousands of these per tick)."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: collections.deque[Frame] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, frame: Frame) -> None:
        self._items.append(frame)
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def get_nowait(self) -> Frame:
        return self._items.popleft()

    async def get(self) -> Frame:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.popleft()

    def qsize(self) -> int:
        return len(self._items)

    def empty(self) -> bool:
        return not self._items


class Viewer:
    """One connection's view of a room: a bounded queue the transport drains."""

    def __init__(self, identity: Identity | None, max_frames: int, address: str = "") -> None:
        self.identity = identity
        self.address = address  # the client's address, for per-address limits
        # Who this viewer is for the viewer count, fixed for the socket's life: the
        # session, or for a viewer without one its address (an IPv6 /64).
        self.presence_key = (identity.key if identity is not None
                             else f"a:{address_key(address)}" if address else f"v:{id(self)}")
        self.queue = FrameQueue()
        self.max_frames = max_frames
        self.closed = False
        self.too_slow = False
        self.skip_upto = 0  # ids the viewer already has (resumed ahead of this room)
        self._ready = True
        self._pending: list[Frame] = []

    def offer(self, frame: Frame) -> None:
        """Queue `frame` without waiting; a viewer that is too far behind gets CLOSE."""
        if self.closed:
            return
        if not self._ready:
            self._pending.append(frame)
            return
        if frame.max_id and frame.max_id <= self.skip_upto:
            return
        if frame.max_id and self.skip_upto and frame.items:
            kept = [i for i in frame.items if i["id"] > self.skip_upto]
            if len(kept) != len(frame.items):
                frame = Frame(protocol.comments_frame(kept), frame.max_id, tuple(kept))
        if self.queue.qsize() >= self.max_frames:
            self.too_slow = True
            self.closed = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(CLOSE)
            return
        self.queue.put_nowait(frame)

    def offer_direct(self, text: str) -> None:
        """Queue a frame for this viewer alone (ack, error), ahead of nothing."""
        if self.closed:
            return
        if self.queue.qsize() >= self.max_frames:
            self.offer(Frame(text))  # closes it as too slow
            return
        self.queue.put_nowait(Frame(text))

    def drop_queued_comments(self) -> None:
        """Forget comment frames not yet sent (a `resume` re-sends them in order)."""
        kept = []
        while not self.queue.empty():
            frame = self.queue.get_nowait()
            if not frame.max_id:
                kept.append(frame)
        for frame in kept:
            self.queue.put_nowait(frame)
        self._pending = [f for f in self._pending if not f.max_id]

    def hold(self) -> None:
        self._ready = False

    def release(self) -> None:
        self._ready = True
        pending, self._pending = self._pending, []
        for frame in pending:
            self.offer(frame)

    async def next_frame(self) -> Frame:
        return await self.queue.get()
