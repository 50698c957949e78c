"""Soak test: a moderate load for a long time; memory and latency must stay flat.

    python3 -m bench.soak                   # 30 minutes, 300 viewers, 10 comments/s, 2 workers
    python3 -m bench.soak --minutes 3       # a quick look

Not part of the test suite. It starts its own redis-server and `live-seoul serve --workers N`
with REDIS_URL, on free ports on 127.0.0.1, with its own temporary database; connects the
viewers (they land on the workers as the kernel spreads them); posts comments at a steady
rate; and every `--interval` seconds prints one row: the resident memory of each worker
(from /proc, for the pids `/metrics` names), post-to-receive latency p50/p99 of the
comments received in that window, and the fraction of the window's comments that every
viewer received. At the end it prints a verdict against stated bounds:

- memory: each worker's RSS grows less than `--rss-growth` (default 20 %) from the end of
  the warm-up (the first fifth of the run, at least one interval) to the end;
- delivery: every acknowledged comment reached every viewer (fraction 1.0);
- latency: p99 stays under `--p99-ms` (default 250 ms) in every window.

Everything is bounded: the run stops after `--minutes`, every wait has a timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from tests.support import ROOT, RedisServer, free_port, seed_broadcast, wait_for

HOST = "127.0.0.1"
CONNECT_TIMEOUT = 30.0
DRAIN_SECONDS = 5.0


def rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@dataclass
class Window:
    start: float
    sent: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)


@dataclass
class Load:
    timed_viewers: int
    sent_at: dict[str, float] = field(default_factory=dict)
    received: dict[str, int] = field(default_factory=dict)  # client_id → timed viewers that got it
    counted: int = 0  # items received by the untimed viewers
    acked: int = 0
    errors: int = 0
    reconnects: int = 0
    windows: list[Window] = field(default_factory=list)


class Service:
    """redis-server plus `live-seoul serve --workers N` in its own process group."""

    def __init__(self, workers: int, tmp: Path) -> None:
        self.redis = RedisServer()
        self.port = free_port()
        self.workers = workers
        self.db = tmp / "soak.db"
        self.log = tmp / "serve.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        self.redis.start()
        seed_broadcast(self.db, 1, title="소크 테스트 생방송")
        env = {
            **os.environ,
            "REDIS_URL": self.redis.url,
            "DATABASE_URL": f"sqlite:///{self.db}",
            "SECRET_KEY": "soak",
            "PUBLIC_BASE_URL": self.base,
            "LOG_LEVEL": "warning",
            "COMMENT_BURST": "1000000",
            "COMMENT_RATE_PER_MINUTE": "100000000",
            "ADDRESS_BURST": "1000000",
            "ADDRESS_RATE_PER_MINUTE": "100000000",
            "CONNECTIONS_PER_ADDRESS": "1000000",
            "ADMISSION_BURST": "100000",
            "MAX_CONNECTIONS": "100000",
        }
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "web.cli",
                    "serve",
                    "--host",
                    HOST,
                    "--port",
                    str(self.port),
                    "--workers",
                    str(self.workers),
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(self._ready, timeout=60, what="the service")
        wait_for(
            lambda: len(self.worker_pids()) == self.workers,
            timeout=60,
            what="every worker in /metrics",
        )

    def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"serve exited: {self.log.read_text()[-2000:]}")
        try:
            return httpx.get(self.base + "/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def worker_pids(self) -> list[int]:
        """Worker pids as `/metrics` reports them (every worker of the host)."""
        text = httpx.get(self.base + "/metrics", timeout=10).text
        return sorted(
            {
                int(p)
                for p in re.findall(
                    r'^live_seoul_process_info\{[^}]*\bpid="(\d+)"', text, flags=re.M
                )
            }
        )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.redis.stop()


async def viewer(
    url: str, origin: str, load: Load, timed: bool, stop: asyncio.Event, ready: asyncio.Event
) -> None:
    """Watch until `stop`; on a drop, reconnect with `resume` from the last id seen."""
    last_id = 0
    backoff = 0.2
    while not stop.is_set():
        try:
            async with connect(
                url + (f"?after={last_id}" if last_id else ""),
                origin=origin,  # type: ignore[arg-type]
                open_timeout=CONNECT_TIMEOUT,
                ping_interval=None,
                max_size=2**24,
                close_timeout=1,
            ) as ws:
                ready.set()
                backoff = 0.2
                last_id = await watch(ws, load, timed, stop, last_id)
        except Exception:  # any drop (closed, refused, 1012, 1013, 4008): resume
            if stop.is_set():
                return
            load.reconnects += 1
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)


async def watch(
    ws: ClientConnection, load: Load, timed: bool, stop: asyncio.Event, last_id: int
) -> int:
    while not stop.is_set():
        try:
            async with asyncio.timeout(1.0):
                raw = await ws.recv()
        except TimeoutError:
            continue
        if not isinstance(raw, str) or not raw.startswith('{"type":"comments"'):
            continue
        if not timed:
            # Cheap counting (the load generator must not be the bottleneck): resume is
            # exact, so a frame is either wholly new or wholly seen; its last id is its max.
            at = raw.rfind('"id":')
            frame_max = int(re.match(r"\d+", raw[at + 5 :]).group()) if at >= 0 else 0  # type: ignore[union-attr]
            if frame_max > last_id:
                last_id = frame_max
                load.counted += raw.count('"client_id":"s')
            continue
        frame = json.loads(raw)
        now = time.monotonic()
        for item in frame["items"]:
            item_id = int(item["id"])
            if item_id <= last_id:
                continue  # already seen (resume is exact, but count each once regardless)
            last_id = item_id
            sent = load.sent_at.get(item.get("client_id", ""))
            if sent is None:
                continue
            client_id = item["client_id"]
            load.received[client_id] = load.received.get(client_id, 0) + 1
            load.windows[-1].latencies.append(now - sent)
    return last_id


def untimed_viewers(url: str, origin: str, n: int, ready: Any, stop: Any, out: Any) -> None:
    """A helper process: `n` counting viewers; puts (items received, reconnects) in `out`."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    async def main() -> tuple[int, int]:
        load = Load(timed_viewers=0)
        done = asyncio.Event()
        sem = asyncio.Semaphore(50)
        tasks: list[asyncio.Task[None]] = []

        async def one() -> None:
            ok = asyncio.Event()
            async with sem:
                tasks.append(asyncio.create_task(viewer(url, origin, load, False, done, ok)))
                async with asyncio.timeout(CONNECT_TIMEOUT * 2):
                    await ok.wait()

        await asyncio.gather(*(one() for _ in range(n)))
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.2)
        done.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        return load.counted, load.reconnects

    out.put(asyncio.run(main()))


