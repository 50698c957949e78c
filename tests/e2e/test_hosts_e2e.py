"""Three app hosts on one PostgreSQL and one Redis, nothing else shared.

Each host is its own uvicorn process with its own working directory and port (so no
file, secret or cache is shared by accident). Posters on every host post at once; viewers
on every host must get every acknowledged comment once, in id order; a viewer that moves
to another host with `?after=` gets exactly the rest; a host killed with SIGKILL mid-stream
loses nothing it acknowledged."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from db import migrate, open_database
from tests.e2e.wsclient import ViewerClient, guest_cookie
from tests.support import NO_RATE_LIMITS, AppServer, RedisServer
from web.database import PACKAGES

pytestmark = pytest.mark.e2e


async def _seed(url: str) -> None:
    await migrate(url, PACKAGES)
    db = await open_database(url)
    now = datetime.now(UTC).replace(microsecond=0)
    try:
        await db.execute(
            "INSERT INTO broadcasts (id, title, description, category, starts_at, ends_at,"
            " status, created_at, updated_at) VALUES (1, '여러 호스트 생방송', '', '회의',"
            " ?, ?, 'live', ?, ?)",
            (
                (now - timedelta(minutes=30)).isoformat(),
                (now + timedelta(minutes=90)).isoformat(),
                now.isoformat(),
                now.isoformat(),
            ),
        )
    finally:
        await db.close()


@pytest.fixture
async def hosts(
    tmp_path: Path, postgres_url: str, redis_server: RedisServer
) -> AsyncIterator[list[AppServer]]:
    await _seed(postgres_url)
    env = {
        "DATABASE_URL": postgres_url,
        "REDIS_URL": redis_server.url,
        "SECRET_KEY": "one-secret-for-every-host",
        **NO_RATE_LIMITS,
    }
    servers = []
    for name in ("a", "b", "c"):
        home = tmp_path / name
        home.mkdir()
        servers.append(AppServer(home / "unused.db", {**env, "HOST_ID": f"host-{name}"}, cwd=home))
    await asyncio.gather(*(asyncio.to_thread(s.start) for s in servers))
    try:
        yield servers
    finally:
        for s in servers:
            await asyncio.to_thread(s.stop)


async def _poster(
    host: AppServer,
    name: str,
    count: int,
    acked: list[int],
    stop_after: asyncio.Event | None = None,
) -> None:
    cookie, csrf = await guest_cookie(host.base, name)
    async with httpx.AsyncClient(
        base_url=host.base, headers={"cookie": cookie, "x-csrf-token": csrf}
    ) as http:
        for i in range(count):
            try:
                r = await http.post(
                    "/api/broadcasts/1/comments",
                    json={"text": f"{name} {i}", "client_id": f"{name}-{i}"},
                )
            except httpx.HTTPError:
                return  # the host died under us: what it acknowledged is in `acked`
            assert r.status_code in (200, 201), r.text
            acked.append(r.json()["id"])
            if stop_after is not None and i == count // 2:
                stop_after.set()


async def test_three_hosts_deliver_every_acknowledged_comment_once_in_order(
    hosts: list[AppServer],
) -> None:
    viewers = [ViewerClient(h.ws_base, 1) for h in hosts for _ in range(2)]
    for v in viewers:
        await v.open()
    acked: list[int] = []
    await asyncio.gather(
        *(_poster(h, f"p{n}{k}", 25, acked) for n, h in enumerate(hosts) for k in range(2))
    )
    assert len(acked) == 150 and len(set(acked)) == 150
    everything = sorted(acked)
    for v in viewers:
        await v.wait(lambda c: len(c.ids) >= len(everything))
        assert v.ids == everything  # once each, in id order, on every host

    # a viewer of host a moves to host b mid-stream and gets exactly the rest
    mover = viewers[0]
    await mover.close()
    more: list[int] = []
    await _poster(hosts[2], "later", 20, more)
    mover.ws_base, mover.origin = hosts[1].ws_base, hosts[1].base
    await mover.open()
    await mover.wait(lambda c: len(c.ids) >= len(everything) + 20)
    assert mover.ids == everything + sorted(more)
    for v in viewers:
        await v.close()


async def test_a_host_killed_mid_stream_loses_nothing_it_acknowledged(
    hosts: list[AppServer],
) -> None:
    a, b, c = hosts
    stay = [ViewerClient(a.ws_base, 1), ViewerClient(b.ws_base, 1)]
    for v in stay:
        await v.open()
    acked: list[int] = []
    halfway = asyncio.Event()
    doomed = asyncio.create_task(_poster(c, "doomed", 200, acked, halfway))
    survivors = asyncio.gather(_poster(a, "left", 40, acked), _poster(b, "right", 40, acked))
    await halfway.wait()
    c.kill()
    await doomed
    await survivors
    assert len(acked) > 80  # the doomed host acknowledged some before it died
    wanted = set(acked)
    for v in stay:
        await v.wait(lambda viewer: wanted <= set(viewer.ids))
        # a comment the dead host committed but never acknowledged may arrive too; nothing
        # arrives twice or out of order
        assert v.ids == sorted(set(v.ids))
        await v.close()
