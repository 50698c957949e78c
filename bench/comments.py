"""Comment fan-out benchmark: real server processes, one Redis, the same WebSocket client.

    python3 -m bench.comments                       # the peer comparison (about 8 minutes)
    python3 -m bench.comments --systems hub --loads 2000x100 --idle 10000
    python3 -m bench.comments --systems hub --workers 1,2 --loads 5000x100
    python3 -m bench.comments --systems hub --hosts sqlite,1,2 \
        --database-url postgresql://postgres:postgres@127.0.0.1:5432/postgres

For each load (viewers × comments per second) and each system (`hub`: this project as
`live-seoul serve`; `naive`: the tutorial baseline in `bench/naive_app.py`; the peers
`broadcaster`, `socketio`, `node` from `../shared/peers/`, see `bench/systems.py`), it
starts the server on a free port with the run's redis-server, connects the viewers (one
in twenty in this process, timing every comment; the rest in helper processes that count
items, so the client is not the bottleneck), posts the comments from five connections for
`--seconds`, and prints deliveries per second, the fraction delivered, post-to-receive
latency p50/p99 (timed viewers), and server CPU-seconds per million deliveries
(`/proc/<pid>/stat` of the server and its workers, over the posting window). `--idle N`
also measures resident memory per idle connection (RSS growth with N idle viewers / N).
The table at the end puts every system beside the others, one row per load.

`--hosts` runs the hub as separate hosts (`bench.systems.Hosts`): N `live-seoul serve`
processes, each with its own working directory and port, sharing only a fresh schema of
the PostgreSQL database `--database-url` names (dropped after each run), the run's Redis
and `SECRET_KEY`. Viewers and posters are spread over the hosts round robin, so latency is
measured across hosts; the CPU figure is every host's processes (not PostgreSQL's).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import queue
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench import wsclient
from bench.systems import (
    ALL,
    DIALECTS,
    Dialect,
    Hosts,
    Server,
    cpu_seconds,
    is_postgres,
    raise_fd_limit,
    rss_bytes,
)
from tests.support import RedisServer

TEXT = "벤치마크 댓글 {n} — 교통정책 질문입니다"
MARK = '"client_id":"p'  # every posted item carries a client_id starting with p


@dataclass
class Tally:
    sent_at: dict[str, float] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    received: int = 0
    acked: int = 0
    errors: int = 0


async def open_socket(
    url: str, origin: str, dialect: Dialect, headers: dict[str, str] | None = None
) -> ClientConnection:
    """Connect like the page does (a hub that answers `busy` is retried after the wait it
    names, with jitter); Engine.IO peers get their `40` connect packet."""
    while True:
        ws = await connect(
            url,
            origin=origin,
            max_size=2**24,
            ping_interval=None,  # type: ignore[arg-type]
            open_timeout=120,
            close_timeout=1,
            compression=None,
            additional_headers=headers or {},
        )
        if dialect.engineio:
            await ws.recv()  # "0{...}": the Engine.IO open packet
            await ws.send("40")
            while not str(await ws.recv()).startswith("40"):  # the namespace is joined
                pass
            return ws
        if dialect.acks:
            first = str(await ws.recv())
            if first.startswith('{"type":"error"') and '"busy"' in first:
                await ws.close()
                await asyncio.sleep(5 * random.random())
                continue
        return ws


async def open_viewer(
    url: str, origin: str, dialect: Dialect, count: Callable[[bytes], None]
) -> wsclient.Socket:
    """A viewer connected like the page does (a hub that answers `busy` is retried after
    the wait it names, with jitter; an Engine.IO peer gets its `40` connect packet and
    its pings answered); every later text message goes to `count`. The lean client
    (`bench.wsclient`): the viewers share the server's cores, so they cost it little."""
    loop = asyncio.get_running_loop()
    while True:
        joined: asyncio.Future[bytes] = loop.create_future()
        if not dialect.engineio and not dialect.acks:
            joined.set_result(b"")  # no greeting: every message counts

        def on_text(
            sock: wsclient.Socket, raw: bytes, joined: asyncio.Future[bytes] = joined
        ) -> None:
            if dialect.engineio and raw == b"2":
                sock.send_text("3")
            elif joined.done():
                count(raw)
            elif not dialect.engineio:
                joined.set_result(raw)  # the hub's hello, or `busy`
            elif raw.startswith(b"40"):
                joined.set_result(raw)
            elif raw.startswith(b"0"):
                sock.send_text("40")

        sock = await wsclient.connect(url, origin, on_text)
        await asyncio.wait((joined, sock.ended), timeout=120, return_when=asyncio.FIRST_COMPLETED)
        if not joined.done():
            sock.close()
            raise ConnectionError(f"{url}: closed or silent before its greeting")
        first = joined.result()
        if dialect.acks and first.startswith(b'{"type":"error"') and b'"busy"' in first:
            sock.close()
            await asyncio.sleep(5 * random.random())
            continue
        return sock


