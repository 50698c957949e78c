"""Resource limits against real processes: body size (memory measured), header time, and
the shipped nginx configuration in front of a real uvicorn."""

from __future__ import annotations

import select
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.wsclient import ViewerClient, guest_cookie
from tests.support import ROOT, TIMEOUT, AppServer, free_port, seed_broadcast, wait_for

pytestmark = pytest.mark.e2e

NGINX = "/usr/sbin/nginx"
DEPLOY = ROOT / "deploy" / "nginx"
HEADER_PROTOCOL = ("--http", "web.http.header_timeout:HeaderTimeoutProtocol")


def rss_bytes(pid: int) -> int:
    """Resident memory of a process (VmRSS in /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def chunked_post(port: int, path: str, total: int, chunk: int = 1 << 20) -> tuple[int, bytes]:
    """POST `total` bytes with Transfer-Encoding: chunked, stopping as soon as the server
    answers or drops the connection; return (bytes sent, what the server answered)."""
    sent = 0
    answer = b""
    block = b"%x\r\n" % chunk + b"x" * chunk + b"\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
        s.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        try:
            while sent < total:
                if select.select([s], [], [], 0)[0]:
                    break
                s.sendall(block)
                sent += chunk
            else:
                s.sendall(b"0\r\n\r\n")
            answer = s.recv(4096)
        except (BrokenPipeError, ConnectionResetError):
            pass
    return sent, answer


def test_a_huge_chunked_body_is_refused_without_growing_the_server(tmp_path: Path) -> None:
    """A 100 MiB chunked POST to an unauthenticated endpoint is cut at 64 KiB with 413; the
    server's resident memory grows by less than 16 MiB (it grew by ~2× the body before)."""
    server = AppServer(tmp_path / "app.db")
    server.start()
    try:
        assert server.proc is not None
        assert (
            httpx.post(server.base + "/api/session", json={"nickname": "워밍업"}).status_code == 201
        )
        before = rss_bytes(server.proc.pid)
        sent, answer = chunked_post(server.port, "/api/session", 100 << 20)
        grown = rss_bytes(server.proc.pid) - before
        print(
            f"RSS before {before / 2**20:.1f} MiB, growth {grown / 2**20:.1f} MiB, "
            f"client sent {sent / 2**20:.0f} MiB before the answer"
        )
        assert grown < 16 << 20
        assert sent < 100 << 20 and (answer == b"" or answer.startswith(b"HTTP/1.1 413"))
        assert httpx.get(server.base + "/healthz").status_code == 200
    finally:
        server.stop()


HEALTH = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"


def read_response(s: socket.socket, buffered: bytes = b"") -> tuple[bytes, bytes]:
    """One whole HTTP response (by its Content-Length), and what came after it."""
    data = buffered
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        assert chunk, f"closed before a response: {data[:80]!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(rest) < length:
        chunk = s.recv(65536)
        assert chunk, "closed inside a response body"
        rest += chunk
    return head + b"\r\n\r\n" + rest[:length], rest[length:]