async def guest_cookie(base: str, name: str) -> str:
    async with httpx.AsyncClient(base_url=base) as http:
        r = await http.post("/api/session", json={"nickname": name}, timeout=10)
        r.raise_for_status()
        return "; ".join(f"{k}={v}" for k, v in http.cookies.items())


async def poster(
    url: str, origin: str, cookie: str, rate: float, until: float, load: Load, index: int
) -> None:
    async with connect(
        url,
        origin=origin,
        additional_headers={"Cookie": cookie},  # type: ignore[arg-type]
        ping_interval=None,
        open_timeout=CONNECT_TIMEOUT,
    ) as ws:

        async def read_acks() -> None:
            async for raw in ws:
                frame = json.loads(raw)
                if frame["type"] == "ack":
                    load.acked += 1
                elif frame["type"] == "error":
                    load.errors += 1

        reader = asyncio.create_task(read_acks())
        start, n = time.monotonic(), 0
        while (now := time.monotonic()) < until:
            due = start + n / rate
            if due > now:
                await asyncio.sleep(due - now)
            client_id = f"s{index}-{n}"
            load.sent_at[client_id] = time.monotonic()
            load.windows[-1].sent.append(client_id)
            await ws.send(
                json.dumps(
                    {
                        "type": "post",
                        "client_id": client_id,
                        "text": f"소크 댓글 {n} — 지하철 막차 시간 질문입니다",
                    }
                )
            )
            n += 1
        await asyncio.sleep(DRAIN_SECONDS)
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(args: argparse.Namespace) -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    tmp = Path(tempfile.mkdtemp(prefix="ls-soak-"))
    service = Service(args.workers, tmp)
    service.start()
    try:
        return await drive(service, args)
    finally:
        service.stop()


