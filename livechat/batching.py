"""When a room sends: at once when it is quiet, in batches only when batching pays.

Each frame costs a fixed amount per viewer (a system call, a wake-up) on top of its bytes,
so a room's sending cost is about viewers × frames per second. `Batching` keeps a room's
comment rate (an exponentially decaying count) and, after each send, a *window*: the next
send waits until the window has passed since the last one. The window grows with the
square of the room's load, viewers × comments per second, so a quiet room (one comment now
and then, or few viewers) sends every comment the moment it is stored, a moderate one
batches only what arrives while its frames are written, and a busy one sends a bounded
number of frames per second whatever the rate. Nothing here needs tuning per deployment.

Pure: the caller passes the clock.
"""

from __future__ import annotations

import math

# The window grows with the square of the load (viewers × comments/s), from FULL_WINDOW at
# FULL_LOAD: 2,000 viewers × 100/s → 100 ms (10 frames a second), 1,000 × 100 → 25 ms,
# 500 × 50 → 1.6 ms, 200 × 10 → 10 µs (every comment at once). A moderate room thus
# batches only what arrives while its frames are being written, and only a heavy one, whose
# viewers × frames per second would otherwise swamp the process, waits for company.
FULL_LOAD = 200_000.0
FULL_WINDOW = 0.1
MAX_WINDOW = 0.15  # the most a comment waits for company
RATE_HORIZON = 1.0  # seconds: the rate estimate forgets with this time constant


class Batching:
    __slots__ = ("_rate", "_seen_at", "next_send_at")

    def __init__(self) -> None:
        self._rate = 0.0
        self._seen_at = 0.0
        self.next_send_at = 0.0  # monotonic time before which the room does not send

    def rate(self, now: float) -> float:
        """Comments per second, decayed to `now`."""
        return self._rate * math.exp(-max(0.0, now - self._seen_at) / RATE_HORIZON)

    def sent(self, comments: int, viewers: int, now: float) -> float:
        """Record a send of `comments` to `viewers`; return the window until the next."""
        self._rate = self.rate(now) + comments / RATE_HORIZON
        self._seen_at = now
        window = window_for(viewers, self._rate)
        self.next_send_at = now + window
        return window

    def wait(self, now: float) -> float:
        """Seconds to wait before sending now (0: send at once)."""
        return max(0.0, self.next_send_at - now)


def window_for(viewers: int, rate: float) -> float:
    """The batching window for a room of `viewers` receiving `rate` comments a second."""
    load = viewers * rate / FULL_LOAD
    return min(MAX_WINDOW, FULL_WINDOW * load * load)
