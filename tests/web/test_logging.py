"""Structured JSON logs and request ids, in process and from a real `live-seoul serve`."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient
from websockets.asyncio.client import connect

from tests.support import ROOT, TIMEOUT, free_port, seed_broadcast, wait_for
from web.http.logs import JsonFormatter, log_config, request_id_var
from web.http.request_id import request_id_from


def record(msg: str, **extra: object) -> logging.LogRecord:
    rec = logging.LogRecord("livechat.hub", logging.WARNING, __file__, 1, msg, (), None)
    for key, value in extra.items():
        setattr(rec, key, value)
    return rec


def test_formatter_writes_one_json_object_with_the_request_id() -> None:
    """A record becomes one JSON line with ts, level, logger, msg, pid and the request id."""
    token = request_id_var.set("req-42")
    try:
        line = JsonFormatter().format(record("방송 %s", status=200, duration_ms=1.5))
    finally:
        request_id_var.reset(token)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "warning" and entry["logger"] == "livechat.hub"
    assert entry["request_id"] == "req-42" and entry["pid"] == os.getpid()
    assert entry["status"] == 200 and entry["duration_ms"] == 1.5
    assert entry["ts"].endswith("+00:00")


def test_formatter_keeps_tracebacks_inside_the_json() -> None:
    """An exception's traceback is a field, not extra lines that break the stream."""
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        rec = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    entry = json.loads(JsonFormatter().format(rec))
    assert "RuntimeError: boom" in entry["exc"] and "request_id" not in entry


@settings(max_examples=150)
@given(st.one_of(st.none(), st.text(max_size=200)))
def test_request_ids_are_always_sane(raw: str | None) -> None:
    """Whatever a client sends, the id we log and echo is a short token without spaces."""
    rid = request_id_from(raw)
    assert 1 <= len(rid) <= 128 and rid.isascii() and rid.isprintable() and " " not in rid
    if raw is not None and rid != raw:
        assert len(rid) == 32  # replaced by a fresh one


def test_request_id_is_echoed_or_made(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    """A sane X-Request-ID comes back unchanged; a hostile one is replaced; the access log
    line carries method, path, status, duration and the id."""
    with caplog.at_level(logging.INFO, logger="web.access"):
        sane = client.get("/readyz", headers={"X-Request-ID": "edge-7f3a.1"})
        hostile = client.get("/readyz", headers={"X-Request-ID": 'a b"<script>'})
        plain = client.get("/readyz")
    assert sane.headers["x-request-id"] == "edge-7f3a.1"
    assert hostile.headers["x-request-id"] != 'a b"<script>'
    assert len(plain.headers["x-request-id"]) == 32
    lines = [
        json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "web.access"
    ]
    first = next(e for e in lines if e.get("request_id") == "edge-7f3a.1")
    assert first["method"] == "GET" and first["path"] == "/readyz"
    assert first["status"] == 200 and first["duration_ms"] >= 0


def test_log_config_is_accepted_by_dictconfig() -> None:
    """The config `serve` hands to uvicorn is a valid logging dictConfig."""
    import logging.config

    before = logging.getLogger().handlers[:]
    try:
        logging.config.dictConfig(log_config("debug"))
        assert isinstance(logging.getLogger().handlers[0].formatter, JsonFormatter)
    finally:
        root = logging.getLogger()
        for handler in root.handlers[:]:
            root.removeHandler(handler)
        for handler in before:
            root.addHandler(handler)
        root.setLevel(logging.WARNING)


def test_serve_writes_json_lines_with_request_ids(tmp_path: Path) -> None:
    """`live-seoul serve` logs only JSON lines on stderr; an HTTP request's and a
    WebSocket's access lines carry their request ids; the handshake returns the id."""
    db = tmp_path / "log.db"
    seed_broadcast(db, 1)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "SECRET_KEY": "t",
        "PUBLIC_BASE_URL": base,
        "LOG_LEVEL": "info",
    }
    env.pop("REDIS_URL", None)
    stderr = tmp_path / "stderr.log"
    with stderr.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "web.cli", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:

        def up() -> bool:
            try:
                return httpx.get(base + "/healthz", timeout=0.5).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, timeout=TIMEOUT * 3, what="serve")
        r = httpx.get(base + "/readyz", headers={"X-Request-ID": "trace-abc123"}, timeout=TIMEOUT)
        assert r.headers["x-request-id"] == "trace-abc123"

        async def socket() -> str:
            async with connect(
                f"ws://127.0.0.1:{port}/ws/broadcasts/1",
                additional_headers={"X-Request-ID": "ws-trace-9"},
            ) as ws:
                await ws.recv()
                assert ws.response is not None
                return str(ws.response.headers["X-Request-ID"])

        assert asyncio.run(socket()) == "ws-trace-9"
        wait_for(
            lambda: '"WS /ws/broadcasts/1 101' in stderr.read_text(),
            what="the WebSocket access line",
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(TIMEOUT * 2)
    lines = [line for line in stderr.read_text().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is JSON
    assert all({"ts", "level", "logger", "msg", "pid"} <= set(e) for e in entries)
    assert any(e["logger"].startswith("uvicorn") for e in entries)
    access = [e for e in entries if e["logger"] == "web.access"]
    http = next(e for e in access if e.get("request_id") == "trace-abc123")
    assert (http["method"], http["path"], http["status"]) == ("GET", "/readyz", 200)
    ws = next(e for e in access if e.get("request_id") == "ws-trace-9")
    assert (ws["method"], ws["path"], ws["status"]) == ("WS", "/ws/broadcasts/1", 101)
