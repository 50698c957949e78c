"""Prometheus metrics at `GET /metrics`, in the text exposition format (version 0.0.4).

Each worker process keeps its numbers in its hub (`hub.stats`, `hub.rejections`,
`hub.lag`). Behind `live-seoul serve --workers N` a scrape reaches one worker at random,
so every worker also leaves a snapshot of its numbers in METRICS_DIR every few seconds,
and whichever worker answers reports all fresh snapshots, each series labelled with its
`pid`. A restarted worker has a new pid: its counters start a new series instead of going
backwards (Prometheus' `rate()` and `sum by` handle that).

The core is pure: `snapshot` turns a process's state into plain data, `families` turns
snapshots into metric families, `render` writes them as text. `MetricsRecorder` is the
I/O edge (database pings, snapshot files) that the lifespan runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import math
import os
import resource
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from livechat import CommentHub, CommentStore
from web.services import Services, services
from web.settings import Settings

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SAMPLE_INTERVAL = 5.0  # seconds between database pings and snapshot files
STALE_AFTER = 30.0  # a snapshot older than this belongs to a worker that is gone
FORGET_AFTER = 3600.0  # snapshot files older than this are deleted
PING_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
CLK_TCK = os.sysconf("SC_CLK_TCK")

# hub.stats keys with a name and help of their own; any other key is shown generically.
COUNTERS: dict[str, tuple[str, str]] = {
    "accepted": ("comments_accepted_total", "Comments stored and acknowledged."),
    "frames": ("fanout_frames_total", "Frames fanned out to rooms (one per batch or event)."),
    "deliveries": ("fanout_deliveries_total", "Comments queued to viewers (items × viewers)."),
    "slow_disconnects": ("slow_client_disconnects_total",
                         "Viewers closed because their send queue was full (4008)."),
    "publish_failures": ("broker_publish_failures_total",
                         "Notifications the broker did not take (rooms catch up from the DB)."),
}
SUMMARIZED = {"rejected", "batches_total", "batch_items_total",
              "fanout_lag_seconds_sum", "fanout_lag_seconds_count"}


# -- the pure core -------------------------------------------------------------------------
@dataclass
class Histogram:
    """Cumulative-bucket histogram (Prometheus semantics) over fixed upper bounds."""

    bounds: tuple[float, ...] = PING_BUCKETS
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    count: int = 0

    def __post_init__(self) -> None:
        if not self.counts:
            self.counts = [0] * len(self.bounds)

    def observe(self, value: float) -> None:
        self.total += value
        self.count += 1
        for i, bound in enumerate(self.bounds):
            if value <= bound:
                self.counts[i] += 1

    def as_data(self) -> dict[str, Any]:
        return {"bounds": list(self.bounds), "counts": list(self.counts),
                "sum": self.total, "count": self.count}


@dataclass(frozen=True)
class Sample:
    suffix: str  # "" or "_sum", "_count", "_bucket"
    labels: tuple[tuple[str, str], ...]
    value: float


@dataclass
class Family:
    name: str
    kind: str  # counter | gauge | summary | histogram | untyped
    help: str
    samples: list[Sample] = field(default_factory=list)

    def add(self, labels: Mapping[str, object], value: float, suffix: str = "") -> None:
        self.samples.append(
            Sample(suffix, tuple((k, str(v)) for k, v in labels.items()), float(value))
        )


def snapshot(hub: CommentHub, broker_kind: str, ping: Histogram, pid: int,
             now: float) -> dict[str, Any]:
    """One process's numbers as plain JSON-able data."""
    admission = getattr(hub, "admission", None)
    return {
        "pid": pid,
        "written_at": now,
        "process_id": hub.process_id,
        "connections": sum(len(room.viewers) for room in hub.rooms.values()),
        "rooms": len(hub.rooms),
        # people, not sockets (one client with many tabs is one viewer: Room.local_presence)
        "viewers": {str(bid): room.local_presence for bid, room in hub.rooms.items()},
        "stats": {k: int(v) for k, v in hub.stats.items()},
        "lag": {k: float(v) for k, v in getattr(hub, "lag", {}).items()},
        "rejections": dict(hub.rejections),
        "broker": broker_kind,
        "broker_healthy": 1 if hub.broker.healthy else 0,
        "admission_open": getattr(admission, "open", None),
        "max_connections": getattr(admission, "max_connections", None),
        "db_ping": ping.as_data(),
        **process_stats(pid),
    }