def counter(tally: Tally, kind: str, timed: bool) -> Callable[[bytes], None]:
    """What a viewer does with a message: count the posted items in it (`str.count` on
    the bytes, backfill excluded); a `timed` viewer decodes them and records latency."""
    dialect = DIALECTS[kind]
    mark = MARK.encode()
    if not timed:

        def count(raw: bytes) -> None:
            if b'"backfill":true' not in raw:
                tally.received += raw.count(mark)

        return count

    def time_items(raw: bytes) -> None:
        items = dialect.items(raw.decode())
        if items is None:
            return
        now = time.monotonic()
        for item in items:
            sent = tally.sent_at.get(item.get("client_id", ""))
            if sent is not None:
                tally.received += 1
                tally.latencies.append(now - sent)

    return time_items


async def guest_cookie(base: str, i: int) -> str:
    async with httpx.AsyncClient(base_url=base) as http:
        r = await http.post("/api/session", json={"nickname": f"bench{i}"})
        r.raise_for_status()
        return "; ".join(f"{k}={v}" for k, v in http.cookies.items())


async def poster(
    server: Server, cookie: str, rate: float, seconds: float, tally: Tally, index: int
) -> None:
    dialect = server.dialect
    headers = {"Cookie": cookie} if cookie else {}
    ws = await open_socket(server.ws, server.base, dialect, headers)
    async with ws:

        async def read() -> None:
            with contextlib.suppress(ConnectionClosed):
                async for raw in ws:
                    if dialect.engineio and raw == "2":
                        await ws.send("3")
                    elif isinstance(raw, str) and raw.startswith('{"type":'):
                        kind = raw[8:].lstrip(' "').split('"', 1)[0]
                        if kind == "ack":
                            tally.acked += 1
                        elif kind == "error":
                            tally.errors += 1

        reader = asyncio.create_task(read())
        interval = 1.0 / rate
        start = time.monotonic()
        n = 0
        while (now := time.monotonic()) - start < seconds:
            due = start + n * interval
            if due > now:
                await asyncio.sleep(due - now)
            client_id = f"p{index}-{n}"
            tally.sent_at[client_id] = time.monotonic()
            await ws.send(dialect.post(client_id, TEXT.format(n=n)))
            if not dialect.acks:
                tally.acked += 1
            n += 1
        await asyncio.sleep(1.0)
        reader.cancel()


Target = tuple[str, str]  # a host's WebSocket URL and its origin


def targets(servers: list[Server]) -> list[Target]:
    return [(server.ws, server.base) for server in servers]


async def connect_viewers(
    hosts: list[Target],
    kind: str,
    n: int,
    tally: Tally,
    timed: bool = False,
    parallel: int = 200,
    first: int = 0,
) -> list[wsclient.Socket]:
    """`n` viewers, spread round robin over `hosts` (viewer `first` + i goes to host
    (`first` + i) mod the number of hosts)."""
    sem = asyncio.Semaphore(parallel)
    dialect, count = DIALECTS[kind], counter(tally, kind, timed)

    async def one(i: int) -> wsclient.Socket:
        url, origin = hosts[(first + i) % len(hosts)]
        async with sem:
            return await open_viewer(url, origin, dialect, count)

    return list(await asyncio.gather(*(one(i) for i in range(n))))


def counting_viewers(
    hosts: list[Target], kind: str, n: int, first: int, ready: Any, stop: Any, out: Any
) -> None:
    """A helper process: `n` untimed viewers (round robin over `hosts` from viewer number
    `first`); puts the items they received into `out`."""
    raise_fd_limit()

    async def run() -> int:
        tally = Tally()
        sockets = await connect_viewers(hosts, kind, n, tally, parallel=100, first=first)
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.1)
        for sock in sockets:
            sock.close()
        return tally.received

    out.put(asyncio.run(run()))


