"""`GET /metrics`: Prometheus text format, the hub's numbers, every worker, optional token."""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tests.support import ROOT, TIMEOUT, RedisServer, free_port, seed_broadcast, wait_for
from web.app import create_app
from web.ops.metrics import ProcessMetrics, authorized, host_directory, metrics_dir
from web.settings import Settings

# An independent reading of the text exposition format (0.0.4), strict about what we emit.
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\\\|\\"|\\n)*"'
SAMPLE = re.compile(rf"^({NAME})(?:\{{((?:{LABEL})(?:,{LABEL})*)?\}})? (\S+)$")
LABEL_PAIR = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
Series = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


def parse(text: str) -> tuple[dict[str, str], Series]:
    """(family → type, series → value); asserts every line is valid and families contiguous."""
    types: dict[str, str] = {}
    series: Series = {}
    seen_done: set[str] = set()
    current = ""
    assert text.endswith("\n")
    for line in text[:-1].split("\n"):  # lines end with \n only (\r may sit in a value)
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in {"counter", "gauge", "summary", "histogram", "untyped"}
            assert name not in types, f"family {name} declared twice"
            if current:
                seen_done.add(current)
            types[name], current = kind, name
            continue
        match = SAMPLE.match(line)
        assert match, f"bad sample line: {line!r}"
        name, labels, value = match.groups()
        family = re.sub(r"_(sum|count|bucket)$", "", name) if name not in types else name
        assert family == current and family not in seen_done, f"{name} outside its family"
        pairs = tuple((k, _unescape(v)) for k, v in LABEL_PAIR.findall(labels or ""))
        key = (name, pairs)
        assert key not in series, f"duplicate series {key}"
        series[key] = float(value)
    return types, series


def value(series: Series, name: str, **labels: str) -> float:
    found = [
        v
        for (n, ls), v in series.items()
        if n == name and all(dict(ls).get(k) == w for k, w in labels.items())
    ]
    assert len(found) == 1, f"{name} {labels}: {len(found)} series"
    return found[0]


@pytest.fixture
def live(settings: Settings) -> Iterator[TestClient]:
    seed_broadcast(settings.database_path, 1)
    with TestClient(create_app(settings)) as c:
        yield c


def test_metrics_report_comments_connections_and_health(live: TestClient) -> None:
    """Accepted and rejected comments, open sockets, broker state, DB latency and process
    numbers appear as well-formed series labelled with the host (the hostname without
    HOST_ID); gauges also with the worker's pid."""
    csrf = live.post("/api/session", json={"nickname": "시민"}).json()["csrf_token"]
    headers = {"X-CSRF-Token": csrf}
    with live.websocket_connect("/ws/broadcasts/1") as ws:
        assert ws.receive_json()["type"] == "hello"
        ok = live.post(
            "/api/broadcasts/1/comments",
            headers=headers,
            json={"text": "안녕하세요", "client_id": "m1"},
        )
        assert ok.status_code in (200, 201), ok.text
        bad = live.post(
            "/api/broadcasts/1/comments", headers=headers, json={"text": "   ", "client_id": "m2"}
        )
        assert bad.status_code == 400
        while ws.receive_json()["type"] != "comments":
            pass
        response = live.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    types, series = parse(response.text)
    pid, host = str(os.getpid()), socket.gethostname()
    assert value(series, "live_seoul_comments_accepted_total", host=host) == 1
    assert value(series, "live_seoul_comments_rejected_total", host=host, reason="empty") == 1
    assert types["live_seoul_comments_rejected_total"] == "counter"
    assert value(series, "live_seoul_connections", pid=pid) == 1
    assert value(series, "live_seoul_broadcast_connections", pid=pid, broadcast_id="1") == 1
    assert value(series, "live_seoul_rooms", pid=pid) == 1
    assert value(series, "live_seoul_broker_up", pid=pid, broker="memory") == 1
    assert value(series, "live_seoul_fanout_frames_total", host=host) >= 1
    assert value(series, "live_seoul_fanout_batch_size_count", host=host) >= 1
    assert value(series, "live_seoul_fanout_lag_seconds_count", host=host) >= 1
    assert value(series, "live_seoul_slow_client_disconnects_total", host=host) == 0
    assert value(series, "live_seoul_broker_publish_failures_total", host=host) == 0
    assert types["live_seoul_db_ping_duration_seconds"] == "histogram"
    assert value(series, "live_seoul_db_ping_duration_seconds_count", host=host) >= 1
    assert value(series, "live_seoul_db_ping_duration_seconds_bucket", host=host, le="+Inf") >= 1
    assert 0 <= value(series, "live_seoul_db_ping_seconds", host=host) < TIMEOUT
    assert value(series, "live_seoul_process_resident_memory_bytes", pid=pid) > 10 * 2**20
    assert value(series, "live_seoul_process_info", pid=pid) == 1


