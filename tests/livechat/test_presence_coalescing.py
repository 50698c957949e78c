"""Presence is published at most once per room per process per second, and the count
every process ends with is still exact."""

from __future__ import annotations

import asyncio
import json
import math
import time
from pathlib import Path

import pytest

from livechat import Viewer, broker_from_url
from livechat.broker import RESYNC
from livechat.presence import PresenceGate
from livechat.room import channel_name
from tests.livechat.hubkit import BROADCAST, citizen, frames_until, open_hub

JOINS = 200


def test_gate_lets_one_through_and_folds_the_rest_into_one_trailing_publish() -> None:
    """First change publishes now; changes within the interval schedule one publish at the
    interval's end; after it, the next change waits a full interval again."""
    gate = PresenceGate(interval=1.0)
    assert gate.request(10.0) == 0.0
    assert gate.request(10.2) == pytest.approx(0.8)
    assert [gate.request(t) for t in (10.3, 10.9, 10.95)] == [None, None, None]
    gate.fired(11.0)
    assert gate.request(11.4) == pytest.approx(0.6)
    gate.fired(12.0)
    assert gate.request(13.5) == 0.0


async def test_a_burst_of_joins_costs_at_most_two_presence_publishes(
    tmp_path: Path, broker_url: str
) -> None:
    """200 joins at once on hub a: at most two presence publishes from a in that second
    (not 200), and hub b's viewers end with the exact count."""
    broker = broker_from_url(broker_url)
    await broker.connect()
    db = tmp_path / "db.sqlite"
    try:
        async with open_hub(db, broker=broker) as a, open_hub(db, broker=broker) as b:
            watcher = Viewer(citizen(0), 1000, address="198.51.100.250")
            await b.join(BROADCAST, watcher, None)
            await a.room(BROADCAST)
            published: list[int] = []
            arrived: list[float] = []
            async with broker.subscribe(channel_name(BROADCAST)) as sub:

                async def record() -> None:
                    async for message in sub:
                        if message is RESYNC:
                            continue
                        event = json.loads(message)
                        if event.get("t") == "p" and event.get("proc") == a.process_id:
                            published.append(event["n"])
                            arrived.append(time.monotonic())

                recorder = asyncio.create_task(record())
                started = time.monotonic()
                viewers = [
                    Viewer(citizen(n), 1000, address=f"10.1.{n // 200}.{n % 200}")
                    for n in range(1, JOINS + 1)
                ]
                await asyncio.gather(*(a.join(BROADCAST, v, None) for v in viewers))
                burst = time.monotonic() - started
                frames = await frames_until(
                    watcher,
                    lambda fs: any(
                        f["type"] == "presence" and f["viewers"] == JOINS + 1 for f in fs
                    ),
                )
                watched = time.monotonic() - started
                recorder.cancel()
            assert frames
            assert published[-1] == JOINS
            # At most two in the burst's second (one at once, one trailing), and never more
            # than one a second after it (the periodic report is coalesced too).
            first_second = [t for t in arrived if t - arrived[0] < 1.0]
            assert len(first_second) <= 2 + int(burst), (burst, published)
            assert len(published) <= 1 + math.ceil(watched), (watched, published)
            assert a.rooms[BROADCAST].viewer_count() == JOINS + 1
            assert b.rooms[BROADCAST].viewer_count() == JOINS + 1
    finally:
        await broker.disconnect()
