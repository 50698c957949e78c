"""How often a process tells the others its viewer count: pure arithmetic, clock passed.

Every join and leave changes a room's count. Publishing each change would cost, in a
reconnect storm of N sockets spread over P processes, N publishes each delivered to P
processes (Redis load ~ N x P, and N itself grows with P). A `PresenceGate` lets one
publish through at once and folds every later change within `interval` into one trailing
publish of the latest count: at most one publish per room per process per `interval`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PUBLISH_INTERVAL = 1.0  # seconds: at most one presence publish per room per process


@dataclass
class PresenceGate:
    interval: float = PUBLISH_INTERVAL
    last: float = -math.inf
    scheduled: bool = False

    def request(self, now: float) -> float | None:
        """A count changed at `now`: 0.0 means publish now (counted as done); a positive
        number, schedule one publish that many seconds later and call `fired` then;
        None, one is scheduled already (it will carry the latest count)."""
        if self.scheduled:
            return None
        wait = self.last + self.interval - now
        if wait <= 0:
            self.last = now
            return 0.0
        self.scheduled = True
        return wait

    def fired(self, now: float) -> None:
        """The scheduled publish went out at `now`."""
        self.scheduled = False
        self.last = now
