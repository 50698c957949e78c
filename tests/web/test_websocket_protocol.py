"""The lean inbox and flag of `web.http.websocket_protocol` behave as the asyncio
Queue and Event subset uvicorn's protocol relies on (the socket tests run the protocol
itself under uvicorn)."""

from __future__ import annotations

import asyncio

from web.http.websocket_protocol import Flag, Inbox


def test_inbox_is_fifo_and_wakes_its_reader() -> None:
    async def run() -> list[int]:
        inbox = Inbox()
        assert inbox.empty()
        reader = asyncio.create_task(inbox.get())
        await asyncio.sleep(0)  # the reader waits on an empty inbox
        assert not reader.done()
        inbox.put_nowait(1)
        inbox.put_nowait(2)
        first = await reader
        assert not inbox.empty()
        second = await inbox.get()
        assert inbox.empty()
        return [first, second]

    assert asyncio.run(run()) == [1, 2]


def test_inbox_reader_cancelled_then_another_reads() -> None:
    async def run() -> str:
        inbox = Inbox()
        reader = asyncio.create_task(inbox.get())
        await asyncio.sleep(0)
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        inbox.put_nowait("x")
        return str(await asyncio.wait_for(inbox.get(), 5))

    assert asyncio.run(run()) == "x"


def test_flag_wait_returns_when_set_and_blocks_when_cleared() -> None:
    async def run() -> None:
        flag = Flag(True)
        await asyncio.wait_for(flag.wait(), 5)  # set: no wait
        flag.clear()
        assert not flag.is_set()
        waiters = [asyncio.create_task(flag.wait()) for _ in range(2)]
        await asyncio.sleep(0)
        assert not any(w.done() for w in waiters)
        flag.set()
        await asyncio.wait_for(asyncio.gather(*waiters), 5)
        assert flag.is_set()

    asyncio.run(run())
