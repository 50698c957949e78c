"""Reconnect storm: every viewer of a broadcast comes back at once after a restart.

    python3 -m bench.storm                      # 10,000 viewers, one worker (about 2 minutes)
    python3 -m bench.storm --viewers 2000       # quicker

It starts its own redis-server and `live-seoul serve` (one worker, the default admission
limits) on free ports, connects N viewers (in helper processes; each behaves like the page
script: it remembers the last comment id it saw and reconnects with `?after=` and the
page's full-jitter backoff, 0.5 s base, capped at 4 s from a 1012 until it is back and 30 s
otherwise; after `busy` it waits the `retry_after` the server gave it plus up to a quarter
more, as common/socket.js does), posts comments, then stops
the server with SIGTERM (viewers get 1012). While it is down, comments arrive in the
database (as another worker would store them) and one comment everyone saw is removed.
Then it starts the server again and measures:

* the time from the restart (process spawned) until every viewer is live again: connected
  and holding every comment up to the newest;
* whether anything was missed: every viewer's comments, in arrival order, must be exactly
  the visible comments in id order, each once, plus the removal (`deleted`);
* database reads the storm cost, from `/metrics` of the new process: opening the room
  (ring, chat settings), backfill and resume reads, broadcast lookups.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import random
import re
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import uvloop
from websockets.asyncio.client import connect

from bench import wsclient
from bench.comments import guest_cookie
from bench.systems import Server, cpu_seconds, raise_fd_limit
from tests.support import RedisServer

BACKOFF_BASE, BUSY_BASE, BACKOFF_CAP, HEALTHY_AFTER = 0.5, 5.0, 30.0, 5.0
BUSY_JITTER = 0.25  # common/socket.js: busyDelay
RESTART_CAP = 4.0  # common/socket.js: the backoff's cap from a 1012 until the next hello
CLOSE_RESTART = 1012


class PageViewer:
    """One viewer as livechat.js behaves: resume after the last id, jittered backoff, the
    server's turn after `busy`."""

    def __init__(self, url: str, origin: str) -> None:
        self.url, self.origin = url, origin
        self.last_id = 0
        self.seen: list[int] = []
        self.deleted: set[int] = set()
        self.connects = 0
        self.live_at = 0.0  # wall time the current connection had everything up to target
        self.opened = 0.0  # the current connection's hello (monotonic), 0 before it
        self.busy = False  # the current connection was refused as busy ...
        self.told = 0.0  # ... with this retry_after

    async def run(self, target: Any, stop: Any, ready: asyncio.Event) -> None:
        attempt = 0
        restarting = False
        while not stop.is_set():
            url = self.url + (f"?after={self.last_id}" if self.connects else "")
            # reset before connecting: hello and backfill may come with the upgrade's answer
            self.opened, self.busy, self.told, self.live_at = 0.0, False, 0.0, 0.0
            code = None
            sock = None
            try:
                sock = await asyncio.wait_for(
                    wsclient.connect(url, self.origin, self._message(target, ready)), 30
                )
                self.connects += 1
                code = await sock.ended
            except (OSError, TimeoutError):  # ConnectionError included: the upgrade refused
                pass
            finally:
                if sock is not None and stop.is_set():
                    sock.close()
            opened = self.opened
            restarting = code == CLOSE_RESTART or (restarting and not opened)
            if stop.is_set():
                return
            if opened and time.monotonic() - opened > HEALTHY_AFTER:
                attempt = 0
            attempt += 1
            if self.busy and self.told > 0:
                jittered = self.told * (1 + BUSY_JITTER * random.random())
                await asyncio.sleep(min(4 * BACKOFF_CAP, jittered))
                continue
            base = BUSY_BASE if self.busy else BACKOFF_BASE
            cap = RESTART_CAP if restarting else BACKOFF_CAP
            await asyncio.sleep(random.random() * min(cap, base * 2 ** min(attempt - 1, 20)))

    def _message(
        self, target: Any, ready: asyncio.Event
    ) -> Callable[[wsclient.Socket, bytes], None]:
        """What the page script does with each message of one connection."""

        def on_text(sock: wsclient.Socket, raw: bytes) -> None:
            frame = json.loads(raw)
            kind = frame["type"]
            if kind == "hello":
                self.opened = time.monotonic()
                ready.set()
            elif kind == "error" and frame.get("code") == "busy":
                self.busy = True
                self.told = float(frame.get("retry_after") or 0)
            elif kind == "comments" and not frame.get("restored"):
                for item in frame["items"]:
                    if item["id"] > self.last_id:
                        self.last_id = item["id"]
                    self.seen.append(item["id"])
            elif kind == "deleted":
                self.deleted.update(frame["ids"])
            if self.opened and not self.live_at and self.last_id >= target.value > 0:
                self.live_at = time.time()

        return on_text


