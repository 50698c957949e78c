"""A viewer: one connection's place in a room, and the frames on their way to it.

Fan-out never waits on a socket. A viewer attached to an `Outlet` (the transport edge)
has each frame written the moment it is offered, in the fan-out loop itself — no task,
no wake-up — as long as the transport takes it. When the transport cannot (the client
reads too slowly and the server paused writing), frames wait in a bounded queue that one
short-lived task drains; a viewer whose queue fills is closed as too slow (4008) and
told to resume. A viewer without an outlet (the hub's own tests) only queues.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any, Protocol

from livechat import protocol
from livechat.comment import CommentWire
from livechat.identity import Identity
from livechat.network import address_key

CLOSE_TOO_SLOW = 4008
TOO_SLOW_REASON = "too slow: reconnect with after=<last id>"


# A viewer whose transport is paused merges live comment frames waiting in its queue, up
# to these bounds per frame, so its bound in frames is not reached by many small frames
# (a quiet room sends one frame per comment) any sooner than by a few large ones.
MERGE_ITEMS = 16
MERGE_CHARS = 65_536


class Frame:
    """An encoded frame; `max_id` is the highest comment id it carries (0 if none); `live`:
    a `comments` frame of the live stream (not backfill), which may be merged.

    The same object goes to every viewer, so whatever a transport derives from the text
    (its ASGI event, its wire bytes) is computed once per frame, not once per viewer."""

    __slots__ = ("_event", "_wire", "items", "live", "max_id", "text")

    def __init__(
        self, text: str, max_id: int = 0, items: tuple[CommentWire, ...] = (), live: bool = False
    ) -> None:
        self.text = text
        self.max_id = max_id
        self.items = items
        self.live = live
        self._event: dict[str, Any] | None = None
        self._wire: bytes | None = None

    @classmethod
    def comments(cls, items: tuple[CommentWire, ...], max_id: int) -> Frame:
        """A live `comments` frame."""
        return cls(protocol.comments_frame(list(items)), max_id, items, live=True)

    def event(self) -> dict[str, Any]:
        """The ASGI `websocket.send` event for this frame (servers do not modify it)."""
        if self._event is None:
            self._event = {"type": "websocket.send", "text": self.text}
        return self._event

    def wire(self) -> bytes:
        """The whole unmasked WebSocket text frame (RFC 6455 §5.2), header included."""
        if self._wire is None:
            payload = self.text.encode()
            n = len(payload)
            if n < 126:
                header = bytes((0x81, n))
            elif n < 65536:
                header = bytes((0x81, 126)) + n.to_bytes(2, "big")
            else:
                header = bytes((0x81, 127)) + n.to_bytes(8, "big")
            self._wire = header + payload
        return self._wire

    def __repr__(self) -> str:
        return f"Frame({self.text[:40]!r}, max_id={self.max_id})"


CLOSE = Frame("")  # sentinel: the viewer must be closed as too slow


class Outlet(Protocol):
    """The transport edge one viewer writes to."""

    def write(self, frame: Frame) -> bool:
        """Write `frame` now if the transport takes it without waiting; False if it
        cannot (nothing was written). Raises if the connection is gone."""

    async def send(self, frame: Frame) -> None:
        """Write `frame`, waiting while the transport is paused."""

    async def close(self, code: int, reason: str) -> None:
        """Close the connection with `code`."""


class FrameQueue:
    """A FIFO of frames with one consumer: `asyncio.Queue`'s subset we need, at a fraction of
    its cost. Most viewers never queue anything (frames are written at once), so the deque
    (a 600-byte block) exists only while frames wait."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: collections.deque[Frame] | None = None
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, frame: Frame) -> None:
        if self._items is None:
            self._items = collections.deque()
        self._items.append(frame)
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def merge_last(self, frame: Frame) -> bool:
        """Fold live comments `frame` into the last queued frame if both are live and the
        result stays within the merge bounds; False if it was not merged."""
        items = self._items
        if not items or not frame.live:
            return False
        last = items[-1]
        if (
            not last.live
            or len(last.items) + len(frame.items) > MERGE_ITEMS
            or len(last.text) + len(frame.text) > MERGE_CHARS
        ):
            return False
        items[-1] = Frame.comments(last.items + frame.items, frame.max_id)
        return True

    def unget(self, frame: Frame) -> None:
        """Put `frame` back at the head (it could not be written after all)."""
        if self._items is None:
            self._items = collections.deque()
        self._items.appendleft(frame)

    def get_nowait(self) -> Frame:
        if not self._items:
            raise IndexError("get from an empty FrameQueue")
        frame = self._items.popleft()
        if not self._items:
            self._items = None
        return frame

    async def get(self) -> Frame:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self.get_nowait()

    def qsize(self) -> int:
        return len(self._items) if self._items else 0

    def empty(self) -> bool:
        return not self._items


