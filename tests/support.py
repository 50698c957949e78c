"""Real servers on free ports for the tests: redis-server and uvicorn processes.

Every wait is bounded by `TIMEOUT`, which `LIVE_SEOUL_TEST_TIMEOUT_SCALE` scales for slow
machines.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from urllib.parse import quote

import httpx

from db import Database, PackageMigrations, migrate, open_database
from web.database import PACKAGES
from web.identity.store import AccountStore
from web.settings import ws_transport_max

SCALE = float(os.environ.get("LIVE_SEOUL_TEST_TIMEOUT_SCALE", "1"))
TIMEOUT = 10.0 * SCALE
ROOT = Path(__file__).resolve().parent.parent


def database_url(target: Path | str) -> str:
    """A `DATABASE_URL` for an SQLite file path, or the URL itself."""
    return target if isinstance(target, str) else f"sqlite:///{target}"


def packages_for(url: str) -> tuple[PackageMigrations, ...]:
    """Every package's migrations; on PostgreSQL, the packages already ported to it (the
    livechat stores bring theirs with their port)."""
    if url.startswith("sqlite:"):
        return PACKAGES
    return tuple(p for p in PACKAGES if p.postgresql)


@contextlib.asynccontextmanager
async def migrated(target: Path | str) -> AsyncIterator[Database]:
    """The database at `target` (a file path or a URL), migrated and open."""
    url = database_url(target)
    await migrate(url, packages_for(url))
    db = await open_database(url)
    try:
        yield db
    finally:
        await db.close()


@contextlib.asynccontextmanager
async def account_store(target: Path | str) -> AsyncIterator[AccountStore]:
    """The staff account store of the database at `target` (migrated first)."""
    async with migrated(target) as db:
        yield AccountStore(db)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for(predicate: object, timeout: float = TIMEOUT, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise TimeoutError(f"timed out waiting for {what}")


class RedisServer:
    """A private redis-server on a free port; `stop()`/`start()` simulate outages.
    With a `password` it requires it (and uses it as a replica towards its master)."""

    def __init__(self, password: str = "") -> None:
        self.password = password
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="ls-redis-")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            raise RuntimeError("redis-server is not installed (scripts/test installs it)")
        self.proc = subprocess.Popen(
            [
                exe,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
                "--protected-mode",
                "no",
                *self._auth(),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._ready, what=f"redis on {self.port}")

    def _auth(self) -> list[str]:
        if not self.password:
            return []
        return ["--requirepass", self.password, "--masterauth", self.password]

    def _ready(self) -> bool:
        try:
            return self.command("PING").startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(TIMEOUT)
            self.proc = None

    def command(self, *args: str) -> bytes:
        """Send one command (after AUTH, with a password), return the raw reply (for
        DEBUG SLEEP and the like)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT) as s:
            if self.password:
                s.sendall(_command("AUTH", self.password))
                if not s.recv(64).startswith(b"+OK"):
                    raise OSError(f"redis on {self.port} refused the password")
            s.sendall(_command(*args))
            return s.recv(65536)


def _command(*args: str) -> bytes:
    """`args` as one RESP command."""
    parts = [f"*{len(args)}\r\n".encode()]
    for a in args:
        b = a.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(parts)


def _redis_exe(name: str = "redis-server") -> str:
    exe = shutil.which(name)
    if exe is None:
        raise RuntimeError(f"{name} is not installed (scripts/test installs redis-server)")
    return exe


def _ask(port: int, *args: str, password: str = "") -> bytes:
    """One command to the Redis (or Sentinel) on `port`; its raw reply."""
    probe = RedisServer.__new__(RedisServer)
    probe.port, probe.password = port, password
    return probe.command(*args)