def helper(url: str, origin: str, n: int, target: Any, ready: Any, stop: Any, out: Any) -> None:
    """A helper process of `n` page viewers; reports each one's record at the end."""
    raise_fd_limit()

    async def run() -> list[tuple[float, list[int], list[int], int]]:
        viewers = [PageViewer(url, origin) for _ in range(n)]
        sem = asyncio.Semaphore(100)
        tasks = []

        async def start(v: PageViewer) -> None:
            first = asyncio.Event()
            async with sem:
                tasks.append(asyncio.create_task(v.run(target, stop, first)))
                await first.wait()

        await asyncio.gather(*(start(v) for v in viewers))
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.2)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return [(v.live_at, v.seen, sorted(v.deleted), v.connects) for v in viewers]

    out.put(uvloop.run(run()))  # the server's loop too: the clients share its two cores


def insert_while_down(db: Path, count: int, remove: int) -> None:
    """Comments stored while this worker is down (another worker took them), and one
    removal, straight into the database."""
    conn = sqlite3.connect(db)
    with conn:
        now = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
        conn.executemany(
            "INSERT INTO comments (broadcast_id, author_key, author_name, role, department,"
            " client_id, text, created_at, video_offset, status, flags)"
            " VALUES (1, 'g:other', '다른 시민', 'viewer', '', ?, ?, ?, NULL, 'visible', '')",
            [(f"down{i}", f"멈춘 사이 댓글 {i}", now) for i in range(count)],
        )
        conn.execute("UPDATE comments SET status = 'removed' WHERE id = ?", (remove,))
    conn.close()


def visible_ids(db: Path) -> list[int]:
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT id FROM comments WHERE broadcast_id = 1 AND status = 'visible' ORDER BY id"
    ).fetchall()
    conn.close()
    return [int(r[0]) for r in rows]


def metric(text: str, name: str) -> float:
    return sum(
        float(m)
        for m in re.findall(rf"^live_seoul_hub_{name}_total\{{[^}}]*\}} (\S+)$", text, re.M)
    )


IN_FLIGHT = 4


async def post(server: Server, cookie: str, n: int, prefix: str, rate: float) -> None:
    """Post `n` comments at `rate`, at most `IN_FLIGHT` unacknowledged (as a page waits
    for its ack), reading all the while, until every one is acknowledged. A client that
    sends faster than the server acknowledges fills the socket's inbox, and uvicorn stops
    reading it (pongs included) until the inbox drains: the keepalive then closes it."""
    async with connect(
        server.ws,
        origin=server.base,
        additional_headers={"Cookie": cookie},  # type: ignore[arg-type]
        ping_interval=None,
        max_size=2**24,
    ) as ws:
        acked = asyncio.Event()
        acks = 0
        room = asyncio.Semaphore(IN_FLIGHT)

        async def read() -> None:
            nonlocal acks
            async for raw in ws:
                if isinstance(raw, str) and raw.startswith('{"type":"ack"'):
                    acks += 1
                    room.release()
                    if acks == n:
                        acked.set()

        reader = asyncio.create_task(read())
        for i in range(n):
            await room.acquire()
            await ws.send(
                json.dumps(
                    {"type": "post", "client_id": f"{prefix}{i}", "text": f"폭주 전 댓글 {i}"}
                )
            )
            await asyncio.sleep(1 / rate)
        async with asyncio.timeout(120):
            await acked.wait()
        reader.cancel()