def test_metrics_token_is_required_when_set(settings: Settings) -> None:
    """With METRICS_TOKEN set, only `Authorization: Bearer <token>` gets the metrics."""
    app = create_app(dataclasses.replace(settings, metrics_token="s3cret-token"))
    with TestClient(app) as c:
        assert c.get("/metrics").status_code == 401
        assert c.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/metrics", headers={"Authorization": "s3cret-token"}).status_code == 401
        good = c.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
        assert good.status_code == 200 and "live_seoul_connections" in good.text


def test_authorized_without_token_is_open() -> None:
    """An empty token leaves /metrics open (typical behind a proxy that restricts it)."""
    assert authorized(None, "")
    assert not authorized(None, "t")
    assert authorized("Bearer t", "t")


@settings(max_examples=20, deadline=None)
@given(st.text(min_size=1, max_size=30))
def test_host_label_survives_any_host_id(
    tmp_path_factory: pytest.TempPathFactory, host: str
) -> None:
    """Any HOST_ID (quotes, backslashes, newlines, Korean) comes back as the `host` label
    of a well-formed exposition, and names a directory inside METRICS_DIR."""
    base = tmp_path_factory.mktemp("metrics")
    directory = host_directory(base, host)
    assert directory.parent == base
    metrics = ProcessMetrics(directory, host)
    metrics.observe_ping(0.002)
    _, series = parse(metrics.render().decode())
    assert value(series, "live_seoul_db_ping_duration_seconds_count", host=host) == 1


def test_two_hosts_with_one_pid_never_collide(tmp_path: Path) -> None:
    """Two hosts whose workers have the same pid, on one shared METRICS_DIR, keep their
    own files: each scrape reports its own host's numbers only."""
    seed_broadcast(tmp_path / "test.db", 1)
    base = dataclasses.replace(
        Settings(),
        database_url=f"sqlite:///{tmp_path / 'test.db'}",
        secret_key="t",
        metrics_dir=str(tmp_path / "shared"),
    )
    pid = str(os.getpid())
    a = dataclasses.replace(base, host_id="host-a")
    b = dataclasses.replace(base, host_id="host-b")
    with (
        TestClient(create_app(a)) as one,
        TestClient(create_app(b)) as two,
        one.websocket_connect("/ws/broadcasts/1") as ws,
    ):
        assert ws.receive_json()["type"] == "hello"
        _, seen_a = parse(one.get("/metrics").text)
        _, seen_b = parse(two.get("/metrics").text)
    assert value(seen_a, "live_seoul_connections", host="host-a", pid=pid) == 1
    assert value(seen_b, "live_seoul_connections", host="host-b", pid=pid) == 0
    assert {dict(ls)["host"] for (_, ls) in seen_a} == {"host-a"}
    assert {dict(ls)["host"] for (_, ls) in seen_b} == {"host-b"}
    assert sorted(p.name for p in (tmp_path / "shared").iterdir()) == ["host-a", "host-b"]


def test_an_app_on_postgresql_keeps_its_metrics_under_data_dir(tmp_path: Path) -> None:
    """On PostgreSQL there is no database file: the app is still built (nothing asks for
    the file) and the metrics live under DATA_DIR, one directory per host."""
    pg = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://u@h/d",
            "DATA_DIR": str(tmp_path),
            "REDIS_URL": "redis://h:6379/0",
            "SECRET_KEY": "k",
            "HOST_ID": "host-a",
        }
    )
    create_app(pg)  # builds without a database (the lifespan would connect)
    assert metrics_dir(pg) == tmp_path / "live-seoul.metrics" / "host-a"
    lite = dataclasses.replace(pg, database_url=f"sqlite:///{tmp_path / 'a.db'}", data_dir="")
    assert metrics_dir(lite) == tmp_path / "a.db.metrics" / "host-a"


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[str]:
    """`live-seoul serve --workers 2` (with the Redis it needs) as a real process tree on
    a free port."""
    db = tmp_path / "w.db"
    seed_broadcast(db, 1)
    port = free_port()
    redis = RedisServer()
    redis.start()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "SECRET_KEY": "t",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "LOG_LEVEL": "warning",
        "REDIS_URL": redis.url,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "web.cli", "serve", "--workers", "2", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(base + "/healthz", timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(up, timeout=TIMEOUT * 3, what="two workers")
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(TIMEOUT * 2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        redis.stop()


def test_any_worker_reports_every_worker(two_workers: str) -> None:
    """Behind `--workers 2`, one scrape shows both worker pids (shared snapshots)."""

    def pids() -> set[str]:
        _, series = parse(httpx.get(two_workers + "/metrics", timeout=TIMEOUT).text)
        return {dict(ls)["pid"] for (n, ls) in series if n == "live_seoul_process_info"}

    found: set[str] = set()

    def both() -> bool:
        found.clear()
        found.update(pids())
        return len(found) == 2

    wait_for(both, timeout=TIMEOUT * 2, what="two pids in one scrape")
    assert len(found) == 2
