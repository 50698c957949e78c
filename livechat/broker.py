"""One pub/sub interface, two implementations: in-process memory and Redis.

A `Broker` carries opaque byte messages on named channels. `subscribe` is an async context
manager that always unsubscribes on exit; iterating the subscription yields each message,
or `RESYNC` when messages may have been lost (the broker reconnected): the subscriber then
catches up from the database, its source of truth. `publish` raises `BrokerUnavailable`
instead of blocking for long. Pick one with `livechat.broker_url.broker_from_url` (`""`
or `memory://` → memory; `redis://…`, `redis+sentinel://…`, `redis+cluster://…` → Redis,
imported lazily).

Besides messages, a broker may keep rate-limit buckets that every process shares
(`take`): Redis does, so a user gets the same limits whichever worker they reach; memory
answers `None`, and the caller limits in its own process, which is then exact.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Final

from livechat.ratelimit import Bucket


class _Resync:
    def __repr__(self) -> str:
        return "RESYNC"


RESYNC: Final = _Resync()
Message = bytes | _Resync


class BrokerUnavailable(RuntimeError):
    """The broker cannot take a message now (it is down, slow or disconnected)."""


class Subscription:
    """Messages of one channel, in the order the broker delivered them."""

    def __init__(self, channel: str, max_pending: int = 10_000) -> None:
        self.channel = channel
        self._queue: asyncio.Queue[Message] = asyncio.Queue()
        self._max_pending = max_pending

    def deliver(self, message: Message) -> None:
        if self._queue.qsize() >= self._max_pending:
            # The subscriber fell far behind: drop the backlog, tell it to catch up.
            while not self._queue.empty():
                self._queue.get_nowait()
            message = RESYNC
        self._queue.put_nowait(message)

    def __aiter__(self) -> AsyncIterator[Message]:
        return self

    async def __anext__(self) -> Message:
        return await self._queue.get()


class Broker(abc.ABC):
    """The six operations every implementation provides, and shared buckets where it can."""

    @abc.abstractmethod
    async def connect(self) -> None: ...

    @abc.abstractmethod
    async def disconnect(self) -> None: ...

    @abc.abstractmethod
    async def publish(self, channel: str, message: bytes) -> None:
        """Send `message` to every subscriber of `channel` in every process."""

    @abc.abstractmethod
    def subscribe(self, channel: str) -> contextlib.AbstractAsyncContextManager[Subscription]:
        """Receive `channel`'s messages until the context exits."""

    @abc.abstractmethod
    async def ping(self) -> bool:
        """True if the broker answers now."""

    @property
    @abc.abstractmethod
    def healthy(self) -> bool:
        """False while messages cannot flow (subscribers should poll the database)."""

    async def take(self, buckets: Sequence[Bucket]) -> list[float] | None:
        """Take one token (`Bucket.cost`) from every bucket at once, for all processes.

        Returns the wait in seconds for each bucket: all 0.0 means the tokens were taken;
        any other answer took none. `None`: this broker keeps no shared buckets, or cannot
        answer now; the caller then limits in its own process."""
        return None

    async def lease(self, key: str, holder: str, seconds: float) -> str | None:
        """Hold `key` for `holder` for `seconds` unless someone else holds it; return who
        holds it now (`holder` when this call got or renewed it). `None`: this broker
        keeps no shared leases (one process), or cannot answer now."""
        return None

    @abc.abstractmethod
    async def announce(self, group: str, member: str, value: bytes) -> None:
        """Set `member`'s entry in `group`, which every process can read (a worker's
        numbers for the status page); best effort, never raises. Entries carry their own
        time: readers skip stale ones."""

    @abc.abstractmethod
    async def announcements(self, group: str) -> dict[str, bytes]:
        """Every member's entry in `group` (empty when the broker cannot answer now)."""

    @abc.abstractmethod
    async def withdraw(self, group: str, members: Sequence[str]) -> None:
        """Remove `members` from `group` (best effort)."""


class MemoryBroker(Broker):
    """In-process fan-out: every subscriber in this process, nobody else."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = {}
        self._groups: dict[str, dict[str, bytes]] = {}

    async def connect(self) -> None:
        return None

    async def disconnect(self) -> None:
        self._subscribers.clear()

    async def publish(self, channel: str, message: bytes) -> None:
        for sub in self._subscribers.get(channel, ()):
            sub.deliver(message)

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        sub = Subscription(channel)
        self._subscribers.setdefault(channel, set()).add(sub)
        try:
            yield sub
        finally:
            subs = self._subscribers.get(channel)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subscribers[channel]

    async def ping(self) -> bool:
        return True

    @property
    def healthy(self) -> bool:
        return True

    async def announce(self, group: str, member: str, value: bytes) -> None:
        self._groups.setdefault(group, {})[member] = value

    async def announcements(self, group: str) -> dict[str, bytes]:
        return dict(self._groups.get(group, {}))

    async def withdraw(self, group: str, members: Sequence[str]) -> None:
        found = self._groups.get(group, {})
        for member in members:
            found.pop(member, None)
