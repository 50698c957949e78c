"""The Redis implementation of `Broker` (pub/sub), with reconnection.

One connection publishes, one `PubSub` connection carries every channel this process
listens to. When Redis goes away the reader marks the broker unhealthy, reconnects with
exponential backoff and jitter, subscribes again to every live channel, and hands each
subscription `RESYNC` so it catches up from the database. A failed publish first makes the
reader send a PING on its own connection (`_still_listening`): when it comes back, only
this process was too slow to hear an answer (its loop saturated by a reconnect storm), the
subscription lost nothing, and no room re-reads its ring.

Shared rate-limit buckets are one Lua script (`TAKE`), atomic in Redis and timed by
Redis's clock, so workers on several hosts agree. A post must never wait on a sick
Redis: the script gets `TAKE_TIMEOUT`, and after a failure this process limits locally
for `TAKE_PAUSE` seconds before it asks Redis again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.sentinel import Sentinel
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, RedisError

from livechat import redis_topology
from livechat.broker import RESYNC, Broker, BrokerUnavailable, Subscription
from livechat.ratelimit import Bucket

log = logging.getLogger("livechat.redis")
PUBLISH_TIMEOUT = 1.0
BACKOFF_MIN, BACKOFF_MAX = 0.05, 3.0
TAKE_TIMEOUT = 0.1
TAKE_PAUSE = 1.0
PROBE_TIMEOUT = 3.0  # for the reader's own PING after a failed publish
PROBE = b"live-seoul-probe"
# One hash tag for every bucket: a take touches several buckets at once, and on a Cluster
# one script may only touch keys of one slot.
BUCKET_PREFIX = "live-seoul:{bucket}:"
LEASE_PREFIX = "live-seoul:lease:"
GROUP_PREFIX = "live-seoul:group:"

# KEYS[1]: the lease; ARGV: holder, milliseconds. Taken or renewed only by its holder.
LEASE = """
local cur = redis.call('GET', KEYS[1])
if not cur or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ARGV[1]
end
return cur
"""

# KEYS: the buckets; ARGV: capacity, rate (tokens per second) and cost of each, in turn.
# A take needs one token in every bucket and removes `cost` (0 only asks).
# A bucket is a hash {tokens, ts}; it expires once it would be full again anyway.
# Returns each bucket's wait in seconds (as strings: Lua numbers would be truncated);
# all "0" means one token was taken from each, anything else took none.
TAKE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local tokens, waits, short = {}, {}, false
for i = 1, #KEYS do
  local cap, rate = tonumber(ARGV[3 * i - 2]), tonumber(ARGV[3 * i - 1])
  local b = redis.call('HMGET', KEYS[i], 'tokens', 'ts')
  local t, ts = tonumber(b[1]), tonumber(b[2])
  if t == nil or ts == nil then t, ts = cap, now end
  t = math.min(cap, t + math.max(0, now - ts) * rate)
  tokens[i] = t
  if t >= 1 then
    waits[i] = '0'
  elseif rate > 0 then
    waits[i] = tostring((1 - t) / rate); short = true
  else
    waits[i] = '1e9'; short = true
  end
end
if not short then
  for i = 1, #KEYS do
    local cap, rate = tonumber(ARGV[3 * i - 2]), tonumber(ARGV[3 * i - 1])
    local cost = tonumber(ARGV[3 * i])
    if cost > 0 then
      redis.call('HSET', KEYS[i], 'tokens', tostring(tokens[i] - cost), 'ts', tostring(now))
      local full = rate > 0 and (cap - tokens[i] + cost) / rate or 86400
      redis.call('PEXPIRE', KEYS[i], math.ceil(full * 1000) + 1000)
    end
  end
end
return waits
"""