async def load_run(
    servers: list[Server],
    viewers: int,
    rate: float,
    seconds: float,
    posters: int = 5,
    helpers: int = 2,
) -> dict[str, float]:
    """Most viewers live in `helpers` other processes (the client must not be the
    bottleneck); one in twenty lives here and times every comment it receives. With
    several `servers` (hosts of one system), viewers and posters are spread over them
    round robin, so most comments reach most viewers through another host."""
    tally = Tally()
    timed_n = max(1, viewers // 20)
    kind, hosts = servers[0].kind, targets(servers)
    # One viewer first, alone: broadcaster's `subscribe` keeps only one of several
    # concurrent first subscribers of a channel (each sets the set while Redis answers).
    first = await connect_viewers(hosts, kind, 1, tally, timed=True)
    await asyncio.sleep(0.5)
    ctx = multiprocessing.get_context("spawn")
    mp_stop, out = ctx.Event(), ctx.Queue()
    readies, procs = [], []
    start = timed_n
    for i in range(helpers):
        share = (viewers - timed_n) // helpers + (1 if i < (viewers - timed_n) % helpers else 0)
        ready = ctx.Event()
        proc = ctx.Process(
            target=counting_viewers, args=(hosts, kind, share, start, ready, mp_stop, out)
        )
        proc.start()
        start += share
        readies.append(ready)
        procs.append(proc)
    try:
        return await _measure(
            servers,
            viewers,
            rate,
            seconds,
            posters,
            tally,
            timed_n,
            first,
            readies,
            procs,
            mp_stop,
            out,
        )
    finally:
        mp_stop.set()
        for proc in procs:
            proc.join(5)
            if proc.is_alive():
                proc.terminate()


async def _measure(
    servers: list[Server],
    viewers: int,
    rate: float,
    seconds: float,
    posters: int,
    tally: Tally,
    timed_n: int,
    first: list[wsclient.Socket],
    readies: list[Any],
    procs: list[Any],
    mp_stop: Any,
    out: Any,
) -> dict[str, float]:
    kind = servers[0].kind
    sockets = first + await connect_viewers(
        targets(servers), kind, timed_n - 1, tally, timed=True, first=1
    )
    for ready in readies:
        await asyncio.to_thread(ready.wait, 300)
    by_poster = [servers[i % len(servers)] for i in range(posters)]
    cookies = [""] * posters
    if kind == "hub":
        cookies = [await guest_cookie(by_poster[i].base, i) for i in range(posters)]
    await asyncio.sleep(1.0)  # let presence settle before measuring
    pids = [pid for server in servers for pid in server.pids()]
    cpu0, t0 = cpu_seconds(pids), time.monotonic()
    await asyncio.gather(
        *(
            poster(by_poster[i], cookies[i], rate / posters, seconds, tally, i)
            for i in range(posters)
        )
    )
    expected_timed = len(tally.sent_at) * timed_n
    deadline = time.monotonic() + 10
    while tally.received < expected_timed and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    elapsed = time.monotonic() - t0
    cpu = cpu_seconds(pids) - cpu0
    mp_stop.set()
    for sock in sockets:
        sock.close()
    for _ in procs:
        tally.received += await asyncio.to_thread(out.get, True, 60)
    for proc in procs:
        proc.join(30)
    expected = len(tally.sent_at) * viewers
    lat = sorted(tally.latencies) or [float("nan")]
    slow = 0.0
    for server in servers if kind == "hub" else []:
        # viewers the hub closed as too slow (4008) do not come back
        with contextlib.suppress(httpx.HTTPError):
            async with httpx.AsyncClient(base_url=server.base) as http:
                text = (await http.get("/metrics", timeout=10)).text
            slow += sum(
                float(line.rsplit(" ", 1)[1])
                for line in text.splitlines()
                if line.startswith("live_seoul_slow_client_disconnects_total{")
            )
    return {
        "slow_closed": slow,
        "viewers": viewers,
        "posted": len(tally.sent_at),
        "acked": tally.acked,
        "deliveries_per_s": tally.received / elapsed,
        "fraction_delivered": tally.received / expected if expected else 0.0,
        "p50_ms": 1000 * statistics.median(lat),
        "p99_ms": 1000 * lat[min(len(lat) - 1, int(0.99 * len(lat)))],
        "cpu_s_per_million": cpu / max(tally.received, 1) * 1e6,
    }


async def idle_memory(servers: list[Server], n: int) -> float:
    """RSS growth per connection with `n` idle viewers (servers and their workers)."""
    await asyncio.sleep(1.0)
    pids = [pid for server in servers for pid in server.pids()]
    base = rss_bytes(pids)
    ctx = multiprocessing.get_context("spawn")
    mp_stop, out = ctx.Event(), ctx.Queue()
    procs, readies = [], []
    for i in range(2):
        ready = ctx.Event()
        proc = ctx.Process(
            target=counting_viewers,
            args=(
                targets(servers),
                servers[0].kind,
                n // 2 + (i < n % 2),
                i * (n // 2),
                ready,
                mp_stop,
                out,
            ),
        )
        proc.start()
        procs.append(proc)
        readies.append(ready)
    for ready in readies:
        await asyncio.to_thread(ready.wait, 600)
    await asyncio.sleep(2.0)
    per = (rss_bytes([pid for server in servers for pid in server.pids()]) - base) / n
    mp_stop.set()
    for _ in procs:
        try:
            await asyncio.to_thread(out.get, True, 60)
        except queue.Empty:  # a client still closing its sockets (a loaded machine): the
            break  # figure is taken already; do not lose it
    for proc in procs:
        proc.join(30)
        if proc.is_alive():
            proc.terminate()
    return per


def show(name: str, r: dict[str, float]) -> None:
    print(
        f"{name:>11}: {r['viewers']:.0f} viewers, {r['posted']:.0f} posted "
        f"({r['acked']:.0f} acked) | {r['deliveries_per_s']:,.0f} deliveries/s | "
        f"delivered {100 * r['fraction_delivered']:.2f}% | p50 {r['p50_ms']:.1f} ms "
        f"p99 {r['p99_ms']:.1f} ms | {r['cpu_s_per_million']:.2f} CPU-s per million"
        + (f" | {r['slow_closed']:.0f} closed as too slow" if r.get("slow_closed") else ""),
        flush=True,
    )


def table(
    loads: list[tuple[int, float]],
    systems: list[str],
    results: dict[tuple[str, int, float], dict[str, float] | str],
) -> None:
    """One row per load, one column per system: p50 / p99 ms · delivered · CPU-s/M."""
    print("\n| viewers × comments/s | " + " | ".join(systems) + " |")
    print("|---|" + "---|" * len(systems))
    for v, r in loads:
        cells = []
        for kind in systems:
            res = results.get((kind, v, r))
            if res is None:
                cells.append("–")
            elif isinstance(res, str):
                cells.append(res)
            else:
                cells.append(
                    f"{res['p50_ms']:.1f} / {res['p99_ms']:.0f} ms · "
                    f"{100 * res['fraction_delivered']:.1f} % · "
                    f"{res['cpu_s_per_million']:.2f}"
                )
        print(f"| {v:,} × {r:g} | " + " | ".join(cells) + " |")
    print(
        "\nEach cell: post-to-receive p50 / p99 · fraction delivered · server CPU-s per "
        "million deliveries."
    )


@dataclass(frozen=True)
class Run:
    """One column of the table: a system with its worker count; for the hub as hosts
    (`--hosts`), their number and database (empty: SQLite)."""

    kind: str
    workers: int = 1
    hosts: int = 0  # 0: one server, as without --hosts
    database_url: str = ""

    @property
    def name(self) -> str:
        if not self.hosts:  # "hub" with --workers 1,2 is two columns: hub and hub×2
            return self.kind if self.workers == 1 else f"{self.kind}×{self.workers}"
        engine = "PostgreSQL" if is_postgres(self.database_url) else "SQLite"
        name = f"{self.kind}, {self.hosts} host{'s' if self.hosts > 1 else ''} on {engine}"
        return name + (f", --workers {self.workers}" if self.workers > 1 else "")

    def start(self, redis_url: str, tmp: Path) -> tuple[list[Server], Callable[[], None]]:
        """Start the column's servers: (them, how to stop them)."""
        if not self.hosts:
            server = Server(self.kind, redis_url, tmp, workers=self.workers)
            return [server], server.stop
        hosts = Hosts(redis_url, tmp, self.hosts, self.database_url, self.workers)
        return hosts.servers, hosts.stop


def plan(args: argparse.Namespace) -> list[Run]:
    """The columns: every system; the hub once per worker count and, with `--hosts`, per
    host count (`sqlite`: one host on its own SQLite file; N: N hosts on
    `--database-url`)."""
    workers = [int(w) for w in str(args.workers).split(",")]
    hosts = [h.strip() for h in args.hosts.split(",") if h.strip()]
    runs = []
    for kind in (s.strip() for s in args.systems.split(",") if s.strip()):
        if kind != "hub":
            runs.append(Run(kind))
        elif not hosts:
            runs.extend(Run(kind, w) for w in workers)
        else:
            for h in hosts:
                if h != "sqlite" and not is_postgres(args.database_url):
                    raise SystemExit(f"--hosts {h}: needs --database-url postgresql://…")
                url = "" if h == "sqlite" else args.database_url
                runs.extend(Run(kind, w, 1 if h == "sqlite" else int(h), url) for w in workers)
    return runs


def parse_load(text: str) -> tuple[int, float]:
    viewers, rate = text.lower().split("x")
    return int(viewers), float(rate)


async def main(args: argparse.Namespace) -> None:
    raise_fd_limit()
    redis = RedisServer()
    redis.start()
    tmp = Path(tempfile.mkdtemp(prefix="ls-bench-"))
    runs = plan(args)
    systems = [run.name for run in runs]
    loads = [parse_load(x) for x in args.loads.split(",") if x.strip()]
    results: dict[tuple[str, int, float], dict[str, float] | str] = {}
    try:
        for viewers, rate in loads:
            for run, name in zip(runs, systems, strict=True):
                try:
                    servers, stop = run.start(redis.url, tmp)
                except Exception as exc:  # a peer that cannot start is reported, not fatal
                    print(f"{name:>11}: could not start: {exc}", flush=True)
                    results[(name, viewers, rate)] = "did not start"
                    continue
                try:
                    async with asyncio.timeout(args.run_timeout):
                        res = await load_run(servers, viewers, rate, args.seconds)
                    results[(name, viewers, rate)] = res
                    show(name, res)
                except TimeoutError:
                    print(
                        f"{name:>11}: {viewers} × {rate:g}: gave up after {args.run_timeout:.0f} s",
                        flush=True,
                    )
                    results[(name, viewers, rate)] = "gave up"
                except (ConnectionClosed, OSError) as exc:  # the server dropped the client
                    print(f"{name:>11}: {viewers} × {rate:g}: failed: {exc!r}", flush=True)
                    results[(name, viewers, rate)] = "client dropped"
                finally:
                    stop()
        if args.idle:
            for run, name in list(zip(runs, systems, strict=True))[: None if args.idle_all else 1]:
                servers, stop = run.start(redis.url, tmp)
                try:
                    per = await idle_memory(servers, args.idle)
                    print(
                        f"{name:>11}: idle: {args.idle} viewers: {per / 1024:.1f} KiB per "
                        "connection",
                        flush=True,
                    )
                finally:
                    stop()
        table(loads, systems, results)
    finally:
        redis.stop()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--systems",
        default=",".join(ALL),
        help=f"comma-separated, from {', '.join(ALL)} (default: all)",
    )
    p.add_argument(
        "--loads",
        default="200x10,500x50,2000x100",
        help="comma-separated viewers×rate (default 200x10,500x50,2000x100)",
    )
    p.add_argument("--seconds", type=float, default=10.0, help="posting time per run")
    p.add_argument(
        "--workers", default="1", help="worker processes of the hub; 1,2 runs both side by side"
    )
    p.add_argument(
        "--hosts",
        default="",
        help="run the hub as separate hosts, one column per item: N hosts (live-seoul serve\n"
        "processes with their own directory and port) sharing one fresh schema of\n"
        "--database-url (PostgreSQL), or `sqlite` (one host on its own file); e.g.\n"
        "sqlite,1,2. Viewers and posters are spread over the hosts round robin.",
    )
    p.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="the PostgreSQL database --hosts share (default: $DATABASE_URL); a schema\n"
        "is created per run and dropped after",
    )
    p.add_argument("--idle", type=int, default=0, help="idle viewers for the memory figure")
    p.add_argument("--idle-all", action="store_true", help="idle memory of every system")
    p.add_argument(
        "--run-timeout",
        type=float,
        default=120.0,
        help="give up on one run after this many seconds",
    )
    asyncio.run(main(p.parse_args()))