def process_stats(pid: int) -> dict[str, float]:
    """Resident memory, CPU seconds and start time of a process (Linux /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        statm = Path(f"/proc/{pid}/statm").read_text().split()
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text()
                    .splitlines() if line.startswith("btime"))
    except (OSError, IndexError, StopIteration, ValueError):
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {"cpu_seconds": usage.ru_utime + usage.ru_stime,
                "rss_bytes": usage.ru_maxrss * 1024, "start_time": 0.0}
    return {
        "cpu_seconds": (int(stat[11]) + int(stat[12])) / CLK_TCK,
        "rss_bytes": int(statm[1]) * PAGE_SIZE,
        "start_time": boot + int(stat[19]) / CLK_TCK,
    }


def _stat(snap: Mapping[str, Any], key: str) -> float:
    stats: Mapping[str, Any] = snap.get("stats", {})
    lag: Mapping[str, Any] = snap.get("lag", {})
    return float(stats.get(key, lag.get(key, 0)) or 0)


def families(snapshots: Iterable[Mapping[str, Any]], db_ping_seconds: float | None = None,
             answering_pid: int | None = None) -> list[Family]:
    """Metric families over every process snapshot; samples of a family stay together."""
    fams: dict[str, Family] = {}

    def fam(name: str, kind: str, help: str) -> Family:
        full = "live_seoul_" + name
        if full not in fams:
            fams[full] = Family(full, kind, help)
        return fams[full]

    for snap in sorted(snapshots, key=lambda s: int(s["pid"])):
        pid = {"pid": snap["pid"]}
        fam("process_info", "gauge", "Worker processes reporting (value 1).").add(
            {**pid, "process_id": snap.get("process_id", "")}, 1)
        fam("connections", "gauge", "Open viewer WebSockets.").add(pid, snap["connections"])
        fam("rooms", "gauge", "Broadcasts with a room (and a broker subscription).").add(
            pid, snap["rooms"])
        per_room = fam("broadcast_connections", "gauge", "Open viewer WebSockets per broadcast.")
        viewers: Mapping[str, int] = snap.get("viewers", {})
        for broadcast_id in sorted(viewers, key=int):
            per_room.add({**pid, "broadcast_id": broadcast_id}, viewers[broadcast_id])
        for key, (name, help) in COUNTERS.items():
            fam(name, "counter", help).add(pid, _stat(snap, key))
        rejected = fam("comments_rejected_total", "counter", "Comments refused, by reason.")
        reasons: Mapping[str, int] = snap.get("rejections", {})
        for reason in sorted(reasons):
            rejected.add({**pid, "reason": reason}, reasons[reason])
        batch = fam("fanout_batch_size", "summary", "Comments per fanned-out batch.")
        batch.add(pid, _stat(snap, "batch_items_total"), "_sum")
        batch.add(pid, _stat(snap, "batches_total"), "_count")
        lag = fam("fanout_lag_seconds", "summary",
                  "Age of a batch's oldest comment when the batch went out.")
        lag.add(pid, _stat(snap, "fanout_lag_seconds_sum"), "_sum")
        lag.add(pid, _stat(snap, "fanout_lag_seconds_count"), "_count")
        for key in sorted(snap.get("stats", {})):
            if key not in COUNTERS and key not in SUMMARIZED:
                fam(f"hub_{key}", "untyped", f"hub.stats[{key!r}].").add(pid, _stat(snap, key))
        fam("broker_up", "gauge", "1 while the broker carries messages, else 0.").add(
            {**pid, "broker": snap.get("broker", "")}, snap["broker_healthy"])
        if snap.get("max_connections") is not None:
            fam("connection_limit", "gauge", "Per-process connection cap.").add(
                pid, snap["max_connections"])
        if snap.get("admission_open") is not None:
            fam("admitted_connections", "gauge", "Connections counted by admission control.").add(
                pid, snap["admission_open"])
        ping = snap.get("db_ping") or {}
        hist = fam("db_ping_duration_seconds", "histogram",
                   "Latency of `SELECT 1` on the read connection, sampled every few seconds.")
        for bound, count in zip(ping.get("bounds", ()), ping.get("counts", ()), strict=True):
            hist.add({**pid, "le": _number(bound)}, count, "_bucket")
        hist.add({**pid, "le": "+Inf"}, ping.get("count", 0), "_bucket")
        hist.add(pid, ping.get("sum", 0.0), "_sum")
        hist.add(pid, ping.get("count", 0), "_count")
        fam("process_resident_memory_bytes", "gauge", "Resident memory.").add(
            pid, snap.get("rss_bytes", 0))
        fam("process_cpu_seconds_total", "counter", "User and system CPU time.").add(
            pid, snap.get("cpu_seconds", 0))
        fam("process_start_time_seconds", "gauge", "Start time (Unix seconds).").add(
            pid, snap.get("start_time", 0))
    if db_ping_seconds is not None:
        fam("db_ping_seconds", "gauge",
            "Latency of `SELECT 1` measured by the worker that answered this scrape.").add(
            {"pid": answering_pid}, db_ping_seconds)
    return list(fams.values())


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render(fams: Iterable[Family]) -> str:
    """The text exposition format: HELP and TYPE, then every sample of the family."""
    lines: list[str] = []
    for f in fams:
        lines.append(f"# HELP {f.name} {f.help.replace(chr(92), chr(92) * 2)}")
        lines.append(f"# TYPE {f.name} {f.kind}")
        for s in f.samples:
            labels = ",".join(f'{k}="{_label_value(v)}"' for k, v in s.labels)
            lines.append(f"{f.name}{s.suffix}{{{labels}}} {_number(s.value)}")
    return "\n".join(lines) + "\n"


def authorized(header: str | None, token: str) -> bool:
    """True when no token is configured or `header` is `Bearer <token>` (constant time)."""
    if not token:
        return True
    if not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header.removeprefix("Bearer ").strip().encode(), token.encode())


# -- the I/O edge --------------------------------------------------------------------------
def metrics_dir(settings: Settings) -> Path:
    if settings.metrics_dir:
        return Path(settings.metrics_dir)
    db = settings.database_path
    return db.with_name(db.name + ".metrics")


class MetricsRecorder:
    """Pings the database, keeps the latency histogram, shares snapshots between workers."""

    def __init__(self, hub: CommentHub, comments: CommentStore, broker_kind: str,
                 directory: Path) -> None:
        self.hub = hub
        self.comments = comments
        self.broker_kind = broker_kind
        self.directory = directory
        self.ping = Histogram()
        self.pid = os.getpid()

    async def ping_database(self) -> float:
        start = time.perf_counter()
        await self.comments.ping()
        return time.perf_counter() - start

    def snapshot(self) -> dict[str, Any]:
        return snapshot(self.hub, self.broker_kind, self.ping, self.pid, time.time())

    @property
    def _own_file(self) -> Path:
        return self.directory / f"{self.pid}.json"

    def write(self) -> None:
        """Leave this worker's snapshot for the others (atomic rename, never half a file)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        partial = self.directory / f".{self.pid}.json.tmp"
        partial.write_text(json.dumps(self.snapshot()), encoding="utf-8")
        os.replace(partial, self._own_file)

    def others(self, now: float) -> list[dict[str, Any]]:
        """Fresh snapshots of the other workers; forgets files of long-gone workers."""
        found: list[dict[str, Any]] = []
        with contextlib.suppress(FileNotFoundError):
            for path in self.directory.glob("*.json"):
                if path.name == self._own_file.name:
                    continue
                try:
                    data = json.loads(path.read_text(encoding="utf-8"))
                    age = now - float(data["written_at"])
                except (OSError, ValueError, KeyError, TypeError):
                    continue
                if age > FORGET_AFTER:
                    path.unlink(missing_ok=True)
                elif age <= STALE_AFTER and isinstance(data, dict):
                    found.append(data)
        return found

    async def sample_once(self) -> None:
        # A failed ping shows as a missing observation here and as 503 in /readyz.
        with contextlib.suppress(Exception):
            self.ping.observe(await self.ping_database())
        await asyncio.to_thread(self.write)

    @contextlib.asynccontextmanager
    async def running(self, interval: float = SAMPLE_INTERVAL) -> AsyncIterator[MetricsRecorder]:
        """Sample every `interval` seconds while the context is open; remove the file after."""

        async def loop() -> None:
            while True:
                with contextlib.suppress(OSError):
                    await self.sample_once()
                await asyncio.sleep(interval)

        task = asyncio.create_task(loop(), name="metrics-sampler")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self._own_file.unlink(missing_ok=True)


def recorder(request: Request) -> MetricsRecorder:
    found: MetricsRecorder = request.state.metrics
    return found


def broker_kind(svc: Services) -> str:
    return "redis" if svc.settings.redis_url else "memory"


async def metrics_endpoint(request: Request) -> Response:
    svc = services(request)
    if not authorized(request.headers.get("authorization"), svc.settings.metrics_token):
        return PlainTextResponse("unauthorized\n", 401,
                                 headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    rec = recorder(request)
    ping: float | None
    try:
        ping = await rec.ping_database()
        rec.ping.observe(ping)
    except Exception:
        ping = None
    now = time.time()
    snaps = [rec.snapshot(), *await asyncio.to_thread(rec.others, now)]
    body = render(families(snaps, ping, rec.pid))
    return PlainTextResponse(body, media_type=CONTENT_TYPE,
                             headers={"Cache-Control": "no-store"})


routes = [Route("/metrics", metrics_endpoint, methods=["GET"])]
