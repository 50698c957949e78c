"""Channel builder benchmark: one Seoul day from catalogs of 1,000 to 100,000 replays.

    python3 -m bench.channel              # 1k, 10k, 100k replays, 5 runs each
    python3 -m bench.channel --sizes 10000 --runs 9

`build_channel` runs on every `/api/now`, home and schedule request. It picks each slot by
scanning the ranked catalog best first and stopping at the first replay allowed there.
The baseline, in the same run, is the previous implementation: filter the whole catalog
for every slot, then take the first that fits. Both must give the same day (checked).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from unittest import mock

from schedule import (
    Broadcast,
    ChannelSlot,
    ReplayCandidate,
    build_channel,
    channel,
    day_bounds,
)

DAY = date(2026, 12, 1)
WINDOW = timedelta(hours=6)


def catalog(size: int, seed: int = 1) -> list[ReplayCandidate]:
    rng = random.Random(seed)
    first = datetime(2020, 1, 1, tzinfo=UTC)
    return [
        ReplayCandidate(
            i,
            f"다시보기 {i}",
            rng.randint(10, 120) * 60,
            first + timedelta(days=rng.randint(0, 2500)),
            int(rng.paretovariate(1.2) * 100),
        )
        for i in range(1, size + 1)
    ]


def lives() -> list[Broadcast]:
    """A weekday's lives: morning briefing, noon site visit, afternoon meeting."""
    start, _ = day_bounds(DAY)
    at = [(9, 0, 40), (12, 30, 90), (15, 0, 120), (19, 0, 60)]
    return [
        Broadcast(
            n,
            f"생방송 {n}",
            "",
            "회의",
            start + timedelta(hours=h, minutes=m),
            start + timedelta(hours=h, minutes=m + length),
            "planned",
        )
        for n, (h, m, length) in enumerate(at, 1)
    ]


def eager_pick(
    self: channel._Filler, at: datetime, left: timedelta, before: str | None, after: str | None
) -> tuple[ReplayCandidate | None, bool, bool]:
    """The baseline: the whole allowed list for every slot, then the first that fits."""
    room = left.total_seconds()
    allowed = [r for r in self.ranked if self.allowed(r, at)]
    choices = [
        r
        for r in allowed
        if r.title != before and not (r.title == after and r.duration_seconds >= room)
    ]
    blocked = len(choices) < len(allowed)
    whole = [r for r in choices if r.duration_seconds <= room]
    if whole:
        return whole[0], False, blocked
    return (choices[0], True, blocked) if choices else (None, True, blocked)


def timed(build: Callable[[], list[ChannelSlot]], runs: int) -> tuple[float, list[ChannelSlot]]:
    times, slots = [], []
    for _ in range(runs):
        began = time.perf_counter()
        slots = build()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000, slots


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"{'replays':>8} {'slots':>6} {'build (ms)':>11} {'baseline (ms)':>14} {'ratio':>6}")
    for size in args.sizes:
        build = partial(build_channel, DAY, lives(), catalog(size), repeat_window=WINDOW)

        ours, slots = timed(build, args.runs)
        with mock.patch.object(channel._Filler, "pick", eager_pick):
            base, base_slots = timed(build, args.runs)
        if slots != base_slots:
            raise SystemExit(f"{size} replays: the two builders disagree")
        print(f"{size:>8,} {len(slots):>6} {ours:>11.1f} {base:>14.1f} {base / ours:>5.1f}×")


if __name__ == "__main__":
    main()
