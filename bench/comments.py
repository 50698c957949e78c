"""Comment fan-out benchmark: real server processes, a real Redis, real WebSocket viewers.

    python3 -m bench.comments                      # 2,000 viewers × 100 comments/s × 20 s
    python3 -m bench.comments --viewers 500 --seconds 10 --idle 2000   # quicker

It starts its own redis-server and one app process (uvicorn, one worker) on free ports,
connects N viewers, posts R comments per second for T seconds from a few poster
connections, and prints deliveries per second, the fraction delivered, post-to-receive
latency p50/p99, server CPU-seconds per million deliveries and memory per idle connection.
In the same run it measures the naive baseline (`bench/naive_app.py`: one broker
subscription per connection, one send per comment per connection) and prints the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.support import ROOT, RedisServer, free_port, seed_broadcast, wait_for

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def raise_fd_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Server:
    def __init__(self, kind: str, redis_url: str, tmp: Path) -> None:
        self.kind = kind
        self.port = free_port()
        db = tmp / f"{kind}-{self.port}.db"
        env = {**os.environ, "REDIS_URL": redis_url, "DATABASE_URL": f"sqlite:///{db}",
               "SECRET_KEY": "bench", "PUBLIC_BASE_URL": f"http://127.0.0.1:{self.port}",
               "COMMENT_BURST": "1000000", "COMMENT_RATE_PER_MINUTE": "100000000",
               "ADDRESS_BURST": "1000000", "ADDRESS_RATE_PER_MINUTE": "100000000",
               "CONNECTIONS_PER_ADDRESS": "1000000",
               "NAIVE_DB": str(db)}
        if kind == "hub":
            seed_broadcast(db, 1)
            target = ["--factory", "web.app:create_app"]
        else:
            target = ["bench.naive_app:app"]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", *target, "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning", "--ws-ping-interval", "0",
             "--backlog", "4096", "--ws", os.environ.get("BENCH_WS", "websockets-sansio"),
             "--ws-per-message-deflate", "false"],
            cwd=ROOT, env=env, preexec_fn=raise_fd_limit,
        )
        wait_for(self._ready, timeout=60, what=f"{kind} server")

    def _ready(self) -> bool:
        try:
            with httpx.Client() as c:
                c.get(f"http://127.0.0.1:{self.port}/healthz", timeout=0.5)
            return True
        except httpx.HTTPError:
            return False

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/broadcasts/1"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@dataclass
class Tally:
    sent_at: dict[str, float] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    received: int = 0
    acked: int = 0
    errors: int = 0


async def viewer(url: str, origin: str, tally: Tally, ready: asyncio.Event,
                 stop: asyncio.Event, timed: bool) -> None:
    """Count every comment received; `timed` viewers also decode frames for latency (the
    others count items with str.count, so the client keeps up on this small machine).
    Like the page script, a viewer told `busy` (admission control) waits and retries."""
    while True:
        ws = await connect(url, origin=origin, max_size=2**24, ping_interval=None,  # type: ignore[arg-type]
                           open_timeout=120, close_timeout=1)
        first = json.loads(await ws.recv())
        if first["type"] == "error" and first["code"] == "busy":
            await ws.close()
            await asyncio.sleep(first["retry_after"] * (0.5 + random.random()))
            continue
        break
    ready.set()
    async with ws:
        while not stop.is_set():
            try:
                async with asyncio.timeout(1.0):
                    raw = await ws.recv()
            except TimeoutError:
                continue
            if not isinstance(raw, str) or not raw.startswith('{"type":"comments"'):
                continue
            if '"backfill":true' in raw:
                continue
            if not timed:
                tally.received += raw.count('"client_id":"p')
                continue
            now = time.monotonic()
            for item in json.loads(raw)["items"]:
                sent = tally.sent_at.get(item["client_id"])
                if sent is not None:
                    tally.received += 1
                    tally.latencies.append(now - sent)


async def guest_cookie(base: str, i: int) -> str:
    async with httpx.AsyncClient(base_url=base) as http:
        r = await http.post("/api/session", json={"nickname": f"bench{i}"})
        r.raise_for_status()
        return "; ".join(f"{k}={v}" for k, v in http.cookies.items())


async def poster(url: str, origin: str, cookie: str, rate: float, seconds: float,
                 tally: Tally, index: int) -> None:
    headers = {"Cookie": cookie} if cookie else {}
    async with connect(url, origin=origin, additional_headers=headers,  # type: ignore[arg-type]
                       ping_interval=None, max_size=2**24) as ws:

        async def read_acks() -> None:
            with contextlib.suppress(ConnectionClosed):
                await _read_acks()

        async def _read_acks() -> None:
            async for raw in ws:
                frame = json.loads(raw)
                if frame["type"] == "ack":
                    tally.acked += 1
                elif frame["type"] == "error":
                    tally.errors += 1

        reader = asyncio.create_task(read_acks())
        interval = 1.0 / rate
        start = time.monotonic()
        n = 0
        while (now := time.monotonic()) - start < seconds:
            due = start + n * interval
            if due > now:
                await asyncio.sleep(due - now)
            client_id = f"p{index}-{n}"
            tally.sent_at[client_id] = time.monotonic()
            await ws.send(json.dumps({"type": "post", "client_id": client_id,
                                      "text": f"벤치마크 댓글 {n} — 교통정책 질문입니다"}))
            n += 1
        await asyncio.sleep(1.0)
        reader.cancel()


async def connect_viewers(server: Server, n: int, tally: Tally, stop: asyncio.Event,
                          timed: bool = False) -> list[asyncio.Task[None]]:
    origin = f"http://127.0.0.1:{server.port}"
    tasks = []
    sem = asyncio.Semaphore(200)

    async def one() -> None:
        ready = asyncio.Event()
        async with sem:
            task = asyncio.create_task(viewer(server.ws, origin, tally, ready, stop, timed))
            tasks.append(task)
            await ready.wait()

    await asyncio.gather(*(one() for _ in range(n)))
    return tasks


def counting_viewers(url: str, origin: str, n: int, ready: Any, stop: Any, out: Any) -> None:
    """A helper process: `n` untimed viewers; puts the comments they received into `out`."""
    raise_fd_limit()

    async def run() -> int:
        tally, done = Tally(), asyncio.Event()
        sem = asyncio.Semaphore(100)
        tasks = []

        async def one() -> None:
            ok = asyncio.Event()
            async with sem:
                tasks.append(asyncio.create_task(viewer(url, origin, tally, ok, done, False)))
                await ok.wait()

        await asyncio.gather(*(one() for _ in range(n)))
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.1)
        done.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        return tally.received

    out.put(asyncio.run(run()))


async def load_run(server: Server, viewers: int, rate: float, seconds: float,
                   posters: int = 5, helpers: int = 2) -> dict[str, float]:
    """Most viewers live in `helpers` other processes (the client must not be the
    bottleneck); one in twenty lives here and times every comment it receives."""
    tally = Tally()
    stop = asyncio.Event()
    origin = f"http://127.0.0.1:{server.port}"
    timed_n = max(1, viewers // 20)
    ctx = multiprocessing.get_context("spawn")
    mp_stop, out = ctx.Event(), ctx.Queue()
    readies, procs = [], []
    for i in range(helpers):
        share = (viewers - timed_n) // helpers + (1 if i < (viewers - timed_n) % helpers else 0)
        ready = ctx.Event()
        proc = ctx.Process(target=counting_viewers,
                           args=(server.ws, origin, share, ready, mp_stop, out))
        proc.start()
        readies.append(ready)
        procs.append(proc)
    tasks = await connect_viewers(server, timed_n, tally, stop, timed=True)
    for ready in readies:
        await asyncio.to_thread(ready.wait, 300)
    cookies = []
    if server.kind == "hub":
        cookies = [await guest_cookie(f"http://127.0.0.1:{server.port}", i)
                   for i in range(posters)]
    else:
        cookies = [""] * posters
    await asyncio.sleep(1.0)  # let presence settle before measuring
    cpu0, t0 = cpu_seconds(server.proc.pid), time.monotonic()
    await asyncio.gather(*(poster(server.ws, origin, cookies[i], rate / posters, seconds,
                                  tally, i) for i in range(posters)))
    expected_timed = len(tally.sent_at) * timed_n
    deadline = time.monotonic() + 10
    while tally.received < expected_timed and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    elapsed = time.monotonic() - t0
    cpu = cpu_seconds(server.proc.pid) - cpu0
    stop.set()
    mp_stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    for _ in procs:
        tally.received += await asyncio.to_thread(out.get, True, 60)
    for proc in procs:
        proc.join(30)
    expected = len(tally.sent_at) * viewers
    lat = sorted(tally.latencies) or [float("nan")]
    return {
        "viewers": viewers,
        "posted": len(tally.sent_at),
        "acked": tally.acked,
        "deliveries_per_s": tally.received / elapsed,
        "fraction_delivered": tally.received / expected if expected else 0.0,
        "p50_ms": 1000 * statistics.median(lat),
        "p99_ms": 1000 * lat[min(len(lat) - 1, int(0.99 * len(lat)))],
        "cpu_s_per_million": cpu / max(tally.received, 1) * 1e6,
    }


async def idle_memory(server: Server, n: int) -> float:
    base = rss_bytes(server.proc.pid)
    stop = asyncio.Event()
    tasks = await connect_viewers(server, n, Tally(), stop)
    await asyncio.sleep(2.0)
    per = (rss_bytes(server.proc.pid) - base) / n
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return per


def show(name: str, r: dict[str, float]) -> None:
    print(f"{name:>8}: {r['viewers']:.0f} viewers, {r['posted']:.0f} posted "
          f"({r['acked']:.0f} acked) | {r['deliveries_per_s']:,.0f} deliveries/s | "
          f"delivered {100 * r['fraction_delivered']:.2f}% | p50 {r['p50_ms']:.0f} ms "
          f"p99 {r['p99_ms']:.0f} ms | {r['cpu_s_per_million']:.2f} CPU-s per million")


async def main(args: argparse.Namespace) -> None:
    raise_fd_limit()
    redis = RedisServer()
    redis.start()
    tmp = Path(tempfile.mkdtemp(prefix="ls-bench-"))
    results = {}
    try:
        for kind in (["hub", "naive"] if args.baseline else ["hub"]):
            server = Server(kind, redis.url, tmp)
            try:
                results[kind] = await load_run(server, args.viewers, args.rate, args.seconds)
                show(kind, results[kind])
            finally:
                server.stop()
        if args.idle:
            server = Server("hub", redis.url, tmp)
            try:
                per = await idle_memory(server, args.idle)
                print(f"    idle: {args.idle} viewers on one process: "
                      f"{per / 1024:.1f} KiB per connection")
            finally:
                server.stop()
        if "naive" in results:
            ratio = results["naive"]["cpu_s_per_million"] / results["hub"]["cpu_s_per_million"]
            print(f"   ratio: the naive baseline costs {ratio:.1f}× the CPU per delivery")
    finally:
        redis.stop()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--viewers", type=int, default=2000)
    p.add_argument("--rate", type=float, default=100.0, help="comments per second")
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--idle", type=int, default=10_000, help="idle viewers for the memory figure")
    p.add_argument("--no-baseline", dest="baseline", action="store_false")
    asyncio.run(main(p.parse_args()))
