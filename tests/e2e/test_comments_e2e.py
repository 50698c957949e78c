"""Real uvicorn processes sharing a real Redis and one SQLite file."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.wsclient import ViewerClient, guest_cookie
from tests.support import (
    TIMEOUT,
    AppServer,
    RedisServer,
    running,
    seed_broadcast,
    server_pair,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def pair(tmp_path: Path, redis_server: RedisServer) -> Iterator[tuple[AppServer, AppServer]]:
    db = tmp_path / "shared.db"
    seed_broadcast(db, 1)
    env = {
        "REDIS_URL": redis_server.url,
        "COMMENT_BURST": "1000",
        "COMMENT_RATE_PER_MINUTE": "100000",
        "ADDRESS_BURST": "100000",
        "ADDRESS_RATE_PER_MINUTE": "1000000",
    }
    with server_pair(db, env) as servers:
        yield servers


async def test_comment_posted_on_one_process_reaches_the_other(
    pair: tuple[AppServer, AppServer],
) -> None:
    """A comment posted through process A is delivered to a viewer of process B."""
    a, b = pair
    cookie, _ = await guest_cookie(a.base, "작성자")
    writer = ViewerClient(a.ws_base, 1, cookie)
    reader = ViewerClient(b.ws_base, 1)
    await writer.open()
    await reader.open()
    await writer.post("다른 프로세스로 가는 댓글", "x1")
    await writer.wait(lambda v: "x1" in v.acks)
    comment_id = writer.acks["x1"]
    await reader.wait(lambda v: comment_id in v.ids)
    await writer.close()
    await reader.close()


async def test_redis_killed_mid_stream_loses_no_acknowledged_comment(
    pair: tuple[AppServer, AppServer], redis_server: RedisServer
) -> None:
    """Kill Redis during a stream of posts and start it again: every acknowledged comment
    reaches every viewer on both processes, in order, once each."""
    a, b = pair
    cookie_a, _ = await guest_cookie(a.base, "가")
    cookie_b, _ = await guest_cookie(b.base, "나")
    poster_a, poster_b = ViewerClient(a.ws_base, 1, cookie_a), ViewerClient(b.ws_base, 1, cookie_b)
    viewers = [ViewerClient(a.ws_base, 1), ViewerClient(b.ws_base, 1)]
    for client in (poster_a, poster_b, *viewers):
        await client.open()
    for i in range(120):
        if i == 40:
            redis_server.stop()
        if i == 80:
            redis_server.start()
        poster = poster_a if i % 2 else poster_b
        await poster.post(f"댓글 {i}", f"p{i}")
        await asyncio.sleep(0.01)  # pacing: a stream of posts over ~1.5 s, not a sync point
    await poster_a.wait(lambda v: len(v.acks) == 60)
    await poster_b.wait(lambda v: len(v.acks) == 60)
    acked = sorted([*poster_a.acks.values(), *poster_b.acks.values()])
    for viewer in viewers:
        await viewer.wait(lambda v: len(v.ids) >= len(acked), timeout=TIMEOUT * 4)
        assert viewer.ids == acked
    for client in (poster_a, poster_b, *viewers):
        await client.close()


def _close_code(stream: bytes) -> int | None:
    """Walk the server's frames after the HTTP upgrade; return the close frame's code."""
    pos = stream.index(b"\r\n\r\n") + 4
    while pos + 2 <= len(stream):
        opcode, length = stream[pos] & 0x0F, stream[pos + 1] & 0x7F
        pos += 2
        if length == 126:
            length = int.from_bytes(stream[pos : pos + 2], "big")
            pos += 2
        elif length == 127:
            length = int.from_bytes(stream[pos : pos + 8], "big")
            pos += 8
        if opcode == 0x8:
            return int.from_bytes(stream[pos : pos + 2], "big")
        pos += length
    return None


def _raw_slow_client(port: int, cookie: str = "") -> socket.socket:
    """A WebSocket client with a tiny receive buffer that never reads."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws/broadcasts/1 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: http://127.0.0.1:{port}\r\n\r\n"
        ).encode()
    )
    return sock


async def test_slow_client_is_cut_off_and_others_stay_fast(tmp_path: Path) -> None:
    """A client that stops reading is closed; the other viewer's latency stays flat."""
    db = tmp_path / "slow.db"
    seed_broadcast(db, 1)
    server = AppServer(
        db,
        {
            "SEND_QUEUE_FRAMES": "8",
            "COMMENT_BURST": "10000",
            "COMMENT_RATE_PER_MINUTE": "1000000",
            "ADDRESS_BURST": "100000",
            "COMMENT_MAX_CHARS": "6000",
        },
    )
    server.start()
    try:
        cookie, csrf = await guest_cookie(server.base, "빠른")
        fast = ViewerClient(server.ws_base, 1, cookie)
        await fast.open()
        slow = _raw_slow_client(server.port)
        latencies: list[float] = []
        text = "느린클라이언트시험" * 600  # ~16 KB a frame: fills the kernel buffers quickly
        async with httpx.AsyncClient(
            base_url=server.base, headers={"cookie": cookie, "x-csrf-token": csrf}
        ) as http:
            for i in range(300):
                sent = time.monotonic()
                r = await http.post(
                    "/api/broadcasts/1/comments", json={"text": text, "client_id": f"s{i}"}
                )
                assert r.status_code == 201, r.text
                cid = r.json()["id"]
                await fast.wait(lambda v, cid=cid: cid in v.arrivals)
                latencies.append(fast.arrivals[cid] - sent)
        slow.settimeout(TIMEOUT)
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        data = b""
        while True:  # the server closed it: reading drains to EOF or a close frame
            chunk = slow.recv(1 << 16)
            if not chunk:
                break
            data += chunk
        slow.close()
        assert _close_code(data) == 4008
        early, late = latencies[:50], latencies[-50:]
        assert statistics.median(late) < max(0.05, 3 * statistics.median(early))
        await fast.close()
    finally:
        server.stop()


async def test_an_oversized_frame_gets_an_error_and_the_connection_lives(tmp_path: Path) -> None:
    """On a real server, a frame over WS_MAX_MESSAGE_BYTES (but within the transport's
    bound) earns `too_large`, and the same connection then answers a ping."""
    from websockets.asyncio.client import connect

    db = tmp_path / "big.db"
    seed_broadcast(db, 1)
    server = AppServer(db, {"WS_MAX_MESSAGE_BYTES": "8192"})
    with running(server):
        async with connect(f"{server.ws_base}/ws/broadcasts/1", origin=server.base) as ws:
            await ws.send('{"type":"post","text":"' + "a" * 9000 + '","client_id":"big"}')
            await ws.send('{"type":"ping"}')
            seen: list[str] = []
            while "pong" not in seen:
                frame = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
                seen.append(frame["type"])
                if frame["type"] == "error":
                    assert frame["code"] == "too_large"
            assert "error" in seen and seen.index("error") < seen.index("pong")
