"""Presence publishes in a reconnect storm: P hubs (standing for P processes) on one real
Redis, N viewers joining at once, spread over the hubs.

    python3 -m bench.presence_storm --viewers 4000 --hubs 4
    python3 -m bench.presence_storm --viewers 4000 --hubs 4 --uncoalesced   # before

Counts the presence events Redis carried (publishes, and deliveries: each publish goes to
every hub's subscription) from the first join until every hub's count is exact.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import tempfile
import time
from pathlib import Path

from livechat import Identity, Viewer, broker_from_url
from livechat.broker import RESYNC
from livechat.presence import PresenceGate
from livechat.room import channel_name
from tests.livechat.hubkit import BROADCAST, open_hub
from tests.support import RedisServer


async def storm(viewers: int, hubs: int) -> dict[str, float]:
    redis = RedisServer()
    redis.start()
    db = Path(tempfile.mkdtemp()) / "storm.db"
    try:
        async with contextlib.AsyncExitStack() as stack:
            opened = [await stack.enter_async_context(open_hub(db, redis.url)) for _ in range(hubs)]
            for hub in opened:
                await hub.room(BROADCAST)
            counter = broker_from_url(redis.url)
            await counter.connect()
            stack.push_async_callback(counter.disconnect)
            publishes = 0
            sub = await stack.enter_async_context(counter.subscribe(channel_name(BROADCAST)))

            async def count() -> None:
                nonlocal publishes
                async for message in sub:
                    if message is not RESYNC and json.loads(message).get("t") == "p":
                        publishes += 1

            task = asyncio.create_task(count())
            started = time.monotonic()
            people = [
                Viewer(
                    Identity(key=f"g:{n}", name=f"v{n}"),
                    1000,
                    address=f"10.{n // 65536}.{n // 256 % 256}.{n % 256}",
                )
                for n in range(viewers)
            ]
            await asyncio.gather(
                *(opened[n % hubs].join(BROADCAST, v, None) for n, v in enumerate(people))
            )
            joined = time.monotonic() - started
            while not all(h.rooms[BROADCAST].viewer_count() == viewers for h in opened):
                await asyncio.sleep(0.01)
            exact = time.monotonic() - started
            task.cancel()
            return {
                "viewers": viewers,
                "hubs": hubs,
                "join_s": round(joined, 2),
                "exact_after_s": round(exact, 2),
                "publishes": publishes,
                "deliveries": publishes * (hubs + 1),
            }
    finally:
        redis.stop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--viewers", type=int, default=4000)
    p.add_argument("--hubs", type=int, default=4)
    p.add_argument(
        "--uncoalesced",
        action="store_true",
        help="publish every change (the behaviour before PresenceGate)",
    )
    args = p.parse_args()
    if args.uncoalesced:
        PresenceGate.request = lambda self, now: 0.0  # type: ignore[method-assign,assignment]
    print(json.dumps(asyncio.run(storm(args.viewers, args.hubs))))


if __name__ == "__main__":
    main()
