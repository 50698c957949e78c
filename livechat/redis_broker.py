"""The Redis implementation of `Broker` (pub/sub), with reconnection.

One connection publishes, one `PubSub` connection carries every channel this process
listens to. When Redis goes away the reader marks the broker unhealthy, reconnects with
exponential backoff and jitter, subscribes again to every live channel, and hands each
subscription `RESYNC` so it catches up from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from livechat.broker import RESYNC, Broker, BrokerUnavailable, Subscription

log = logging.getLogger("livechat.redis")
PUBLISH_TIMEOUT = 1.0
BACKOFF_MIN, BACKOFF_MAX = 0.05, 3.0


class RedisBroker(Broker):
    def __init__(self, url: str) -> None:
        self.url = url
        self._redis: aioredis.Redis | None = None
        self._subs: dict[str, set[Subscription]] = {}
        self._pubsub: aioredis.client.PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._healthy = False
        self._connected = asyncio.Event()
        self._changed = asyncio.Event()

    def _client(self) -> aioredis.Redis:
        return aioredis.from_url(
            self.url, socket_connect_timeout=1.0, socket_timeout=None, health_check_interval=0
        )

    async def connect(self) -> None:
        self._redis = self._client()
        self._reader = asyncio.create_task(self._run(), name="redis-broker-reader")
        # Do not fail start-up if Redis is down: the service runs on, locally.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2.0):
                await self._connected.wait()

    async def disconnect(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        if self._redis is not None:
            await self._redis.aclose()

    async def publish(self, channel: str, message: bytes) -> None:
        assert self._redis is not None
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
            # that races with completion (CPython gh-86296), leaving stop() hanging.
            async with asyncio.timeout(PUBLISH_TIMEOUT):
                await self._redis.publish(channel, message)
        except (RedisError, OSError, TimeoutError) as exc:
            self._mark_down(exc)
            raise BrokerUnavailable(str(exc) or type(exc).__name__) from exc

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        sub = Subscription(channel)
        subs = self._subs.setdefault(channel, set())
        subs.add(sub)
        if len(subs) == 1:
            await self._send_subscription("subscribe", channel)
        try:
            yield sub
        finally:
            subs.discard(sub)
            if not subs:
                del self._subs[channel]
                await self._send_subscription("unsubscribe", channel)

    async def _send_subscription(self, verb: str, channel: str) -> None:
        pubsub = self._pubsub
        if pubsub is None or not self._healthy:
            return  # the reader subscribes to every channel when it reconnects
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT):
                await getattr(pubsub, verb)(channel)
        except (RedisError, OSError, TimeoutError) as exc:
            self._mark_down(exc)

    async def ping(self) -> bool:
        if self._redis is None:
            return False
        try:
            async with asyncio.timeout(1.0):
                return bool(await self._redis.ping())
        except (RedisError, OSError, TimeoutError):
            return False

    @property
    def healthy(self) -> bool:
        return self._healthy

    def _mark_down(self, exc: BaseException) -> None:
        if self._healthy:
            log.warning("redis unavailable: %s", exc)
        self._healthy = False
        self._changed.set()

    async def _run(self) -> None:
        delay = BACKOFF_MIN
        while True:
            pubsub = None
            redis = self._client()
            try:
                pubsub = redis.pubsub(ignore_subscribe_messages=True)
                # Subscribing needs at least one channel; this one is ours alone.
                await pubsub.subscribe("live-seoul:control")
                if self._subs:
                    await pubsub.subscribe(*self._subs)
                self._pubsub = pubsub
                was_down = not self._connected.is_set() or not self._healthy
                self._healthy = True
                self._changed.clear()
                self._connected.set()
                delay = BACKOFF_MIN
                if was_down:
                    log.info("redis connected")
                    for subs in list(self._subs.values()):
                        for sub in subs:
                            sub.deliver(RESYNC)
                while not self._changed.is_set():
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    channel = message["channel"]
                    name = channel.decode() if isinstance(channel, bytes) else str(channel)
                    for sub in list(self._subs.get(name, ())):
                        sub.deliver(message["data"])
                raise ConnectionError("publish failed")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure: reconnect
                self._mark_down(exc)
                self._pubsub = None
                if pubsub is not None:
                    with contextlib.suppress(Exception):
                        await pubsub.aclose()  # type: ignore[no-untyped-call]
                with contextlib.suppress(Exception):
                    await redis.aclose()
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(BACKOFF_MAX, delay * 2)
