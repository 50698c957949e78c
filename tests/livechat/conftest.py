"""Fixtures shared by the hub's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import RedisCluster, RedisSentinel, RedisServer


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisCluster]:
    """A real three-node Redis Cluster for the session (emptied before each test)."""
    cluster = RedisCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def redis_sentinel() -> Iterator[RedisSentinel]:
    """A real master, replica and Sentinel for the session (emptied before each test)."""
    sentinel = RedisSentinel()
    try:
        sentinel.start()
        yield sentinel
    finally:
        sentinel.stop()


@pytest.fixture(params=["memory", "redis", "sentinel", "cluster"])
def broker_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every hub test runs over every broker: memory, one Redis, a Sentinel-watched
    master and a Redis Cluster (sharded pub/sub)."""
    if request.param == "memory":
        yield ""
        return
    if request.param in ("sentinel", "cluster"):
        shared: RedisCluster | RedisSentinel = request.getfixturevalue("redis_" + request.param)
        shared.flush()
        yield shared.url
        return
    server = RedisServer()
    server.start()
    try:
        yield server.url
    finally:
        server.stop()
