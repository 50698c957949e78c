"""Token buckets as plain arithmetic (the caller passes the clock)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class TokenBucket:
    """`capacity` tokens, refilled at `rate` tokens per second. Pure: no clock inside."""

    capacity: float
    rate: float
    tokens: float
    updated: float

    @classmethod
    def full(cls, capacity: float, rate: float, now: float) -> TokenBucket:
        return cls(capacity=capacity, rate=rate, tokens=capacity, updated=now)

    def refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now

    def take(self, now: float, cost: float = 1.0) -> float:
        """Take `cost` tokens; return 0.0 on success, else the seconds until it would pass."""
        self.refill(now)
        if self.tokens >= cost:
            self.tokens -= cost
            return 0.0
        if self.rate <= 0:
            return float("inf")
        return (cost - self.tokens) / self.rate


class RateLimiter:
    """Buckets keyed by identity or address; idle full buckets are forgotten."""

    def __init__(self, capacity: float, per_minute: float, max_keys: int = 100_000) -> None:
        self.capacity = capacity
        self.rate = per_minute / 60.0
        self.max_keys = max_keys
        self._buckets: dict[str, TokenBucket] = {}

    def check(self, key: str, now: float) -> float:
        """0.0 if `key` may act now (and the token is taken), else seconds to wait."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self.prune(now)
            bucket = self._buckets[key] = TokenBucket.full(self.capacity, self.rate, now)
        return bucket.take(now)

    def peek(self, key: str, now: float) -> float:
        """`check` without taking: 0.0 if `key` has a token now, else seconds to wait."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return 0.0
        bucket.refill(now)
        if bucket.tokens >= 1:
            return 0.0
        return float("inf") if bucket.rate <= 0 else (1 - bucket.tokens) / bucket.rate

    def prune(self, now: float) -> None:
        idle = []
        for key, bucket in self._buckets.items():
            bucket.refill(now)
            if bucket.tokens >= bucket.capacity:
                idle.append(key)
        for key in idle:
            del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)


def retry_after(wait: float) -> float:
    """`wait` seconds rounded *up* to a tenth, as sent to clients: one that waits exactly
    this long is never early (rounding to nearest sent them back 50 ms too soon)."""
    return math.ceil(wait * 10) / 10


@dataclass(frozen=True)
class Bucket:
    """A token bucket: `capacity` tokens, refilled at `rate` tokens per second. A take
    needs one token there and removes `cost` (0: only ask whether one is there)."""

    key: str
    capacity: float
    rate: float
    cost: float = 1.0
