"""`live-seoul serve` refuses configurations that would run, but silently wrong, on several
processes or hosts (real CLI processes; the message names what to set)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT, TIMEOUT, AppServer, RedisServer, free_port, running


def serve(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run `live-seoul serve` as a real process; it must exit on its own."""
    full = {**os.environ, "LOG_LEVEL": "warning", **env}
    for name in ("REDIS_URL", "WEB_CONCURRENCY", "SECRET_KEY", "HOST_ID"):
        if name not in env:
            full.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "web.cli", "serve", "--port", str(free_port()), *args],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=TIMEOUT * 3,
        check=False,
    )


@pytest.fixture
def db(tmp_path: Path) -> dict[str, str]:
    return {"DATABASE_URL": f"sqlite:///{tmp_path / 'live.db'}"}


def test_several_workers_without_redis_are_refused(db: dict[str, str]) -> None:
    """`serve --workers 2` without REDIS_URL exits 1 and says Redis is needed."""
    result = serve(db, "--workers", "2")
    assert result.returncode == 1
    assert "WEB_CONCURRENCY=2 (serve --workers) needs REDIS_URL" in result.stderr


def test_web_concurrency_without_redis_is_refused(db: dict[str, str]) -> None:
    """WEB_CONCURRENCY=3 in the environment is refused the same way."""
    result = serve({**db, "WEB_CONCURRENCY": "3"})
    assert result.returncode == 1
    assert "WEB_CONCURRENCY=3 (serve --workers) needs REDIS_URL" in result.stderr


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_postgres_needs_redis_and_a_secret_key(scheme: str) -> None:
    """A PostgreSQL DATABASE_URL without REDIS_URL, or without SECRET_KEY, is refused."""
    url = {"DATABASE_URL": f"{scheme}://postgres@127.0.0.1/live_seoul"}
    result = serve(url)
    assert result.returncode == 1
    assert "DATABASE_URL is PostgreSQL" in result.stderr and "set REDIS_URL" in result.stderr
    result = serve({**url, "REDIS_URL": "redis://127.0.0.1:1/0"})
    assert result.returncode == 1
    assert "DATABASE_URL is PostgreSQL: set SECRET_KEY" in result.stderr


def test_a_second_host_on_one_sqlite_redis_pair_is_refused(tmp_path: Path) -> None:
    """Host b does not start while host a serves the same SQLite database through the
    same Redis; another process of host a does."""
    redis = RedisServer()
    db_path = tmp_path / "live.db"
    env = {"REDIS_URL": redis.url, "HOST_ID": "host-a", "SECRET_KEY": "k"}
    with running(redis, AppServer(db_path, env)):
        result = serve(
            {
                "DATABASE_URL": f"sqlite:///{db_path}",
                "SECRET_KEY": "k",
                "REDIS_URL": redis.url,
                "HOST_ID": "host-b",
            }
        )
        assert result.returncode != 0
        output = result.stdout + result.stderr
        assert "host 'host-b' refused to start: host 'host-a' already serves" in output
        with running(AppServer(db_path, env)):
            pass  # a second process of host a starts (AppServer waits for /healthz)