async def main(args: argparse.Namespace) -> None:
    raise_fd_limit()
    redis = RedisServer()
    redis.start()
    tmp = Path(tempfile.mkdtemp(prefix="ls-storm-"))
    scaled = {
        "ADMISSION_BURST": str(args.admission_burst),
        "ADMISSION_RATE": str(args.admission_rate),
    }
    if args.admission_burst and args.admission_rate:  # a scaled-down storm
        server = Server("hub", redis.url, tmp, extra_env=scaled)
    else:
        server = Server("hub", redis.url, tmp, default_admission=True)
    ctx = multiprocessing.get_context("spawn")
    target, stop, out = ctx.Value("q", 0), ctx.Event(), ctx.Queue()
    procs, readies = [], []
    try:
        t0 = time.monotonic()
        for i in range(args.helpers):
            n = args.viewers // args.helpers + (i < args.viewers % args.helpers)
            ready = ctx.Event()
            proc = ctx.Process(
                target=helper, args=(server.ws, server.base, n, target, ready, stop, out)
            )
            proc.start()
            procs.append(proc)
            readies.append(ready)
        for ready in readies:
            await asyncio.to_thread(ready.wait, 600)
        print(f"{args.viewers} viewers connected in {time.monotonic() - t0:.1f} s", flush=True)
        cookie = await guest_cookie(server.base, 0)
        await post(server, cookie, args.comments, "before", args.rate)
        await asyncio.sleep(2.0)
        ids = visible_ids(server.db)
        removed = ids[len(ids) // 2]
        server.stop()
        insert_while_down(server.db, args.while_down, removed)
        # What each viewer must have seen, in order: everything before the restart (the
        # removed one included: it was visible then), then what came while it was down.
        expected = ids + [i for i in visible_ids(server.db) if i > ids[-1]]
        target.value = expected[-1]
        clients = [proc.pid for proc in procs if proc.pid is not None]
        clients_cpu = cpu_seconds(clients)
        spawned = time.time()
        server.restart()
        answering = time.time()
        print(f"restarted: answering after {answering - spawned:.1f} s", flush=True)
        deadline = time.monotonic() + args.timeout
        stats = ""
        async with httpx.AsyncClient(base_url=server.base, timeout=30) as http:
            while time.monotonic() < deadline:
                with contextlib.suppress(httpx.HTTPError):  # busy with the storm
                    stats = (await http.get("/metrics")).text
                if (
                    metric(stats, "ring_backfills") + metric(stats, "db_backfill_reads")
                    >= args.viewers
                ):
                    break
                await asyncio.sleep(0.5)
            resumed = time.time()
            # Who the storm's time went to: on one machine the clients share its cores.
            spent = (cpu_seconds(server.pids()), cpu_seconds(clients) - clients_cpu)
            await asyncio.sleep(1.0)
            stats = (await http.get("/metrics")).text
        stop.set()
        records = []
        for _ in procs:
            records.extend(await asyncio.to_thread(out.get, True, 120))
        live = [r[0] for r in records]
        exact = sum(1 for _, seen, _, _ in records if seen == expected)
        told = sum(1 for _, _, deleted, _ in records if removed in deleted)
        reads = {
            k: metric(stats, k)
            for k in (
                "db_room_reads",
                "db_backfill_reads",
                "db_broadcast_lookups",
                "db_fanout_reads",
                "ring_backfills",
                "admission_refused",
            )
        }
        done = [t for t in live if t]
        print(
            f"viewers live again: {len(done)} of {len(records)}; the last "
            f"{max(done) - spawned:.1f} s after the restart (median "
            f"{sorted(done)[len(done) // 2] - spawned:.1f} s); after it answered: the last "
            f"{max(done) - answering:.1f} s, median "
            f"{sorted(done)[len(done) // 2] - answering:.1f} s"
            if done
            else "no viewer came back"
        )
        print(
            f"nothing missed: {exact} of {len(records)} viewers hold exactly the "
            f"{len(expected)} comments in order, once each; {told} were told of "
            "the removal"
        )
        per_room = (
            reads["db_room_reads"] + reads["db_backfill_reads"] + reads["db_broadcast_lookups"]
        )
        print(
            f"database reads for the storm (one room): {per_room:.0f} (room "
            f"{reads['db_room_reads']:.0f}, backfill {reads['db_backfill_reads']:.0f}, "
            f"broadcast lookups {reads['db_broadcast_lookups']:.0f}); served from the "
            f"ring: {reads['ring_backfills']:.0f}; live fan-out reads "
            f"{reads['db_fanout_reads']:.0f}"
        )
        print(
            f"CPU from the restart until every viewer resumed ({resumed - spawned:.1f} s):"
            f" server {spent[0]:.1f} s, the {len(clients)} client processes {spent[1]:.1f} s"
        )
        print(
            f"reconnects per viewer: {sum(r[3] for r in records) / len(records) - 1:.2f}; "
            f"refused `busy` by the admission rate: {reads['admission_refused']:.0f} times"
        )
    finally:
        stop.set()
        for proc in procs:
            proc.join(10)
            if proc.is_alive():
                proc.terminate()
        server.stop()
        redis.stop()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--viewers", type=int, default=10_000)
    p.add_argument("--helpers", type=int, default=4, help="client processes")
    p.add_argument("--comments", type=int, default=200, help="posted before the restart")
    p.add_argument(
        "--rate",
        type=float,
        default=20.0,
        help="comments per second before the restart, at most (the poster waits for acks)",
    )
    p.add_argument(
        "--while-down", type=int, default=100, help="comments stored while the worker is down"
    )
    p.add_argument("--timeout", type=float, default=120.0)
    p.add_argument(
        "--admission-burst", type=int, default=0, help="with --admission-rate: a scaled storm"
    )
    p.add_argument(
        "--admission-rate", type=float, default=0, help="per second (default: the product's)"
    )
    asyncio.run(main(p.parse_args()))
