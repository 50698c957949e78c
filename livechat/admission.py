"""Admission control: a per-process connection cap, a cap per client address, and a
per-broadcast admission rate.

Pure arithmetic; the caller passes the clock. When the mayor announces something,
thousands join at once, and after a restart every client reconnects at once: admitting
at a steady rate turns the spike into a ramp. A client the broadcast's rate refuses is told
when its turn comes (`Backlog`): the n-th refused comes back n / rate seconds later, so
the refused are spread evenly over the time the bucket needs to admit them all, instead
of guessing with an exponential backoff (which left a tail of tens of seconds).

The caps count this process's sockets. The two rates are token buckets that the hub
shares with every process through the broker (`buckets`, then `opened`), and `admit`
keeps them in this process while the broker keeps none (memory, or Redis down).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from livechat.network import address_key
from livechat.ratelimit import Bucket, RateLimiter, retry_after

# Seconds a client over its address's cap is told to wait: its own sockets must close first.
ADDRESS_RETRY = 30
# Seconds a client over this process's connection cap is told to wait.
SATURATED_RETRY = 5
# The longest turn a refused client is given: past it the estimate is too rough to keep
# a place (the client comes back, and is refused again with a fresh turn if need be).
BACKLOG_HORIZON = 120.0


@dataclass
class Backlog:
    """Clients one broadcast's admission rate refused, waiting for their turn.

    `waiting` drains at the admission `rate` (the bucket admits that many a second), so it
    is the number refused recently whose turn has not come yet. Pure: the caller passes
    the clock."""

    rate: float
    waiting: float = 0.0
    updated: float = 0.0

    def drain(self, now: float) -> None:
        if now > self.updated:
            self.waiting = max(0.0, self.waiting - (now - self.updated) * self.rate)
            self.updated = now

    def turn(self, now: float, wait: float) -> float:
        """Seconds until the turn of a client refused now (and count it as waiting): the
        bucket's `wait` for its next token, plus one interval of the rate for every
        client refused before it that is still waiting."""
        self.drain(now)
        ahead = self.waiting
        self.waiting += 1
        if self.rate <= 0:
            return BACKLOG_HORIZON
        return min(BACKLOG_HORIZON, wait + ahead / self.rate)


class Admission:
    def __init__(
        self, max_connections: int, rate_per_second: float, burst: int, per_address: int = 50
    ) -> None:
        self.max_connections = max_connections
        self.per_address = per_address
        self.open = 0
        self.by_address: dict[str, int] = {}
        self._rates = RateLimiter(capacity=burst, per_minute=rate_per_second * 60)
        # New sockets per address: its whole cap at once, then a tenth of it a second, so
        # one client opening and closing sockets cannot spend the broadcast's admission rate.
        self._address_rates = RateLimiter(capacity=per_address, per_minute=per_address * 6)
        self._backlogs: dict[int, Backlog] = {}

    @property
    def saturated(self) -> bool:
        return self.open >= self.max_connections

    def address_full(self, address: str) -> bool:
        return bool(address) and self.by_address.get(address_key(address), 0) >= self.per_address

    def refusal(self, address: str = "") -> int:
        """Seconds to wait if this process's caps refuse a connection from `address`, else 0."""
        if self.saturated:
            return SATURATED_RETRY
        if self.address_full(address):
            return ADDRESS_RETRY
        return 0

    def buckets(self, broadcast_id: int, address: str = "") -> list[Bucket]:
        """The rate buckets a connection takes a token from (shared across processes)."""
        broadcast = self._rates
        found = [Bucket(f"admit:b:{broadcast_id}", broadcast.capacity, broadcast.rate)]
        if address:
            per = self._address_rates
            found.insert(0, Bucket(f"admit:a:{address_key(address)}", per.capacity, per.rate))
        return found

    def admit(self, broadcast_id: int, now: float, address: str = "") -> float:
        """0 if a new connection from `address` may join `broadcast_id` (and it is counted
        as open), else the seconds the client should wait before trying again; the rates
        are this process's own."""
        refused = self.refusal(address)
        if refused:
            return refused
        if address:
            wait = self._address_rates.check(address_key(address), now)
            if wait:
                return wait_seconds(wait)
        wait = self._rates.check(str(broadcast_id), now)
        if wait:
            return self.turn(broadcast_id, now, wait)
        self.opened(address)
        return 0

    def turn(self, broadcast_id: int, now: float, wait: float) -> float:
        """Seconds (rounded up to a tenth) a client refused by `broadcast_id`'s rate should
        wait, `wait` being the bucket's own wait for its next token: its turn behind every
        client refused before it (`Backlog`). The buckets may be shared by every process;
        the backlog is this process's."""
        backlog = self._backlogs.get(broadcast_id)
        if backlog is None:
            if len(self._backlogs) >= 1000:
                self._forget_drained(now)
            backlog = self._backlogs[broadcast_id] = Backlog(self._rates.rate, updated=now)
        return retry_after(backlog.turn(now, wait))

    def _forget_drained(self, now: float) -> None:
        for key, backlog in list(self._backlogs.items()):
            backlog.drain(now)
            if not backlog.waiting:
                del self._backlogs[key]

    def opened(self, address: str = "") -> None:
        """Count a connection admitted (by the shared buckets) as open."""
        self.open += 1
        if address:
            key = address_key(address)
            self.by_address[key] = self.by_address.get(key, 0) + 1

    def release(self, address: str = "") -> None:
        self.open = max(0, self.open - 1)
        if address:
            key = address_key(address)
            left = self.by_address.get(key, 0) - 1
            if left > 0:
                self.by_address[key] = left
            else:
                self.by_address.pop(key, None)


def wait_seconds(wait: float) -> int:
    """A bucket's wait as the whole seconds a refused client is told (at least one)."""
    return max(1, math.ceil(wait))