class Viewer:
    """One connection's view of a room."""

    __slots__ = (
        "_outlet",
        "_pending",
        "_ready",
        "_writer",
        "address",
        "closed",
        "identity",
        "max_frames",
        "presence_key",
        "queue",
        "skip_upto",
        "too_slow",
    )

    def __init__(self, identity: Identity | None, max_frames: int, address: str = "") -> None:
        self.identity = identity
        self.address = address  # the client's address, for per-address limits
        # Who this viewer is for the viewer count, fixed for the socket's life: the
        # session, or for a viewer without one its address (an IPv6 /64).
        self.presence_key = (
            identity.key
            if identity is not None
            else f"a:{address_key(address)}"
            if address
            else f"v:{id(self)}"
        )
        self.queue = FrameQueue()
        self.max_frames = max_frames
        self.closed = False
        self.too_slow = False
        self.skip_upto = 0  # ids the viewer already has (resumed ahead of this room)
        self._ready = True
        self._pending: list[Frame] | None = None
        self._outlet: Outlet | None = None
        self._writer: asyncio.Task[None] | None = None

    # -- the transport -------------------------------------------------------------------
    def attach(self, outlet: Outlet) -> None:
        """Write to `outlet` from now on; what is queued already (hello, backfill) goes
        first, written at once if the transport takes it (a join costs no task)."""
        self._outlet = outlet
        queue = self.queue
        while not queue.empty():
            frame = queue.get_nowait()
            try:
                if frame is not CLOSE and outlet.write(frame):
                    continue
            except Exception:
                self.closed = True
                return
            queue.unget(frame)
            self._start_writer()
            return

    def detach(self) -> None:
        """The connection ended: stop writing (a pending write is abandoned)."""
        self.closed = True
        self._outlet = None
        if self._writer is not None:
            self._writer.cancel()
            self._writer = None

    def _start_writer(self) -> None:
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        """Send what queued while the transport was paused, in order; then stop."""
        queue, outlet = self.queue, self._outlet
        try:
            while outlet is not None and not queue.empty():
                frame = queue.get_nowait()
                if frame is CLOSE:
                    await outlet.close(CLOSE_TOO_SLOW, TOO_SLOW_REASON)
                    return
                await outlet.send(frame)
        except Exception:  # the connection is gone; the reader side ends the viewer
            self.closed = True
        finally:
            self._writer = None

    def push(self, frame: Frame) -> None:
        """Send or queue `frame` after everything before it, whatever the bound (hello,
        backfill: it may exceed the live-frame bound once)."""
        outlet = self._outlet
        if self._writer is None and self.queue.empty() and self._written_now(frame):
            return
        if outlet is not None:
            if not self.queue.merge_last(frame):
                self.queue.put_nowait(frame)
            self._start_writer()
        else:
            self.queue.put_nowait(frame)

    def _written_now(self, frame: Frame) -> bool:
        """Whether the outlet took `frame` at once (a transport that is not paused); a
        write that fails closes the viewer, and counts as done."""
        outlet = self._outlet
        if outlet is None:
            return False
        try:
            return outlet.write(frame)
        except Exception:
            self.closed = True
            return True

    # -- fan-out -------------------------------------------------------------------------
    def offer(self, frame: Frame) -> None:
        """Send `frame` without waiting; a viewer too far behind is closed as too slow."""
        if self.closed:
            return
        if not self._ready:
            if self._pending is None:
                self._pending = []
            self._pending.append(frame)
            return
        if self.skip_upto and frame.max_id:
            if frame.max_id <= self.skip_upto:
                return
            if frame.items:
                kept = [i for i in frame.items if i["id"] > self.skip_upto]
                if len(kept) != len(frame.items):
                    frame = Frame.comments(tuple(kept), frame.max_id)
        queued = self.queue.qsize()
        # The common case, once per viewer per frame: nothing waits, write it now.
        if not queued and self._writer is None and self._written_now(frame):
            return
        if queued >= self.max_frames:
            self.too_slow = True
            self.closed = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(CLOSE)
            if self._outlet is not None:
                self._start_writer()
            return
        self.push(frame)

    def offer_direct(self, text: str) -> None:
        """Send a frame to this viewer alone (ack, error)."""
        if self.closed:
            return
        if self.queue.qsize() >= self.max_frames:
            self.offer(Frame(text))  # closes it as too slow
            return
        self.push(Frame(text))

    def drop_queued_comments(self) -> None:
        """Forget comment frames not yet sent (a `resume` re-sends them in order)."""
        kept = []
        while not self.queue.empty():
            frame = self.queue.get_nowait()
            if not frame.max_id:
                kept.append(frame)
        for frame in kept:
            self.queue.put_nowait(frame)
        if self._pending:
            self._pending = [f for f in self._pending if not f.max_id]

    def hold(self) -> None:
        self._ready = False

    def release(self) -> None:
        self._ready = True
        pending, self._pending = self._pending, None
        for frame in pending or ():
            self.offer(frame)

    async def next_frame(self) -> Frame:
        """The next queued frame (for a viewer without an outlet)."""
        return await self.queue.get()


__all__ = ["CLOSE", "CLOSE_TOO_SLOW", "Frame", "Outlet", "Viewer"]
