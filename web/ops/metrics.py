"""Prometheus metrics at `GET /metrics`, kept by `prometheus-client` in its multiprocess mode.

Each worker process keeps its numbers in its hub (`hub.stats`, a `livechat.stats.HubStats`:
counters, rejections, lag). Every few seconds, and on each scrape for the worker that
answers, the recorder copies them into prometheus-client metrics, which in multiprocess mode live in
memory-mapped files in this host's own directory, `<METRICS_DIR>/<HOST_ID>/`. Whichever
worker a scrape reaches reads every worker's files of its host (`MultiProcessCollector`):
counters, summaries and histograms are summed over the host's workers (a dead worker's
counts stay, so nothing goes backwards); gauges keep a `pid` label, and only live
workers' gauges are shown. Every series carries `host` (HOST_ID, default the hostname):
Prometheus scrapes each host, and since each host writes its own directory, pids of
different containers never collide, even on a shared volume.

The status page shows every worker of every host from `snapshot`s that each worker
announces through the broker (Redis: one hash every process reads).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import os
import re
import resource
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Summary,
    generate_latest,
    values,
)
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from livechat import Broker, CommentHub, CommentStore
from web.services import Services, services
from web.settings import Settings

# The text format generate_latest writes (prometheus-client names 1.0.0 by now, the same
# text; scrapers accept both).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SAMPLE_INTERVAL = 5.0  # seconds between database pings and copies of the hub's numbers
STALE_AFTER = 30.0  # an announced snapshot older than this belongs to a worker that is gone
FORGET_AFTER = 3600.0  # announced snapshots older than this are removed
WORKERS = "workers"  # the broker group every worker announces its snapshot in
PING_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
CLK_TCK = os.sysconf("SC_CLK_TCK")

# hub.stats keys with a name and help of their own; any other key is shown generically.
COUNTERS: dict[str, tuple[str, str]] = {
    "accepted": ("comments_accepted", "Comments stored and acknowledged."),
    "frames": ("fanout_frames", "Frames fanned out to rooms (one per batch or event)."),
    "deliveries": ("fanout_deliveries", "Comments queued to viewers (items × viewers)."),
    "slow_disconnects": (
        "slow_client_disconnects",
        "Viewers closed because their send queue was full (4008).",
    ),
    "publish_failures": (
        "broker_publish_failures",
        "Notifications the broker did not take (rooms catch up from the DB).",
    ),
}
SUMMARIZED = {
    "rejected",
    "batches_total",
    "batch_items_total",
    "fanout_lag_seconds_sum",
    "fanout_lag_seconds_count",
}


# -- the pure core -------------------------------------------------------------------------
def snapshot(hub: CommentHub, broker_kind: str, host: str, pid: int, now: float) -> dict[str, Any]:
    """One process's numbers as plain JSON-able data (announced for the status page)."""
    return {
        "host": host,
        "pid": pid,
        "written_at": now,
        "process_id": hub.process_id,
        "connections": sum(len(room.viewers) for room in hub.rooms.values()),
        "rooms": len(hub.rooms),
        # people, not sockets (one client with many tabs is one viewer: Room.local_presence)
        "viewers": {str(bid): room.local_presence for bid, room in hub.rooms.items()},
        "broker": broker_kind,
        "broker_healthy": 1 if hub.broker.healthy else 0,
        **process_stats(pid),
    }


def process_stats(pid: int) -> dict[str, float]:
    """Resident memory, CPU seconds and start time of a process (Linux /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        statm = Path(f"/proc/{pid}/statm").read_text().split()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime")
        )
    except (OSError, IndexError, StopIteration, ValueError):
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "rss_bytes": usage.ru_maxrss * 1024,
            "start_time": 0.0,
        }
    return {
        "cpu_seconds": (int(stat[11]) + int(stat[12])) / CLK_TCK,
        "rss_bytes": int(statm[1]) * PAGE_SIZE,
        "start_time": boot + int(stat[19]) / CLK_TCK,
    }


def fresh_snapshots(
    announced: Mapping[str, bytes], now: float
) -> tuple[list[dict[str, Any]], list[str]]:
    """(fresh snapshots, members to forget) among announced ones."""
    fresh: list[dict[str, Any]] = []
    forget: list[str] = []
    for member, raw in announced.items():
        try:
            data = json.loads(raw)
            age = now - float(data["written_at"])
        except (ValueError, KeyError, TypeError):
            forget.append(member)
            continue
        if age > FORGET_AFTER:
            forget.append(member)
        elif age <= STALE_AFTER and isinstance(data, dict):
            fresh.append(data)
    return fresh, forget


def host_directory(base: Path, host: str) -> Path:
    """This host's metrics directory under `base` (the host id made safe as a name)."""
    return base / (re.sub(r"[^A-Za-z0-9._-]", "_", host).lstrip(".") or "host")


