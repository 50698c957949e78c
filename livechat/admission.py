"""Admission control: a per-process connection cap and a per-broadcast admission rate.

Pure arithmetic; the caller passes the clock. When the mayor announces something,
thousands join at once, and after a restart every client reconnects at once: admitting
at a steady rate (with the client's jittered backoff) turns the spike into a ramp.
"""

from __future__ import annotations

import math

from livechat.ratelimit import RateLimiter


class Admission:
    def __init__(self, max_connections: int, rate_per_second: float, burst: int) -> None:
        self.max_connections = max_connections
        self.open = 0
        self._rates = RateLimiter(capacity=burst, per_minute=rate_per_second * 60)

    @property
    def saturated(self) -> bool:
        return self.open >= self.max_connections

    def admit(self, broadcast_id: int, now: float) -> int:
        """0 if a new connection may join `broadcast_id` (and it is counted as open), else
        the whole seconds the client should wait before trying again."""
        if self.saturated:
            return 5
        wait = self._rates.check(str(broadcast_id), now)
        if wait:
            return max(1, math.ceil(wait))
        self.open += 1
        return 0

    def release(self) -> None:
        self.open = max(0, self.open - 1)