class RedisCluster:
    """Three redis-server nodes in cluster mode on free ports, joined with
    `redis-cli --cluster create` (no replicas); `flush()` empties every node."""

    def __init__(self, nodes: int = 3) -> None:
        self.ports = [free_port() for _ in range(nodes)]
        self.dir = tempfile.mkdtemp(prefix="ls-cluster-")
        self.procs: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in self.ports)

    def start(self) -> None:
        exe = _redis_exe()
        for port in self.ports:
            self.procs.append(
                subprocess.Popen(
                    [
                        exe,
                        "--port",
                        str(port),
                        "--bind",
                        "127.0.0.1",
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--dir",
                        self.dir,
                        "--protected-mode",
                        "no",
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        f"nodes-{port}.conf",
                        # the bus port would be port + 10000 (past 65535 for a high free port)
                        "--cluster-port",
                        str(free_port()),
                        "--cluster-node-timeout",
                        "2000",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        for port in self.ports:
            wait_for(lambda p=port: _pong(p), what=f"cluster node {port}")
        subprocess.run(
            [
                _redis_exe("redis-cli"),
                "--cluster",
                "create",
                *(f"127.0.0.1:{p}" for p in self.ports),
                "--cluster-replicas",
                "0",
                "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=TIMEOUT * 3,
        )
        for port in self.ports:
            wait_for(
                lambda p=port: b"cluster_state:ok" in _ask(p, "CLUSTER", "INFO"),
                timeout=TIMEOUT * 3,
                what=f"cluster state ok on {port}",
            )

    def flush(self) -> None:
        for port in self.ports:
            _ask(port, "FLUSHALL")

    def stop(self) -> None:
        for proc in self.procs:
            proc.kill()
            proc.wait(TIMEOUT)
        self.procs = []


class RedisSentinel:
    """A master, its replica and one `redis-server --sentinel` watching them (quorum 1,
    1 s to notice a master is down); `fail_over()` kills the master. With `password` the
    master and replica require it; with `sentinel_password` the Sentinel requires its own.
    """

    SERVICE = "live-seoul"

    def __init__(self, password: str = "", sentinel_password: str = "") -> None:
        self.password, self.sentinel_password = password, sentinel_password
        self.master, self.replica = RedisServer(password), RedisServer(password)
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="ls-sentinel-")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        auth = f":{quote(self.password, safe='')}@" if self.password else ""
        query = f"?sentinel_password={quote(self.sentinel_password, safe='')}"
        return f"redis+sentinel://{auth}127.0.0.1:{self.port}/{self.SERVICE}" + query * bool(
            self.sentinel_password
        )

    def start(self) -> None:
        self.master.start()
        self.replica.start()
        self.replica.command("REPLICAOF", "127.0.0.1", str(self.master.port))
        wait_for(
            lambda: b"master_link_status:up" in self.replica.command("INFO", "replication"),
            what="replica in sync",
        )
        conf = Path(self.dir) / "sentinel.conf"
        conf.write_text(
            f"port {self.port}\nbind 127.0.0.1\nprotected-mode no\ndir {self.dir}\n"
            f"sentinel monitor {self.SERVICE} 127.0.0.1 {self.master.port} 1\n"
            f"sentinel down-after-milliseconds {self.SERVICE} 1000\n"
            f"sentinel failover-timeout {self.SERVICE} 5000\n"
            + f"sentinel auth-pass {self.SERVICE} {self.password}\n" * bool(self.password)
            + f"requirepass {self.sentinel_password}\n" * bool(self.sentinel_password)
        )
        self.proc = subprocess.Popen(
            [_redis_exe(), str(conf), "--sentinel"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(
            lambda: self._master_reply().endswith(f"{self.master.port}\r\n".encode()),
            what="sentinel watching the master",
        )

    def _master_reply(self) -> bytes:
        try:
            return _ask(
                self.port,
                "SENTINEL",
                "GET-MASTER-ADDR-BY-NAME",
                self.SERVICE,
                password=self.sentinel_password,
            )
        except OSError:
            return b""

    def master_port(self) -> int:
        return int(self._master_reply().split(b"\r\n")[-2])

    def fail_over(self) -> None:
        """Kill the master; return once the Sentinel names the replica instead."""
        self.master.stop()
        wait_for(
            lambda: self.master_port() == self.replica.port,
            timeout=TIMEOUT * 3,
            what="sentinel failover to the replica",
        )

    def flush(self) -> None:
        _ask(self.master_port(), "FLUSHALL", password=self.password)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(TIMEOUT)
            self.proc = None
        self.replica.stop()
        self.master.stop()


def _pong(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class AppServer:
    """`live-seoul serve` (really uvicorn with the factory) in its own process."""

    def __init__(
        self,
        db_path: Path,
        env: Mapping[str, str] | None = None,
        port: int | None = None,
        args: tuple[str, ...] = (),
        cwd: Path | None = None,
    ) -> None:
        self.port = port or free_port()
        self.cwd = cwd or ROOT  # another host: a working directory of its own
        self.args = args  # more uvicorn options
        self.db_path = db_path
        self.env = dict(env or {})
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = Path(tempfile.mkstemp(prefix="ls-app-", suffix=".log")[1])

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{self.db_path}",
            "PUBLIC_BASE_URL": self.base,
            "SECRET_KEY": "test-secret-key-for-e2e",
            "PYTHONUNBUFFERED": "1",
            **self.env,
        }
        if "REDIS_URL" not in self.env:
            env.pop("REDIS_URL", None)
        frame_max = ws_transport_max(int(env.get("WS_MAX_MESSAGE_BYTES", "8192")))
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--factory",
                    "web.app:create_app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--log-level",
                    "warning",
                    "--ws-max-size",
                    str(frame_max),
                    "--ws-per-message-deflate",
                    "false",
                    "--ws",
                    "web.http.websocket_protocol:LeanWebSocketsProtocol",  # as `serve` runs
                    "--timeout-graceful-shutdown",
                    env.get("SHUTDOWN_TIMEOUT", "10"),
                    *self.args,
                ],
                cwd=self.cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(self._ready, timeout=TIMEOUT * 3, what=f"app on {self.port}")

    def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"app exited: {self.log.read_text()[-3000:]}")
        try:
            return httpx.get(self.base + "/healthz", timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(TIMEOUT * 2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        self.stop(signal.SIGKILL)


@contextlib.contextmanager
def running(*servers: AppServer | RedisServer) -> Iterator[None]:
    try:
        for s in servers:
            s.start()
        yield
    finally:
        for s in reversed(servers):
            s.stop()


def seed_broadcast(
    db_path: Path, broadcast_id: int = 1, title: str = "테스트 생방송", status: str = "live"
) -> int:
    """Create the database (migrated) with one broadcast around now; return its id."""
    import sqlite3
    from datetime import UTC, datetime, timedelta

    from web.database import migrate

    migrate(db_path)
    now = datetime.now(UTC).replace(microsecond=0)
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute(
            "INSERT INTO broadcasts (id, title, description, category, starts_at, ends_at,"
            " status, created_at, updated_at) VALUES (?, ?, '', '회의', ?, ?, ?, ?, ?)",
            (
                broadcast_id,
                title,
                (now - timedelta(minutes=30)).isoformat(),
                (now + timedelta(minutes=90)).isoformat(),
                status,
                now.isoformat(),
                now.isoformat(),
            ),
        )
    conn.close()
    return broadcast_id


# Test servers whose limits never get in the way of what a test measures.
NO_RATE_LIMITS = {
    "COMMENT_BURST": "100000",
    "COMMENT_RATE_PER_MINUTE": "10000000",
    "ADDRESS_BURST": "100000",
    "ADDRESS_RATE_PER_MINUTE": "10000000",
    "CONNECTIONS_PER_ADDRESS": "1000000",
    "VOTES_PER_ADDRESS": "1000000",
    "VOTES_PER_NETWORK": "1000000",
}


@contextlib.contextmanager
def server_pair(db_path: Path, env: Mapping[str, str]) -> Iterator[tuple[AppServer, AppServer]]:
    """Two app processes on one SQLite file (and the Redis named in `env`)."""
    a, b = AppServer(db_path, env), AppServer(db_path, env)
    with running(a, b):
        yield a, b


def staff_database(path: Path, password: str, *accounts: tuple[str, str, str]) -> Path:
    """A database at `path` with live broadcast 1 and these staff accounts (username, role,
    display name; ids in this order) sharing `password`. Argon2 is slow on purpose: build
    it once per module and copy the file for each test."""
    seed_broadcast(path, 1)

    async def create() -> None:
        async with migrated(path) as db:
            store = AccountStore(db)
            for username, role, name in accounts:
                await store.create(username, password, role, name)

    asyncio.run(create())
    return path
