"""The chat servers the benchmarks run side by side, and how one client speaks to each.

* `hub`: this project, run as `live-seoul serve` (`--workers N`), with Redis; on a SQLite
  file of its own, or, when `DATABASE_URL` names PostgreSQL, on a fresh schema of that
  database per run (dropped when the run stops). `Hosts` runs it as several hosts: separate
  `live-seoul serve` processes, each with its own working directory, data folder and port,
  sharing only one fresh PostgreSQL schema, the run's Redis and `SECRET_KEY`.
* `naive`: `bench/naive_app.py`, the tutorial design (one subscription and one send per
  connection), the project's own baseline.
* `broadcaster`, `socketio`, `node`: the peers in `../shared/peers/` (see its README):
  Starlette + encode/broadcaster, python-socketio with its Redis manager, Node socket.io
  with the Redis adapter. Their packages are installed on first use into a cache folder
  outside the repository (`~/.cache/live-seoul-peers`, or `$LIVE_SEOUL_PEERS_CACHE`) with
  pip `--target` and npm.

Every system fans each comment out to every viewer through Redis; the client posts the
same JSON item (`client_id`, `text`) to each, in the system's own framing, and counts the
items it receives the same way.
"""

from __future__ import annotations

import asyncio
import compileall
import concurrent.futures
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

from db import migrate, open_database
from tests.support import ROOT, free_port, seed_broadcast, wait_for
from web.database import PACKAGES

PEERS = Path(os.environ.get("LIVE_SEOUL_PEERS", ROOT.parent.parent / "shared" / "peers"))
if not PEERS.is_dir():
    PEERS = Path("/work/shared/peers")
CACHE = Path(os.environ.get("LIVE_SEOUL_PEERS_CACHE", Path.home() / ".cache" / "live-seoul-peers"))
PY_PACKAGES = [
    "broadcaster",
    "python-socketio",
    "python-engineio",
    "bidict",
    "simple-websocket",
]  # --no-deps: starlette, redis, anyio are the project's own
# broadcaster 0.3.1's Redis backend loses every message under redis-py 8 once its first
# subscription has settled (its listener and `subscribe` race on one PubSub); with
# redis-py 5 it works, so the broadcaster peer gets redis-py 5 ahead of the project's.
BROADCASTER_REDIS = "redis==5.2.1"
NODE_PACKAGES = ["socket.io", "@socket.io/redis-adapter", "redis"]
T = TypeVar("T")
CLK_TCK = os.sysconf("SC_CLK_TCK")
ALL = ("hub", "naive", "broadcaster", "socketio", "node")


def raise_fd_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def tree(pid: int) -> list[int]:
    """`pid` and its descendants (uvicorn's workers)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return total


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def compile_bytecode() -> None:
    """Write the project's bytecode, as a deployed copy has it after its first start (or
    an image build's `compileall`). Where the environment sets PYTHONDONTWRITEBYTECODE
    (this workplace does), every `live-seoul serve` would otherwise compile the whole
    project from source: on a restarted server in the storm, a second of CPU before it
    answers. (Installed packages, the peers' included, have theirs from pip.)"""
    for package in ("db", "schedule", "replay", "livechat", "web", "bench"):
        compileall.compile_dir(ROOT / package, quiet=1)


def ensure_peer_packages(kind: str) -> None:
    """Install a peer's packages into the cache folder on first use (pip / npm)."""
    if kind in ("broadcaster", "socketio") and not (CACHE / "py" / "socketio").is_dir():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "-q",
                "--no-deps",
                "--target",
                str(CACHE / "py"),
                *PY_PACKAGES,
            ],
            check=True,
        )
    if kind == "broadcaster" and not (CACHE / "redis5" / "redis").is_dir():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "-q",
                "--no-deps",
                "--target",
                str(CACHE / "redis5"),
                BROADCASTER_REDIS,
            ],
            check=True,
        )
    if kind == "node" and not (CACHE / "node" / "node_modules" / "socket.io").is_dir():
        if shutil.which("npm") is None:
            raise RuntimeError("node socket.io peer: npm is not installed")
        (CACHE / "node").mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--silent", "--prefix", str(CACHE / "node"), *NODE_PACKAGES],
            check=True,
        )


