"""When a room sends: at once when it is quiet, in batches only when batching pays.

Each frame costs a fixed amount per viewer (a system call, a wake-up) on top of its bytes,
so a room's sending cost is about viewers × frames per second. `Batching` keeps a room's
comment rate (an exponentially decaying count) and, after each send, a *window*: the next
send waits until the window has passed since the last one. The window is the larger of:

* the room's load, viewers × comments per second: a quiet room (one comment now and
  then, or few viewers) sends every comment the moment it is stored, a busy one a bounded
  number of frames per second whatever the rate;
* `WRITE_SHARE` times what the last send took to write: what arrives while frames are
  still being written waits for the next frame, and a process whose cores are taken (a
  saturated machine, a slow one) widens its own windows instead of falling behind.

Nothing here needs tuning per deployment.

Pure: the caller passes the clock.
"""

from __future__ import annotations

import math

# Seconds of window per (viewer × comment/s): 2,000 viewers × 100/s → 50 ms, 500 × 50 →
# 6.25 ms, 200 × 10 → 0.5 ms (every comment at once). Writing 2,000 frames takes 35–45 ms
# on the benchmark's machine, so there the writing term rules (docs/performance.md).
WINDOW_PER_LOAD = 0.25e-6
WRITE_SHARE = 1.5  # the window is at least this many times the last send's writing time
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

    def sent(self, comments: int, viewers: int, now: float, writing: float = 0.0) -> float:
        """Record a send of `comments` to `viewers` at `now` that took `writing` seconds to
        write; return the window until the next."""
        self._rate = self.rate(now) + comments / RATE_HORIZON
        self._seen_at = now
        window = window_for(viewers, self._rate, writing)
        self.next_send_at = now + window
        return window

    def wait(self, now: float) -> float:
        """Seconds to wait before sending now (0: send at once)."""
        return max(0.0, self.next_send_at - now)


def window_for(viewers: int, rate: float, writing: float = 0.0) -> float:
    """The batching window for a room of `viewers` receiving `rate` comments a second whose
    last send took `writing` seconds to write."""
    return min(MAX_WINDOW, max(viewers * rate * WINDOW_PER_LOAD, WRITE_SHARE * writing))