async def drive(service: Service, args: argparse.Namespace) -> int:
    url = f"ws://{HOST}:{service.port}/ws/broadcasts/1"
    origin = service.base
    timed_n = max(1, args.viewers // 10)
    load = Load(timed_viewers=timed_n)
    load.windows.append(Window(time.monotonic()))
    stop = asyncio.Event()
    sem = asyncio.Semaphore(50)
    tasks: list[asyncio.Task[None]] = []

    async def one(i: int) -> None:
        ready = asyncio.Event()
        async with sem:
            tasks.append(asyncio.create_task(viewer(url, origin, load, i < timed_n, stop, ready)))
            async with asyncio.timeout(CONNECT_TIMEOUT * 2):
                await ready.wait()

    ctx = multiprocessing.get_context("spawn")
    mp_ready, mp_stop, mp_out = ctx.Event(), ctx.Event(), ctx.Queue()
    helper = ctx.Process(
        target=untimed_viewers,
        args=(url, origin, args.viewers - timed_n, mp_ready, mp_stop, mp_out),
    )
    helper.start()
    await asyncio.gather(*(one(i) for i in range(timed_n)))
    if not await asyncio.to_thread(mp_ready.wait, CONNECT_TIMEOUT * 4):
        raise RuntimeError("the helper's viewers did not connect")
    pids = service.worker_pids()
    print(
        f"{args.viewers} viewers ({timed_n} timed) on {len(pids)} workers {pids}; "
        f"{args.rate:g} comments/s for {args.minutes:g} min, a row every {args.interval:g} s",
        flush=True,
    )
    posters = 2
    cookies = [await guest_cookie(service.base, f"soak{i}") for i in range(posters)]
    t0 = time.monotonic()
    until = t0 + args.minutes * 60
    post_tasks = [
        asyncio.create_task(poster(url, origin, cookies[i], args.rate / posters, until, load, i))
        for i in range(posters)
    ]
    rows: list[dict[str, float]] = []
    start_rss = {pid: rss_bytes(pid) for pid in pids}
    header = (
        f"{'t (s)':>6} | "
        + " | ".join(f"RSS {p} MiB" for p in pids)
        + " | p50 ms | p99 ms | delivered | sent"
    )
    print(header)
    print("-" * len(header))
    print(
        f"{0:>6.0f} | "
        + " | ".join(f"{start_rss[p] / 2**20:>{len(f'RSS {p} MiB')}.1f}" for p in pids)
        + " |      - |      - |         - |    0",
        flush=True,
    )
    tick = 0
    while time.monotonic() < until:
        tick += 1
        await asyncio.sleep(max(0.0, min(t0 + tick * args.interval, until) - time.monotonic()))
        window = load.windows[-1]
        load.windows.append(Window(time.monotonic()))
        await asyncio.sleep(min(DRAIN_SECONDS, args.interval / 3))  # the window's tail lands
        got = sum(min(load.received.get(c, 0), timed_n) for c in window.sent)
        delivered = got / (len(window.sent) * timed_n) if window.sent else 1.0
        row = {
            "t": time.monotonic() - t0,
            "p50": 1000 * pct(window.latencies, 0.5),
            "p99": 1000 * pct(window.latencies, 0.99),
            "delivered": delivered,
            "sent": len(window.sent),
            **{f"rss{p}": rss_bytes(p) for p in pids},
        }
        rows.append(row)
        print(
            f"{row['t']:>6.0f} | "
            + " | ".join(f"{row[f'rss{p}'] / 2**20:>{len(f'RSS {p} MiB')}.1f}" for p in pids)
            + f" | {row['p50']:>6.1f} | {row['p99']:>6.1f} | {100 * delivered:>8.2f}% |"
            f" {len(window.sent):>4}",
            flush=True,
        )
    await asyncio.gather(*post_tasks)
    stop.set()
    mp_stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    counted, reconnects = await asyncio.to_thread(mp_out.get, True, 60)
    helper.join(30)
    load.counted += counted
    load.reconnects += reconnects
    return verdict(load, rows, pids, args)


def verdict(
    load: Load, rows: list[dict[str, float]], pids: list[int], args: argparse.Namespace
) -> int:
    total_sent = len(load.sent_at)
    untimed = args.viewers - load.timed_viewers
    all_timed = sum(min(v, load.timed_viewers) for v in load.received.values())
    frac_timed = all_timed / (total_sent * load.timed_viewers) if total_sent else 1.0
    frac_untimed = load.counted / (total_sent * untimed) if total_sent and untimed else 1.0
    warm = max(1, len(rows) // 5)
    base, last = rows[warm - 1], rows[-1]
    growth = {
        p: (last[f"rss{p}"] - base[f"rss{p}"]) / base[f"rss{p}"] for p in pids if base[f"rss{p}"]
    }
    p99s = [r["p99"] for r in rows if r["sent"]]
    ok_rss = all(g < args.rss_growth for g in growth.values())
    ok_delivery = frac_timed >= 1.0 and frac_untimed >= 0.999999 and load.acked == total_sent
    ok_latency = bool(p99s) and max(p99s) <= args.p99_ms
    print()
    load1, load5, _ = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, load average {load1:.2f} (1 min), {load5:.2f} (5 min)")
    print(
        f"posted {total_sent}, acknowledged {load.acked}, errors {load.errors}, "
        f"viewer reconnects {load.reconnects}"
    )
    print(f"delivered: timed viewers {100 * frac_timed:.3f}%, others {100 * frac_untimed:.3f}%")
    print(
        "RSS growth after warm-up (t≈{:.0f} s → {:.0f} s): ".format(base["t"], last["t"])
        + ", ".join(f"{p}: {100 * g:+.1f}%" for p, g in growth.items())
        + f"  (bound < {100 * args.rss_growth:.0f}%)"
    )
    print(
        f"p99 per window: median {statistics.median(p99s):.1f} ms, max {max(p99s):.1f} ms "
        f"(bound ≤ {args.p99_ms:.0f} ms)"
        if p99s
        else "no latency samples"
    )
    passed = ok_rss and ok_delivery and ok_latency
    print(
        "VERDICT:",
        "PASS" if passed else "FAIL",
        f"(memory {'ok' if ok_rss else 'GREW'}, delivery {'ok' if ok_delivery else 'LOST'}, "
        f"latency {'ok' if ok_latency else 'SLOW'})",
    )
    return 0 if passed else 1


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--viewers", type=int, default=300)
    p.add_argument("--rate", type=float, default=10.0, help="comments per second")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--interval", type=float, default=30.0, help="seconds between rows")
    p.add_argument("--rss-growth", type=float, default=0.20, help="allowed RSS growth (0.2=20%%)")
    p.add_argument("--p99-ms", type=float, default=250.0)
    args = p.parse_args()
    if not 0 < args.minutes <= 24 * 60 or args.interval <= 0 or args.viewers < 2:
        p.error("need 0 < --minutes <= 1440, --interval > 0 and --viewers >= 2")
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