class RedisBroker(Broker):
    """One Redis server, a Sentinel-watched master or a Cluster (`livechat.redis_topology`);
    on a Cluster pub/sub is sharded (SSUBSCRIBE/SPUBLISH), so each broadcast's channel
    lives on the node that owns its slot."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.topology = redis_topology.parse(url)
        # redis-py's Redis or RedisCluster: they share the commands used here, not a type.
        self._redis: Any = None
        self._subs: dict[str, set[Subscription]] = {}
        self._listening: set[str] = set()  # channels subscribed on the reader's connection
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._healthy = False
        self._connected = asyncio.Event()
        self._changed = asyncio.Event()
        self._take: AsyncScript | None = None
        self._lease: AsyncScript | None = None
        self._take_paused_until = 0.0
        # Takes asked while others are on their way wait for the next round trip, all in
        # one pipeline (see `_send_takes`).
        self._takes: list[tuple[list[str], list[str], asyncio.Future[Any]]] = []
        self._taking: asyncio.Task[None] | None = None

    def _client(self) -> Any:
        return redis_client(self.topology)

    @property
    def _verbs(self) -> tuple[str, str]:
        """(subscribe, unsubscribe): sharded on a Cluster."""
        if self.topology.sharded:
            return "ssubscribe", "sunsubscribe"
        return "subscribe", "unsubscribe"

    async def connect(self) -> None:
        self._redis = self._client()
        self._take = self._redis.register_script(TAKE)
        self._lease = self._redis.register_script(LEASE)
        self._reader = asyncio.create_task(self._run(), name="redis-broker-reader")
        # Do not fail start-up if Redis is down: the service runs on, locally.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2.0):
                await self._connected.wait()
                # Open the command connection now (a Sentinel is asked for the master, a
                # Cluster for its slots), so the first take is not the one that waits.
                await self.ping()

    async def disconnect(self) -> None:
        if self._taking is not None:
            self._taking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._taking
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
        if self._redis is not None:
            await close_redis(self._redis)

    async def publish(self, channel: str, message: bytes) -> None:
        assert self._redis is not None
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
            # that races with completion (CPython gh-86296), leaving stop() hanging.
            async with asyncio.timeout(PUBLISH_TIMEOUT):
                if self.topology.sharded:
                    await self._redis.spublish(channel, message)
                else:
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
            await self._send_subscription(self._verbs[0], channel)
        try:
            yield sub
        finally:
            subs.discard(sub)
            if not subs:
                del self._subs[channel]
                await self._send_subscription(self._verbs[1], channel)

    async def _send_subscription(self, verb: str, channel: str) -> None:
        pubsub = self._pubsub
        if pubsub is None or not self._healthy:
            return  # the reader subscribes to every channel when it reconnects
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT):
                await getattr(pubsub, verb)(channel)
        except (RedisError, OSError, TimeoutError) as exc:
            self._mark_down(exc)
            return
        if verb == self._verbs[0]:
            self._listening.add(channel)
        else:
            self._listening.discard(channel)

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

    async def take(self, buckets: Sequence[Bucket]) -> list[float] | None:
        if self._take is None or not self._healthy or not buckets:
            return None
        if time.monotonic() < self._take_paused_until:
            return None
        keys = [BUCKET_PREFIX + b.key for b in buckets]
        args = [str(x) for b in buckets for x in (b.capacity, b.rate, b.cost)]
        try:
            async with asyncio.timeout(TAKE_TIMEOUT):
                if self.topology.sharded:
                    waits = await self._take(keys=keys, args=args)
                else:
                    # Shielded: a take that gives up waiting leaves the round trip (and its
                    # connection) intact for the others in it.
                    waits = await asyncio.shield(self._queue_take(keys, args))
                if isinstance(waits, BaseException):
                    raise waits
        except (RedisError, OSError, TimeoutError) as exc:
            if time.monotonic() >= self._take_paused_until:  # once, not once per waiter
                log.warning(
                    "shared rate limits unavailable, limiting locally: %s",
                    str(exc) or type(exc).__name__,
                )
                self._take_paused_until = time.monotonic() + TAKE_PAUSE
            return None
        return [float(w) for w in waits]

    def _queue_take(self, keys: list[str], args: list[str]) -> asyncio.Future[Any]:
        """The answer to one take (its waits, or the error), sent with the next round trip."""
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._takes.append((keys, args, answer))
        if self._taking is None:
            self._taking = asyncio.create_task(self._send_takes(), name="redis-takes")
        return answer

    async def _send_takes(self) -> None:
        """Send the queued takes, all in one pipeline, until none are left. redis-py opens
        a connection per concurrent command: a burst of connections (each asks admission)
        once opened hundreds, each with its handshake inside the take's 0.1 s, and the
        takes timed out; now a burst costs a few round trips on one connection."""
        try:
            while self._takes:
                batch, self._takes = self._takes, []
                try:
                    answers = await self._run_takes([(k, a) for k, a, _ in batch])
                except Exception as exc:  # each waiter raises it (and limits locally)
                    answers = [exc] * len(batch)
                for (_, _, answer), result in zip(batch, answers, strict=True):
                    if not answer.done():
                        answer.set_result(result)
        finally:
            self._taking = None
            for _, _, answer in self._takes:
                answer.cancel()
            self._takes = []

    async def _run_takes(self, takes: list[tuple[list[str], list[str]]]) -> list[Any]:
        """Each take's waits (or its error), from one pipeline of `TAKE` scripts."""
        assert self._take is not None
        for _ in range(2):
            pipe = self._redis.pipeline(transaction=False)
            for keys, args in takes:
                pipe.evalsha(self._take.sha, len(keys), *keys, *args)
            answers: list[Any] = await pipe.execute(raise_on_error=False)
            if not any(isinstance(a, NoScriptError) for a in answers):
                break
            await self._redis.script_load(TAKE)  # Redis restarted or flushed its scripts
        return answers

    async def lease(self, key: str, holder: str, seconds: float) -> str | None:
        if self._lease is None or not self._healthy:
            return None
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT):
                current = await self._lease(
                    keys=[LEASE_PREFIX + key], args=[holder, str(int(seconds * 1000))]
                )
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("lease %s unavailable: %s", key, str(exc) or type(exc).__name__)
            return None
        return current.decode() if isinstance(current, bytes) else str(current)

    async def announce(self, group: str, member: str, value: bytes) -> None:
        # One hash per group: one key (one cluster slot), read in one round trip.
        await self._quietly(lambda r: r.hset(GROUP_PREFIX + group, member, value))

    async def announcements(self, group: str) -> dict[str, bytes]:
        found = await self._quietly(lambda r: r.hgetall(GROUP_PREFIX + group))
        if not isinstance(found, dict):
            return {}
        return {
            (k.decode() if isinstance(k, bytes) else str(k)): bytes(v) for k, v in found.items()
        }

    async def withdraw(self, group: str, members: Sequence[str]) -> None:
        if members:
            await self._quietly(lambda r: r.hdel(GROUP_PREFIX + group, *members))

    async def _quietly(self, call: Callable[[Any], Awaitable[object]]) -> object:
        """`call` on the command connection within PUBLISH_TIMEOUT; None on any failure."""
        if self._redis is None or not self._healthy:
            return None
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT):
                return await call(self._redis)
        except (RedisError, OSError, TimeoutError):
            return None

    def _mark_down(self, exc: BaseException) -> None:
        if self._healthy:
            log.warning("redis unavailable: %s", exc)
        self._healthy = False
        self._changed.set()

    @staticmethod
    async def _close_reader(pubsub: Any, redis: Any) -> None:
        if pubsub is not None:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
        with contextlib.suppress(Exception):
            await close_redis(redis)

    async def _run(self) -> None:
        delay = BACKOFF_MIN
        while True:
            pubsub = None
            redis = self._client()
            try:
                if self.topology.sharded:
                    await redis.initialize()  # learn the slots: pub/sub routes by them
                pubsub = redis.pubsub(ignore_subscribe_messages=True)
                subscribe = getattr(pubsub, self._verbs[0])
                # Subscribing needs at least one channel; this one is ours alone.
                await subscribe("live-seoul:control")
                if self._subs:
                    await subscribe(*self._subs)
                self._listening = set(self._subs)
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
                while True:
                    if self._changed.is_set():
                        if not await self._still_listening(pubsub):
                            raise ConnectionError("publish failed")
                        continue
                    if self.topology.sharded:
                        message = await pubsub.get_sharded_message(timeout=1.0)
                    else:
                        message = await pubsub.get_message(timeout=1.0)
                    if message is not None:
                        self._dispatch(message)
            except asyncio.CancelledError:
                await self._close_reader(pubsub, redis)
                raise
            except Exception as exc:  # any failure: reconnect
                self._mark_down(exc)
                self._pubsub = None
                await self._close_reader(pubsub, redis)
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(BACKOFF_MAX, delay * 2)

    def _dispatch(self, message: dict[str, Any]) -> None:
        channel = message["channel"]
        name = channel.decode() if isinstance(channel, bytes) else str(channel)
        for sub in list(self._subs.get(name, ())):
            sub.deliver(message["data"])

    async def _still_listening(self, pubsub: Any) -> bool:
        """After a failed publish or (un)subscription: whether the reader's connection
        still carries every message, checked with a PING of its own (messages that arrive
        first are delivered). Then the broker is healthy again with no `RESYNC`: under a
        reconnect storm this process's loop can be too slow to hear Redis within the
        publish timeout while Redis and the subscription are fine. Channels whose
        subscription was skipped meanwhile are subscribed now, and only their subscribers
        get `RESYNC`. False: reconnect (a Cluster's sharded pub/sub always does)."""
        self._changed.clear()
        if self.topology.sharded:
            return False
        try:
            async with asyncio.timeout(PROBE_TIMEOUT):
                await pubsub.ping(PROBE)
                while True:
                    message = await pubsub.get_message(timeout=PROBE_TIMEOUT)
                    if message is None:
                        continue
                    if message["type"] == "pong":
                        if message["data"] == PROBE:
                            break
                        continue
                    self._dispatch(message)
                resubscribed: list[str] = []
                while True:  # rooms may come and go during each await
                    missing = [c for c in self._subs if c not in self._listening]
                    gone = [c for c in self._listening if c not in self._subs]
                    if not missing and not gone:
                        break
                    if missing:
                        await pubsub.subscribe(*missing)
                        self._listening.update(missing)
                        resubscribed.extend(missing)
                    if gone:
                        await pubsub.unsubscribe(*gone)
                        self._listening.difference_update(gone)
        except (RedisError, OSError, TimeoutError):
            return False
        self._healthy = True
        log.info("redis answers: the failed call met this process's own slowness")
        for channel in resubscribed:
            for sub in self._subs.get(channel, ()):
                sub.deliver(RESYNC)
        return True