def authorized(header: str | None, token: str) -> bool:
    """True when no token is configured or `header` is `Bearer <token>` (constant time)."""
    if not token:
        return True
    if not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header.removeprefix("Bearer ").strip().encode(), token.encode())


# -- prometheus-client ---------------------------------------------------------------------
# Per directory: prometheus-client's value class and how many ProcessMetrics use it.
_value_classes: dict[Path, tuple[Any, int]] = {}
# Held while series are created: prometheus-client reads the value class and the directory
# from process globals when a series first appears (several apps in one process: tests).
_creating = threading.RLock()


def _use_directory(directory: Path) -> None:
    """Point prometheus-client's multiprocess values at `directory`.

    prometheus-client chooses its value class at import and reads PROMETHEUS_MULTIPROC_DIR
    when it first creates a file, so the directory has to go through the environment.
    One value class per directory and process (two on one file would both append to it);
    several apps in one process (the tests) share it until the last one closes.
    """
    directory.mkdir(parents=True, exist_ok=True)
    cls, users = _value_classes.get(directory, (None, 0))
    if cls is None:
        cls = values.MultiProcessValue()  # type: ignore[no-untyped-call]
    _value_classes[directory] = (cls, users + 1)
    _point_at(directory)


def _point_at(directory: Path) -> None:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    values.ValueClass = _value_classes[directory][0]


def _leave_directory(directory: Path, pid: int) -> None:
    """The last user of `directory` in this process closes its files and removes its
    live gauges (so the scrape of a host drops a worker that stopped)."""
    cls, users = _value_classes.pop(directory, (None, 0))
    if users > 1:
        _value_classes[directory] = (cls, users - 1)
        return
    if cls is not None:
        cls.close_all_files()
    mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]


