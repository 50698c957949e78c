from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests import postgres
from tests.support import ROOT, AppServer, RedisServer
from web.app import create_app
from web.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'test.db'}",
        secret_key="test-secret",
        public_base_url="http://testserver",
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture
def demo_client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(dataclasses.replace(settings, demo=True))) as c:
        yield c


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
ARTIFACTS = ROOT / "artifacts"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium driven by Playwright (it cannot download its own browsers).

    Module-scoped: sync Playwright keeps an event loop running in the main thread while it
    is open, and asyncio tests in a later module could not start theirs."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"), args=CHROMIUM_ARGS
        )
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[AppServer]:
    """A real uvicorn process serving the demo channel on a free port (memory broker)."""
    server = AppServer(tmp_path / "demo.db", env={"LIVE_SEOUL_DEMO": "1"})
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def artifacts() -> Path:
    """Where tests keep screenshots for people to look at (not asserted on)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh empty database on each engine: an SQLite file, or a PostgreSQL schema of its
    own in this run's database (tests/postgres.py)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    with postgres.schema() as (url, _name):
        yield url


@pytest.fixture
def postgres_schema() -> Iterator[tuple[str, str]]:
    """(URL, name) of an empty PostgreSQL schema of this test's own (tests that compare the
    engines, or look at PostgreSQL's catalog)."""
    with postgres.schema() as found:
        yield found


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of an empty PostgreSQL schema of this test's own."""
    with postgres.schema() as (url, _name):
        yield url
