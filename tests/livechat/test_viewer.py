"""A viewer's writes: straight to the transport while it takes them; queued (bounded,
live comments merged) while it is paused; closed as too slow when the queue is full."""

from __future__ import annotations

import asyncio
import json

from livechat import CLOSE_TOO_SLOW, Frame, Viewer


class PausedTransport:
    """An outlet whose transport takes frames only while `open` is set (a client that
    stops reading pauses the server's transport)."""

    def __init__(self) -> None:
        self.written: list[str] = []
        self.open = asyncio.Event()
        self.open.set()
        self.closed_with: int | None = None

    def write(self, frame: Frame) -> bool:
        if not self.open.is_set():
            return False
        assert frame.wire()[0] == 0x81  # a whole, final text frame
        self.written.append(frame.text)
        return True

    async def send(self, frame: Frame) -> None:
        await self.open.wait()
        self.written.append(frame.text)

    async def close(self, code: int, reason: str) -> None:
        self.closed_with = code


def live(i: int) -> Frame:
    return Frame.comments(({"id": i, "text": f"#{i}"},), i)


def ids(texts: list[str]) -> list[int]:
    return [item["id"] for t in texts for item in json.loads(t).get("items", ())]


async def test_frames_go_straight_to_an_open_transport() -> None:
    """While the transport takes frames, nothing is queued and no task is started."""
    viewer, transport = Viewer(None, 4), PausedTransport()
    viewer.attach(transport)
    for i in range(1, 11):
        viewer.offer(live(i))
    assert ids(transport.written) == list(range(1, 11))
    assert viewer.queue.empty() and not viewer.closed


async def test_a_paused_viewer_merges_live_comments_then_catches_up_in_order() -> None:
    """Paused, a viewer queues; many one-comment frames merge into few (bounded), and when
    the transport opens everything arrives in order, once."""
    viewer, transport = Viewer(None, 8), PausedTransport()
    viewer.attach(transport)
    transport.open.clear()
    for i in range(1, 101):
        viewer.offer(live(i))
    viewer.offer_direct('{"type":"pong"}')
    assert viewer.queue.qsize() <= 8 and not viewer.closed
    transport.open.set()
    async with asyncio.timeout(5):
        while not viewer.queue.empty() or len(transport.written) < viewer.queue.qsize():
            await asyncio.sleep(0)
        while '{"type":"pong"}' not in transport.written:
            await asyncio.sleep(0)
    assert ids(transport.written) == list(range(1, 101))
    assert all(len(json.loads(t).get("items", ())) <= 16 for t in transport.written)


async def test_a_viewer_that_stays_paused_is_closed_as_too_slow() -> None:
    """Past its bound the queue is dropped and the connection closed with 4008."""
    viewer, transport = Viewer(None, 4), PausedTransport()
    viewer.attach(transport)
    transport.open.clear()
    for i in range(1, 200):
        viewer.offer(live(i))
        viewer.offer_direct('{"type":"pong"}')  # not mergeable: fills the queue
    assert viewer.closed and viewer.too_slow
    transport.open.set()
    async with asyncio.timeout(5):
        while transport.closed_with is None:
            await asyncio.sleep(0)
    assert transport.closed_with == CLOSE_TOO_SLOW


async def test_what_was_queued_before_the_transport_goes_first() -> None:
    """Frames queued before the viewer is attached (hello, backfill) are written first,
    at once when the transport takes them, then live frames, in order."""
    viewer, transport = Viewer(None, 4), PausedTransport()
    viewer.push(Frame('{"type":"hello"}'))
    viewer.push(live(1))
    viewer.attach(transport)
    viewer.offer(live(2))
    assert transport.written[0] == '{"type":"hello"}'
    assert ids(transport.written) == [1, 2] and viewer.queue.empty()


async def test_a_transport_paused_at_attach_gets_the_queue_later_in_order() -> None:
    """If the transport is paused when the viewer attaches, the queued frames wait and
    go out, before later ones, when it opens."""
    viewer, transport = Viewer(None, 8), PausedTransport()
    transport.open.clear()
    viewer.push(Frame('{"type":"hello"}'))
    viewer.attach(transport)
    viewer.offer(live(1))
    assert transport.written == []
    transport.open.set()
    async with asyncio.timeout(5):
        while len(transport.written) < 2:
            await asyncio.sleep(0)
    assert transport.written[0] == '{"type":"hello"}' and ids(transport.written) == [1]