# -- the client side of each system ------------------------------------------------------
@dataclass(frozen=True)
class Dialect:
    """How the load client speaks to one system."""

    path: str
    post: Callable[[str, str], str]  # (client_id, text) -> the message to send
    items: Callable[[str], list[dict[str, Any]] | None]  # a received message -> items
    engineio: bool = False  # answer the Engine.IO open with "40" and pings with "3"
    acks: bool = False  # the server acknowledges posts


def _hub_post(client_id: str, text: str) -> str:
    return json.dumps({"type": "post", "client_id": client_id, "text": text})


def _comments_items(raw: str) -> list[dict[str, Any]] | None:
    if not raw.startswith('{"type":"comments"') or '"backfill":true' in raw:
        return None
    items: list[dict[str, Any]] = json.loads(raw)["items"]
    return items


def _plain_post(client_id: str, text: str) -> str:
    return json.dumps(
        {"type": "comments", "items": [{"client_id": client_id, "text": text}]},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _sio_post(client_id: str, text: str) -> str:
    return "42" + json.dumps(
        ["comment", {"type": "comments", "items": [{"client_id": client_id, "text": text}]}],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _sio_items(raw: str) -> list[dict[str, Any]] | None:
    if not raw.startswith('42["comment"'):
        return None
    items: list[dict[str, Any]] = json.loads(raw[2:])[1]["items"]
    return items


DIALECTS = {
    "hub": Dialect("/ws/broadcasts/1", _hub_post, _comments_items, acks=True),
    "naive": Dialect("/ws/broadcasts/1", _hub_post, _comments_items, acks=True),
    "broadcaster": Dialect("/ws", _plain_post, _comments_items),
    "socketio": Dialect(
        "/socket.io/?EIO=4&transport=websocket", _sio_post, _sio_items, engineio=True
    ),
    "node": Dialect("/socket.io/?EIO=4&transport=websocket", _sio_post, _sio_items, engineio=True),
}


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` to the end on a loop of its own (the benchmark's loop may be running)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work).result()


async def _execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def seed_postgres(url: str) -> tuple[str, str]:
    """A new schema in the database `url` names, migrated, with broadcast 1 live around
    now: (the URL whose search_path is that schema, then public; the schema's name)."""
    schema = "bench_" + uuid.uuid4().hex[:12]
    await _execute(url, f"CREATE SCHEMA {schema}")
    parts = urlsplit(url)
    scoped = urlunsplit(
        (parts.scheme, parts.netloc, parts.path, "search_path=" + quote(f"{schema},public"), "")
    )
    await migrate(scoped, PACKAGES)
    db = await open_database(scoped)
    now = datetime.now(UTC).replace(microsecond=0)
    try:
        await db.execute(
            "INSERT INTO broadcasts (id, title, description, category, starts_at, ends_at,"
            " status, created_at, updated_at) VALUES (1, '테스트 생방송', '', '회의',"
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
    return scoped, schema


# -- the server side -----------------------------------------------------------------------
class Server:
    """One system under test, started on a free port with its own database file."""

    def __init__(
        self,
        kind: str,
        redis_url: str,
        tmp: Path,
        workers: int = 1,
        extra_env: dict[str, str] | None = None,
        default_admission: bool = False,
        database_url: str | None = None,
        cwd: Path = ROOT,
    ) -> None:
        """`database_url`: a database another owner seeded and drops (`Hosts`); empty: a
        SQLite file of its own; None: that, or its own schema of `$DATABASE_URL` when that
        names PostgreSQL.
        `cwd`: the process's working directory (the project stays importable)."""
        self.kind = kind
        self.cwd = cwd
        self.dialect = DIALECTS[kind]
        self.port = free_port()
        self.workers = workers
        db = tmp / f"{kind}-{self.port}.db"
        self.db = db
        env = {
            **os.environ,
            "REDIS_URL": redis_url,
            "DATABASE_URL": f"sqlite:///{db}",
            "SECRET_KEY": "bench",
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{self.port}",
            "COMMENT_BURST": "1000000",
            "COMMENT_RATE_PER_MINUTE": "100000000",
            "ADDRESS_BURST": "1000000",
            "ADDRESS_RATE_PER_MINUTE": "100000000",
            "CONNECTIONS_PER_ADDRESS": "1000000",
            "ADMISSION_BURST": "100000",
            "ADMISSION_RATE": "100000",
            "METRICS_DIR": str(tmp / f"metrics-{self.port}"),
            "NAIVE_DB": str(db),
            "PORT": str(self.port),
            "LOG_LEVEL": "warning",
            **(extra_env or {}),
        }
        if default_admission:  # the storm measures the product's own admission limits
            del env["ADMISSION_BURST"], env["ADMISSION_RATE"]
        uvicorn = [
            sys.executable,
            "-m",
            "uvicorn",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            "--backlog",
            "4096",
            "--ws",
            "websockets-sansio",
            "--ws-per-message-deflate",
            "false",
        ]
        if cwd != ROOT:
            env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
        self.schema = ""
        if kind == "hub" and database_url:
            env["DATABASE_URL"] = database_url
            env["DATA_DIR"] = str(cwd / "data")
        elif (
            kind == "hub"
            and database_url is None
            and is_postgres(os.environ.get("DATABASE_URL", ""))
        ):
            env["DATABASE_URL"], self.schema = _run(seed_postgres(os.environ["DATABASE_URL"]))
            env["DATA_DIR"] = str(tmp / f"data-{self.port}")
        elif kind == "hub":
            seed_broadcast(db, 1)
        if kind == "hub":
            compile_bytecode()
            cmd = [
                sys.executable,
                "-c",
                "import sys; from web.cli import main; sys.exit(main())",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
            ]
        elif kind == "naive":
            cmd = [*uvicorn, "bench.naive_app:app"]
        elif kind in ("broadcaster", "socketio"):
            ensure_peer_packages(kind)
            first = [str(CACHE / "redis5")] if kind == "broadcaster" else []
            env["PYTHONPATH"] = os.pathsep.join(
                [str(PEERS), *first, str(CACHE / "py"), env.get("PYTHONPATH", "")]
            )
            cmd = [
                *uvicorn,
                "broadcaster_chat:app" if kind == "broadcaster" else "socketio_chat:app",
            ]
        elif kind == "node":
            ensure_peer_packages(kind)
            env["NODE_PATH"] = str(CACHE / "node" / "node_modules")
            cmd = ["node", str(PEERS / "socketio_node.js")]
        else:
            raise ValueError(f"unknown system {kind!r}")
        self.env = env
        self.cmd = cmd
        self.proc = self._spawn()

    def _spawn(self) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(self.cmd, cwd=self.cwd, env=self.env, preexec_fn=raise_fd_limit)
        self.proc = proc
        wait_for(self._ready, timeout=60, what=f"{self.kind} server")
        return proc

    def _ready(self) -> bool:
        """Listening (socket.io's server never answers a plain GET /, so only connect)."""
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.kind} server exited with {self.proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
            return True
        except OSError:
            return False

    def restart(self) -> None:
        """Stop (SIGTERM, as a deploy does) and start again on the same port."""
        self.stop()
        self._spawn()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}{self.dialect.path}"

    def pids(self) -> list[int]:
        return tree(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.schema:
            _run(
                _execute(os.environ["DATABASE_URL"], f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
            )


class Hosts:
    """The hub as `count` hosts: separate `live-seoul serve` processes (`workers` each),
    each with its own working directory, data folder and port. On PostgreSQL
    (`database_url`) they share one fresh schema of that database, seeded once and dropped
    by `stop`; on SQLite (`database_url` empty) there is one host with its own file (a
    SQLite file is not shared between hosts). All share `redis_url` and `SECRET_KEY`."""

    def __init__(
        self, redis_url: str, tmp: Path, count: int, database_url: str = "", workers: int = 1
    ) -> None:
        if count < 1 or (count > 1 and not is_postgres(database_url)):
            raise ValueError(f"{count} hosts need a PostgreSQL database (hosts share it)")
        self.kind = "hub"
        self.dialect = DIALECTS["hub"]
        self.database_url = database_url
        self.schema = ""
        shared = ""
        if is_postgres(database_url):
            shared, self.schema = _run(seed_postgres(database_url))
        self.servers: list[Server] = []
        try:
            for _ in range(count):
                cwd = Path(tempfile.mkdtemp(prefix="host-", dir=tmp))
                self.servers.append(
                    Server("hub", redis_url, tmp, workers, database_url=shared, cwd=cwd)
                )
        except BaseException:
            self.stop()
            raise

    def pids(self) -> list[int]:
        """Every host's processes (their CPU is the servers' CPU; PostgreSQL's is not)."""
        return [pid for server in self.servers for pid in server.pids()]

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        if self.schema:
            _run(_execute(self.database_url, f"DROP SCHEMA IF EXISTS {self.schema} CASCADE"))
            self.schema = ""