def slow_header_lifetime(port: int, limit: float, *, after_a_response: bool = False) -> float:
    """Send a request line, then one header byte a second; seconds until the peer closes
    (`after_a_response`: on a connection that was just answered a whole request)."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
        if after_a_response:
            s.sendall(HEALTH)
            answer, rest = read_response(s)
            assert answer.startswith(b"HTTP/1.1 200") and not rest, answer[:80]
        start = time.monotonic()
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        while time.monotonic() - start < limit:
            try:
                s.sendall(b"X")
            except (BrokenPipeError, ConnectionResetError):
                break
            if select.select([s], [], [], 1.0)[0]:
                try:
                    data = s.recv(4096)
                except ConnectionResetError:
                    break
                if not data or data.startswith(b"HTTP/1.1 408"):
                    break
                raise AssertionError(f"unexpected answer {data[:80]!r}")
    return time.monotonic() - start


def test_the_server_cuts_a_slow_header_connection(tmp_path: Path) -> None:
    """With the header-timeout protocol, uvicorn closes a connection whose headers trickle
    in past REQUEST_HEADER_TIMEOUT, first request or the next on a kept-alive connection;
    normal and pipelined requests on the same server are served."""
    server = AppServer(tmp_path / "app.db", {"REQUEST_HEADER_TIMEOUT": "2"}, args=HEADER_PROTOCOL)
    server.start()
    try:
        lifetime = slow_header_lifetime(server.port, 20)
        assert 1.5 < lifetime < 6, lifetime
        assert httpx.get(server.base + "/healthz").status_code == 200
        # The next request on a kept-alive connection is bounded the same way.
        again = slow_header_lifetime(server.port, 20, after_a_response=True)
        assert 1.5 < again < 6, again
        # Pipelined requests are all answered: the later ones' headers were in time.
        with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as s:
            s.sendall(HEALTH * 3)
            rest = b""
            for _ in range(3):
                answer, rest = read_response(s, rest)
                assert answer.startswith(b"HTTP/1.1 200"), answer[:80]
    finally:
        server.stop()


def test_the_server_refuses_oversized_headers(tmp_path: Path) -> None:
    """Request headers past 16 KiB (the bound h11 had; httptools has none) get 431 and the
    connection is closed, even while the client goes on sending; headers under it are
    served, and so is the next client."""
    server = AppServer(tmp_path / "app.db", args=HEADER_PROTOCOL)
    server.start()

    def answer_to(pad: int) -> bytes:
        with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * pad)
            s.sendall(b"\r\nConnection: close\r\n\r\n")
            return read_response(s)[0]

    try:
        assert answer_to(12 * 1024).startswith(b"HTTP/1.1 200")
        assert answer_to(20 * 1024).startswith(b"HTTP/1.1 431")
        with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ")
            with pytest.raises(OSError):  # cut off: the peer resets or stops taking bytes
                for _ in range(4096):  # 64 MiB would be sent if nothing stopped it
                    s.sendall(b"a" * 16384)
        assert httpx.get(server.base + "/healthz").status_code == 200
    finally:
        server.stop()


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[AppServer, int]]:
    """The app behind nginx started with deploy/nginx/*.conf (only the upstream port and
    the file paths changed); yields (app, nginx port)."""
    if shutil.which(NGINX) is None and not Path(NGINX).exists():
        raise RuntimeError("nginx is not installed (scripts/test installs nginx-light)")
    port = free_port()
    db = tmp_path / "app.db"
    seed_broadcast(db, 1)
    app = AppServer(db, {"PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}, args=HEADER_PROTOCOL)
    app.start()
    conf = Path(tempfile.mkdtemp(prefix="ls-nginx-"))
    http_part = (
        (DEPLOY / "live-seoul-http.conf")
        .read_text()
        .replace("127.0.0.1:8000", f"127.0.0.1:{app.port}")
    )
    (conf / "http.conf").write_text(http_part)
    (conf / "nginx.conf").write_text(f"""
daemon off;
worker_processes 1;
pid {conf}/nginx.pid;
error_log {conf}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {conf}/body;
    proxy_temp_path {conf}/proxy;
    fastcgi_temp_path {conf}/fastcgi;
    uwsgi_temp_path {conf}/uwsgi;
    scgi_temp_path {conf}/scgi;
    include {conf}/http.conf;
    server {{
        listen 127.0.0.1:{port};
        include {DEPLOY / "live-seoul-locations.conf"};
    }}
}}
""")
    with (conf / "stderr.log").open("wb") as log:
        nginx = subprocess.Popen(
            [NGINX, "-p", str(conf), "-c", str(conf / "nginx.conf")],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )

    def ready() -> bool:
        if nginx.poll() is not None:
            raise RuntimeError(f"nginx exited: {(conf / 'stderr.log').read_text()}")
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(ready, what="nginx")
        yield app, port
    finally:
        nginx.terminate()
        nginx.wait(TIMEOUT)
        app.stop()


async def test_a_comment_round_trips_through_the_proxy(proxied: tuple[AppServer, int]) -> None:
    """Through nginx: a guest session, a WebSocket post, its ack and its delivery to a
    second viewer connected through the proxy too."""
    _, port = proxied
    base = f"http://127.0.0.1:{port}"
    cookie, _ = await guest_cookie(base, "프록시")
    writer = ViewerClient(f"ws://127.0.0.1:{port}", 1, cookie)
    reader = ViewerClient(f"ws://127.0.0.1:{port}", 1)
    await writer.open()
    await reader.open()
    await writer.post("nginx를 지나는 댓글", "p1")
    await writer.wait(lambda v: "p1" in v.acks)
    await reader.wait(lambda v: writer.acks["p1"] in v.ids)
    await writer.close()
    await reader.close()


def test_the_proxy_cuts_slow_headers_and_big_bodies(proxied: tuple[AppServer, int]) -> None:
    """nginx drops a connection still sending headers after client_header_timeout (10 s)
    and refuses a body over 64 KiB with 413 before it reaches the app."""
    _, port = proxied
    lifetime = slow_header_lifetime(port, 30)
    assert 8 < lifetime < 16, lifetime
    big = httpx.post(
        f"http://127.0.0.1:{port}/api/session",
        content=b"x" * (200 << 10),
        headers={"content-type": "application/json"},
    )
    assert big.status_code == 413
