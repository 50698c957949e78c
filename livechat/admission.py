"""Admission control: a per-process connection cap, a cap per client address, and a
per-broadcast admission rate.

Pure arithmetic; the caller passes the clock. When the mayor announces something,
thousands join at once, and after a restart every client reconnects at once: admitting
at a steady rate (with the client's jittered backoff) turns the spike into a ramp.

The caps count this process's sockets. The two rates are token buckets that the hub
shares with every process through the broker (`buckets`, then `opened`), and `admit`
keeps them in this process while the broker keeps none (memory, or Redis down).
"""

from __future__ import annotations

import math

from livechat.network import address_key
from livechat.ratelimit import Bucket, RateLimiter

# Seconds a client over its address's cap is told to wait: its own sockets must close first.
ADDRESS_RETRY = 30


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

    @property
    def saturated(self) -> bool:
        return self.open >= self.max_connections

    def address_full(self, address: str) -> bool:
        return bool(address) and self.by_address.get(address_key(address), 0) >= self.per_address

    def refusal(self, address: str = "") -> int:
        """Seconds to wait if this process's caps refuse a connection from `address`, else 0."""
        if self.saturated:
            return 5
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

    def admit(self, broadcast_id: int, now: float, address: str = "") -> int:
        """0 if a new connection from `address` may join `broadcast_id` (and it is counted
        as open), else the whole seconds the client should wait before trying again; the
        rates are this process's own."""
        refused = self.refusal(address)
        if refused:
            return refused
        if address:
            wait = self._address_rates.check(address_key(address), now)
            if wait:
                return wait_seconds(wait)
        wait = self._rates.check(str(broadcast_id), now)
        if wait:
            return wait_seconds(wait)
        self.opened(address)
        return 0

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