class ProcessMetrics:
    """This process's metrics in the host directory, copied from a hub on `record`."""

    def __init__(self, directory: Path, host: str) -> None:
        with _creating:
            _use_directory(directory)
            self._create(directory, host)

    @contextlib.contextmanager
    def _own_values(self) -> Iterator[None]:
        """New series of this object go to its own directory."""
        with _creating:
            _point_at(self.directory)
            yield

    def _create(self, directory: Path, host: str) -> None:
        self.directory = directory
        self.host = host
        h = ["host"]

        def gauge(name: str, doc: str, *labels: str) -> Gauge:
            return Gauge(
                "live_seoul_" + name, doc, [*h, *labels], registry=None, multiprocess_mode="liveall"
            )

        def counter(name: str, doc: str, *labels: str) -> Counter:
            return Counter("live_seoul_" + name, doc, [*h, *labels], registry=None)

        self.info = gauge("process_info", "Worker processes reporting (value 1).", "process_id")
        self.connections = gauge("connections", "Open viewer WebSockets.")
        self.rooms = gauge("rooms", "Broadcasts with a room (and a broker subscription).")
        self.per_room = gauge(
            "broadcast_connections", "Open viewer WebSockets per broadcast.", "broadcast_id"
        )
        self.broker_up = gauge(
            "broker_up", "1 while the broker carries messages, else 0.", "broker"
        )
        self.connection_limit = gauge("connection_limit", "Per-process connection cap.")
        self.admitted = gauge("admitted_connections", "Connections counted by admission control.")
        self.rss = gauge("process_resident_memory_bytes", "Resident memory.")
        self.started = gauge("process_start_time_seconds", "Start time (Unix seconds).")
        self.cpu = counter("process_cpu_seconds", "User and system CPU time.")
        self.counters = {key: counter(name, doc) for key, (name, doc) in COUNTERS.items()}
        self.rejected = counter("comments_rejected", "Comments refused, by reason.", "reason")
        self.other: dict[str, Counter] = {}
        self.batch = Summary(
            "live_seoul_fanout_batch_size", "Comments per fanned-out batch.", h, registry=None
        )
        self.lag = Summary(
            "live_seoul_fanout_lag_seconds",
            "Age of a batch's oldest comment when the batch went out.",
            h,
            registry=None,
        )
        self.ping = Histogram(
            "live_seoul_db_ping_duration_seconds",
            "Latency of `SELECT 1` on the read connection, sampled every few seconds.",
            h,
            registry=None,
            buckets=PING_BUCKETS,
        )
        self.last_ping = Gauge(
            "live_seoul_db_ping_seconds",
            "Latency of `SELECT 1` measured by the latest worker to answer a scrape.",
            h,
            registry=None,
            multiprocess_mode="mostrecent",
        )
        # What has been added to each counter so far: the hub keeps totals, counters take
        # increments.
        self._sent: dict[tuple[str, ...], float] = {}
        self._rooms_shown: set[str] = set()
        # Create one series of every kind now, so every file lives in `directory`.
        self.connections.labels(host).set(0)
        self.counters["accepted"].labels(host).inc(0)
        self.batch.labels(host)
        self.ping.labels(host)
        self.last_ping.labels(host).set(0)

    def _add(self, metric: Counter, key: tuple[str, ...], total: float) -> None:
        child = metric.labels(*key[1:])  # shown from the start, at 0
        step = total - self._sent.get(key, 0.0)
        if step > 0:
            child.inc(step)
            self._sent[key] = total

    def _add_summary(self, metric: Summary, name: str, count: float, total: float) -> None:
        # The hub keeps a summary's count and sum itself; there is no public way to add
        # both at once (prometheus-client's Summary.observe adds one observation).
        child = metric.labels(self.host)
        for part, value in (("_count", count), ("_sum", total)):
            key = (name + part, self.host)
            step = value - self._sent.get(key, 0.0)
            if step > 0:
                getattr(child, part).inc(step)
                self._sent[key] = value

    def record(self, hub: CommentHub, broker_kind: str, pid: int) -> None:
        """Copy `hub`'s numbers and this process's into the metrics."""
        with self._own_values():
            self._record(hub, broker_kind, pid)

    def _record(self, hub: CommentHub, broker_kind: str, pid: int) -> None:
        host = self.host
        admission = hub.admission
        self.info.labels(host, hub.process_id).set(1)
        self.connections.labels(host).set(sum(len(r.viewers) for r in hub.rooms.values()))
        self.rooms.labels(host).set(len(hub.rooms))
        shown = {str(bid) for bid in hub.rooms}
        for gone in self._rooms_shown - shown:
            with contextlib.suppress(KeyError):
                self.per_room.remove(host, gone)
        for bid, room in hub.rooms.items():
            self.per_room.labels(host, str(bid)).set(room.local_presence)
        self._rooms_shown = shown
        self.broker_up.labels(host, broker_kind).set(1 if hub.broker.healthy else 0)
        self.connection_limit.labels(host).set(admission.max_connections)
        self.admitted.labels(host).set(admission.open)
        proc = process_stats(pid)
        self.rss.labels(host).set(proc["rss_bytes"])
        self.started.labels(host).set(proc["start_time"])
        self._add(self.cpu, ("cpu", host), proc["cpu_seconds"])
        stats = hub.stats.counters()
        for key, metric in self.counters.items():
            self._add(metric, (key, host), float(stats.get(key, 0)))
        for reason, count in hub.stats.rejections.items():
            self._add(self.rejected, ("rejected", host, reason), float(count))
        for key in stats:
            if key not in COUNTERS and key not in SUMMARIZED:
                if key not in self.other:
                    self.other[key] = Counter(
                        f"live_seoul_hub_{key}", f"hub.stats.{key}.", ["host"], registry=None
                    )
                self._add(self.other[key], ("hub_" + key, host), float(stats[key]))
        self._add_summary(
            self.batch,
            "batch",
            float(stats.get("batches_total", 0)),
            float(stats.get("batch_items_total", 0)),
        )
        lag = hub.stats.lag()
        self._add_summary(
            self.lag,
            "lag",
            lag.get("fanout_lag_seconds_count", 0.0),
            lag.get("fanout_lag_seconds_sum", 0.0),
        )

    def observe_ping(self, seconds: float, latest: bool = False) -> None:
        with self._own_values():
            self.ping.labels(self.host).observe(seconds)
            if latest:
                self.last_ping.labels(self.host).set(seconds)

    def render(self) -> bytes:
        """Every live worker's metrics of this host, in the text format."""
        self._forget_dead_workers()
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(self.directory))  # type: ignore[no-untyped-call]
        return generate_latest(registry)

    def _forget_dead_workers(self) -> None:
        """Drop live-gauge files of workers that are gone (killed, so they could not say
        so): one directory per host, so its pids are this machine's."""
        for path in self.directory.glob("gauge_live*_*.db"):
            pid = path.stem.rsplit("_", 1)[-1]
            if pid.isdigit() and not _alive(int(pid)):
                mark_process_dead(int(pid), str(self.directory))  # type: ignore[no-untyped-call]

    def close(self, pid: int) -> None:
        with _creating:
            _leave_directory(self.directory, pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- the I/O edge --------------------------------------------------------------------------
def metrics_dir(settings: Settings) -> Path:
    """This host's metrics directory: METRICS_DIR (default beside the data,
    `Settings.data_file(".metrics")`) / HOST_ID."""
    base = Path(settings.metrics_dir) if settings.metrics_dir else settings.data_file(".metrics")
    return host_directory(base, settings.host_name)


def clear_metrics_dir(directory: Path) -> None:
    """Remove a previous run's files (prometheus-client's rule: wipe the directory between
    runs); `live-seoul serve` does so before it starts its workers."""
    with contextlib.suppress(FileNotFoundError):
        for path in directory.glob("*.db"):
            path.unlink(missing_ok=True)


class MetricsRecorder:
    """Pings the database, copies the hub's numbers into the metrics, and announces this
    worker's snapshot for the status page."""

    def __init__(
        self,
        hub: CommentHub,
        comments: CommentStore,
        broker_kind: str,
        directory: Path,
        host: str = "",
        broker: Broker | None = None,
    ) -> None:
        self.hub = hub
        self.comments = comments
        self.broker_kind = broker_kind
        self.broker = broker or hub.broker
        self.host = host or os.uname().nodename
        self.pid = os.getpid()
        self.member = f"{self.host}:{self.pid}"
        self.metrics = ProcessMetrics(directory, self.host)

    async def ping_database(self) -> float:
        start = time.perf_counter()
        await self.comments.ping()
        return time.perf_counter() - start

    def snapshot(self) -> dict[str, Any]:
        return snapshot(self.hub, self.broker_kind, self.host, self.pid, time.time())

    def record(self) -> None:
        self.metrics.record(self.hub, self.broker_kind, self.pid)

    async def workers(self) -> list[dict[str, Any]]:
        """Fresh snapshots of every worker of every host, this one's current."""
        announced = await self.broker.announcements(WORKERS)
        found, forget = fresh_snapshots(announced, time.time())
        if forget:
            await self.broker.withdraw(WORKERS, forget)
        others = [s for s in found if f"{s.get('host')}:{s.get('pid')}" != self.member]
        return [self.snapshot(), *others]

    async def sample_once(self) -> None:
        # A failed ping shows as a missing observation here and as 503 in /readyz.
        with contextlib.suppress(Exception):
            self.metrics.observe_ping(await self.ping_database())
        self.record()
        await self.broker.announce(WORKERS, self.member, json.dumps(self.snapshot()).encode())

    @contextlib.asynccontextmanager
    async def running(self, interval: float = SAMPLE_INTERVAL) -> AsyncIterator[MetricsRecorder]:
        """Sample every `interval` seconds while the context is open; withdraw after."""

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
            await self.broker.withdraw(WORKERS, [self.member])
            self.metrics.close(self.pid)


def recorder(request: Request) -> MetricsRecorder:
    found: MetricsRecorder = request.state.metrics
    return found


def broker_kind(svc: Services) -> str:
    return "redis" if svc.settings.redis_url else "memory"


async def metrics_endpoint(request: Request) -> Response:
    svc = services(request)
    if not authorized(request.headers.get("authorization"), svc.settings.metrics_token):
        return PlainTextResponse(
            "unauthorized\n", 401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'}
        )
    rec = recorder(request)
    with contextlib.suppress(Exception):
        rec.metrics.observe_ping(await rec.ping_database(), latest=True)
    rec.record()
    body = await asyncio.to_thread(rec.metrics.render)
    return Response(body, media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})


routes = [Route("/metrics", metrics_endpoint, methods=["GET"])]
