"""`GET /metrics`: Prometheus text format, the hub's numbers, every worker, optional token."""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tests.support import ROOT, TIMEOUT, free_port, seed_broadcast, wait_for
from web.app import create_app
from web.ops.metrics import Family, Histogram, authorized, render
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
    found = [v for (n, ls), v in series.items()
             if n == name and all(dict(ls).get(k) == w for k, w in labels.items())]
    assert len(found) == 1, f"{name} {labels}: {len(found)} series"
    return found[0]


@pytest.fixture
def live(settings: Settings) -> Iterator[TestClient]:
    seed_broadcast(settings.database_path, 1)
    with TestClient(create_app(settings)) as c:
        yield c


def test_metrics_report_comments_connections_and_health(live: TestClient) -> None:
    """Accepted and rejected comments, open sockets, broker state, DB latency and process
    numbers appear as well-formed series labelled with the worker's pid."""
    csrf = live.post("/api/session", json={"nickname": "시민"}).json()["csrf_token"]
    headers = {"X-CSRF-Token": csrf}
    with live.websocket_connect("/ws/broadcasts/1") as ws:
        assert ws.receive_json()["type"] == "hello"
        ok = live.post("/api/broadcasts/1/comments", headers=headers,
                       json={"text": "안녕하세요", "client_id": "m1"})
        assert ok.status_code in (200, 201), ok.text
        bad = live.post("/api/broadcasts/1/comments", headers=headers,
                        json={"text": "   ", "client_id": "m2"})
        assert bad.status_code == 400
        while ws.receive_json()["type"] != "comments":
            pass
        response = live.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    types, series = parse(response.text)
    pid = str(os.getpid())
    assert value(series, "live_seoul_comments_accepted_total", pid=pid) == 1
    assert value(series, "live_seoul_comments_rejected_total", pid=pid, reason="empty") == 1
    assert types["live_seoul_comments_rejected_total"] == "counter"
    assert value(series, "live_seoul_connections", pid=pid) == 1
    assert value(series, "live_seoul_broadcast_connections", pid=pid, broadcast_id="1") == 1
    assert value(series, "live_seoul_rooms", pid=pid) == 1
    assert value(series, "live_seoul_broker_up", pid=pid, broker="memory") == 1
    assert value(series, "live_seoul_fanout_frames_total", pid=pid) >= 1
    assert value(series, "live_seoul_fanout_batch_size_count", pid=pid) >= 1
    assert value(series, "live_seoul_fanout_lag_seconds_count", pid=pid) >= 1
    assert value(series, "live_seoul_slow_client_disconnects_total", pid=pid) == 0
    assert value(series, "live_seoul_broker_publish_failures_total", pid=pid) == 0
    assert types["live_seoul_db_ping_duration_seconds"] == "histogram"
    assert value(series, "live_seoul_db_ping_duration_seconds_count", pid=pid) >= 1
    assert value(series, "live_seoul_db_ping_duration_seconds_bucket", pid=pid, le="+Inf") >= 1
    assert 0 <= value(series, "live_seoul_db_ping_seconds", pid=pid) < TIMEOUT
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


def test_histogram_buckets_are_cumulative() -> None:
    """Each bucket counts every observation at or below its bound; +Inf is the count."""
    h = Histogram(bounds=(0.01, 0.1, 1.0))
    for v in (0.005, 0.05, 0.5, 5.0):
        h.observe(v)
    assert h.counts == [1, 2, 3] and h.count == 4 and h.total == pytest.approx(5.555)


@settings(max_examples=100)
@given(st.text(max_size=30))
def test_label_values_are_escaped(text: str) -> None:
    """Any label value (quotes, backslashes, newlines, Korean) survives the text format."""
    fam = Family("live_seoul_x", "gauge", "x")
    fam.add({"reason": text}, 1)
    _, series = parse(render([fam]))
    assert series == {("live_seoul_x", (("reason", text),)): 1.0}


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[str]:
    """`live-seoul serve --workers 2` as a real process tree on a free port."""
    db = tmp_path / "w.db"
    seed_broadcast(db, 1)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "SECRET_KEY": "t",
           "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "LOG_LEVEL": "warning"}
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "web.cli", "serve", "--workers", "2", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
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