async def close_redis(client: Any) -> None:
    """Close a client from `client`, and the Sentinel connections it asked through."""
    await client.aclose()
    for sentinel in getattr(client, "live_seoul_sentinels", ()):
        await sentinel.aclose()


def redis_client(topology: redis_topology.RedisTopology) -> Any:
    """A redis-py asyncio client for `topology` (`Redis`, or `RedisCluster`); close it
    with `close`."""
    options: dict[str, Any] = {
        "socket_connect_timeout": redis_topology.CONNECT_TIMEOUT,
        "socket_timeout": None,
        "health_check_interval": 0,
    }
    if topology.kind == "single":
        return aioredis.from_url(topology.url, **options)
    if topology.kind == "sentinel":
        sentinel = Sentinel(  # type: ignore[no-untyped-call]
            list(topology.nodes), sentinel_kwargs=topology.sentinel_options()
        )
        master = sentinel.master_for(
            topology.service, db=topology.db, **topology.client_options(), **options
        )
        # The master's client does not close the Sentinels' own connections.
        master.live_seoul_sentinels = sentinel.sentinels
        return master
    return RedisCluster(
        startup_nodes=[ClusterNode(h, p) for h, p in topology.nodes],
        socket_connect_timeout=redis_topology.CONNECT_TIMEOUT,
        **topology.client_options(),
    )
