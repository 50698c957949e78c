"""Login under a password-guessing flood: how fast does a real staff login stay?

    python3 -m bench.login_flood                 # ~1 minute
    python3 -m bench.login_flood --seconds 20 --attackers 300

Each scenario starts its own app process (uvicorn, one worker, a fresh SQLite file with
one admin) and floods `/api/login` with wrong passwords from `--attackers` concurrent
clients, every request from a new address (X-Forwarded-For, which uvicorn honours from
127.0.0.1) and a new username — the attack that per-(address, username) limits never
saw. While it runs, the admin logs in every second: once from the browser that logged
in before (device cookie) and once from a fresh browser. Reported per scenario: the
admin's login times (median, max, how many got in), the flood's answers by status and
its rate, and the server's peak RSS.

* `baseline`: no flood — the cost of one real login here.
* `unbounded`: the flood against the previous behaviour, approximated by settings that
  turn the new limits off (every guess hashes; hashes run without bound).
* `guarded`: the flood against the defaults (per-address, global limits, hash gate).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

from tests.support import AppServer, account_store, seed_broadcast

PASSWORD = "correct horse battery"
UNBOUNDED = {
    "LOGIN_FAILURES_PER_ADDRESS": "100000000",
    "LOGIN_FAILURES_GLOBAL": "100000000",
    "LOGIN_FAILURES_PER_ACCOUNT": "100000000",
    "LOGIN_HASH_CONCURRENCY": "64",
    "LOGIN_HASH_QUEUE": "100000",
}


async def _admin(db: Path) -> None:
    async with account_store(db) as store:
        await store.create("admin", PASSWORD, "admin")


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def _login(client: httpx.AsyncClient, address: str) -> tuple[int, float]:
    start = time.perf_counter()
    response = await client.post(
        "/api/login",
        json={"username": "admin", "password": PASSWORD},
        headers={"x-forwarded-for": address},
        timeout=60,
    )
    return response.status_code, time.perf_counter() - start


async def scenario(
    name: str, env: dict[str, str], seconds: float, attackers: int, flood: bool
) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-login-"))
    db = tmp / "login.db"
    seed_broadcast(db, 1)
    await _admin(db)
    server = AppServer(db, env)
    await asyncio.to_thread(server.start)
    assert server.proc is not None
    pid = server.proc.pid
    try:
        async with httpx.AsyncClient(base_url=server.base) as known:
            status, _ = await _login(known, "192.0.2.10")  # gives the device cookie
            assert status == 200, status
            counts: Counter[int] = Counter()
            stop = asyncio.Event()
            serial = itertools.count()
            peak = _rss_kib(pid)

            async def attacker() -> None:
                async with httpx.AsyncClient(base_url=server.base) as c:
                    while not stop.is_set():
                        n = next(serial)
                        address = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
                        try:
                            r = await c.post(
                                "/api/login",
                                json={"username": f"guess{n}", "password": "wrong password"},
                                headers={"x-forwarded-for": address},
                                timeout=60,
                            )
                            counts[r.status_code] += 1
                        except httpx.HTTPError:
                            counts[0] += 1

            tasks = [asyncio.create_task(attacker()) for _ in range(attackers if flood else 0)]
            known_times: list[float] = []
            fresh_times: list[float] = []
            known_ok = fresh_ok = 0
            started = time.perf_counter()
            await asyncio.sleep(1.0 if flood else 0)
            while time.perf_counter() - started < seconds:
                status, took = await _login(known, "192.0.2.10")
                known_times.append(took)
                known_ok += status == 200
                async with httpx.AsyncClient(base_url=server.base) as fresh:
                    status, took = await _login(fresh, f"192.0.2.{20 + len(fresh_times)}")
                fresh_times.append(took)
                fresh_ok += status == 200
                peak = max(peak, _rss_kib(pid))
                await asyncio.sleep(max(0.0, 1.0 - took))
            elapsed = time.perf_counter() - started
            stop.set()
            await asyncio.gather(*tasks)
    finally:
        await asyncio.to_thread(server.stop)

    def ms(xs: list[float]) -> str:
        return (
            f"median {statistics.median(xs) * 1000:7.0f} ms, max {max(xs) * 1000:7.0f} ms"
            if xs
            else "-"
        )

    print(f"{name:10} known browser: {ms(known_times)}, in {known_ok}/{len(known_times)}")
    print(f"{'':10} fresh browser: {ms(fresh_times)}, in {fresh_ok}/{len(fresh_times)}")
    total = sum(counts.values())
    if flood:
        print(
            f"{'':10} flood: {total / elapsed:7.0f} req/s, answers {dict(sorted(counts.items()))}"
        )
    print(f"{'':10} peak RSS {peak / 1024:.0f} MiB")


async def main(args: argparse.Namespace) -> None:
    print(f"login flood: {args.attackers} attackers, {args.seconds:.0f} s per scenario")
    if "baseline" in args.only:
        await scenario("baseline", {}, min(args.seconds, 5), 0, flood=False)
    if "unbounded" in args.only:
        await scenario("unbounded", UNBOUNDED, args.seconds, args.attackers, flood=True)
    if "guarded" in args.only:
        await scenario("guarded", {}, args.seconds, args.attackers, flood=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seconds", type=float, default=15)
    p.add_argument("--attackers", type=int, default=100)
    p.add_argument(
        "--only", nargs="*", default=["baseline", "unbounded", "guarded"], help="scenarios to run"
    )
    asyncio.run(main(p.parse_args()))
