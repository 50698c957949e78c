"""Fixtures shared by the hub's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import RedisServer


@pytest.fixture(params=["memory", "redis"])
def broker_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every hub test runs over both broker implementations."""
    if request.param == "memory":
        yield ""
        return
    server = RedisServer()
    server.start()
    try:
        yield server.url
    finally:
        server.stop()
