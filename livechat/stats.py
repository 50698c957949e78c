"""One process's hub counters, typed (read by `web.ops.metrics`, written by the hub, its rooms
and the transport edge)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Literal

# Counted by the edges (web), not the hub: shown only once they moved, as before.
EDGE_COUNTERS = frozenset(
    {
        "db_broadcast_lookups",
        "connection_cap_refused",
        "address_cap_refused",
        "admission_refused",
        "http_shed",
    }
)

Refused = Literal["connection_cap_refused", "address_cap_refused", "admission_refused"]


@dataclass
class HubStats:
    accepted: int = 0
    rejected: int = 0
    frames: int = 0
    deliveries: int = 0
    slow_disconnects: int = 0
    publish_failures: int = 0
    batches_total: int = 0
    batch_items_total: int = 0
    db_room_reads: int = 0
    db_backfill_reads: int = 0
    db_fanout_reads: int = 0
    ring_backfills: int = 0
    db_broadcast_lookups: int = 0
    connection_cap_refused: int = 0
    address_cap_refused: int = 0
    admission_refused: int = 0
    http_shed: int = 0
    fanout_lag_seconds_sum: float = 0.0
    fanout_lag_seconds_count: int = 0
    rejections: dict[str, int] = field(default_factory=dict)  # rejected posts by code

    def refused(self, counter: Refused) -> None:
        """Count a connection refused by admission control."""
        if counter == "connection_cap_refused":
            self.connection_cap_refused += 1
        elif counter == "address_cap_refused":
            self.address_cap_refused += 1
        else:
            self.admission_refused += 1

    def reject(self, code: str) -> None:
        self.rejected += 1
        self.rejections[code] = self.rejections.get(code, 0) + 1

    def record_batch(self, size: int, oldest_created_at: str) -> None:
        """Count a fanned-out batch and its lag (oldest comment's age when it went out).

        `created_at` is the database's clock, the age this host's: the lag includes their
        skew (kept off the hot path: no round trip to read the database's clock here)."""
        self.batches_total += 1
        self.batch_items_total += size
        try:
            lag = (datetime.now(UTC) - datetime.fromisoformat(oldest_created_at)).total_seconds()
        except ValueError:
            return
        self.fanout_lag_seconds_sum += max(0.0, lag)
        self.fanout_lag_seconds_count += 1

    def counters(self) -> dict[str, int]:
        """The integer counters by name (edge counters only once they moved)."""
        out: dict[str, int] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name.startswith("fanout_lag") or not isinstance(value, int):
                continue
            if f.name in EDGE_COUNTERS and not value:
                continue
            out[f.name] = value
        return out

    def lag(self) -> dict[str, float]:
        return {
            "fanout_lag_seconds_sum": self.fanout_lag_seconds_sum,
            "fanout_lag_seconds_count": float(self.fanout_lag_seconds_count),
        }
