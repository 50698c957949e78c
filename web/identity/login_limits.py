"""How many wrong passwords the site takes, and from whom.

Four counts of failed logins, each a token bucket of `n` failures refilled over the
window: per (address, username), per username, per address (an IPv6 /64 counts as one)
and for the whole site. Usernames are counted in their normalised form
(`web.identity.usernames.username_key`), the same one the lookup uses, so spelling a name
differently buys no new guesses. A browser that logged in to that account before (its
device cookie) is counted on its own bucket instead, so a flood from elsewhere does not
lock staff out.

Buckets are shared by every process through the broker's `take` (the same Lua script as
comment limits, Redis's clock); while Redis is absent or down each process counts alone.
A login first asks whether every bucket still has room (cost 0), and only a failure
takes a token: concurrent attempts may overshoot by at most the logins that can wait for
a hashing slot (`web.identity.password_gate`).
"""

from __future__ import annotations

import time

from livechat import Broker
from livechat.network import address_key
from livechat.ratelimit import Bucket, RateLimiter
from web.settings import Settings


class LoginLimits:
    def __init__(self, settings: Settings, broker: Broker) -> None:
        self.window = float(settings.login_window_seconds)
        self._broker = broker
        self._sizes = {
            "pair": settings.login_failures_per_name,
            "name": settings.login_failures_per_account,
            "addr": settings.login_failures_per_address,
            "all": settings.login_failures_global,
            "dev": settings.login_failures_per_name,
        }
        self._local = {
            kind: RateLimiter(n, n * 60 / self.window) for kind, n in self._sizes.items()
        }

    def _buckets(self, address: str, user_key: str, device: str | None) -> list[Bucket]:
        if device is not None:
            keys = {"dev": device}
        else:
            addr = address_key(address)
            keys = {"pair": f"{addr}|{user_key}", "name": user_key, "addr": addr, "all": "*"}
        return [
            Bucket(f"login:{kind}:{key}", self._sizes[kind], self._sizes[kind] / self.window)
            for kind, key in keys.items()
        ]

    async def wait(self, address: str, user_key: str, device: str | None) -> float:
        """Seconds until a login for `user_key` from `address` may be tried (0.0: now).
        `device`: the id of a device cookie made for this very account, if any."""
        buckets = [
            Bucket(b.key, b.capacity, b.rate, cost=0)
            for b in self._buckets(address, user_key, device)
        ]
        waits = await self._broker.take(buckets)
        if waits is None:
            now = time.monotonic()
            waits = [self._local[b.key.split(":")[1]].peek(b.key, now) for b in buckets]
        return max(waits, default=0.0)

    async def failed(self, address: str, user_key: str, device: str | None) -> None:
        """Count one failed login in each of its buckets."""
        now = time.monotonic()
        for bucket in self._buckets(address, user_key, device):
            waits = await self._broker.take([bucket])
            if waits is None:
                self._local[bucket.key.split(":")[1]].check(bucket.key, now)
