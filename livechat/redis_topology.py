"""Which Redis a URL names: one server, a Sentinel-watched master, or a Cluster.

* `redis://…`, `rediss://…`, `unix://…` — one server (redis-py's `from_url`).
* `redis+sentinel://[[user]:password@]host:port[,host:port…]/service[/db]` — ask the
  Sentinels for the master of `service`, and again after a failover (redis-py's
  `Sentinel.master_for`). The password is the master's; Sentinels are asked without one.
* `redis+cluster://[[user]:password@]host:port[,host:port…]` — a Redis Cluster from any of
  these startup nodes (redis-py's `RedisCluster`); the broker then uses sharded pub/sub
  (`SSUBSCRIBE`/`SPUBLISH`, Redis 7 or later) and every rate-limit bucket shares one hash
  tag, so the Lua script never crosses slots.

`parse` is pure; `client` builds the redis-py client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit

SCHEMES = ("redis://", "rediss://", "unix://", "redis+sentinel://", "redis+cluster://")
CONNECT_TIMEOUT = 1.0


class RedisUrlError(ValueError):
    """A Redis URL this service cannot use."""


@dataclass(frozen=True)
class RedisTopology:
    kind: Literal["single", "sentinel", "cluster"]
    url: str
    nodes: tuple[tuple[str, int], ...] = ()
    service: str = ""
    db: int = 0
    username: str | None = None
    password: str | None = None

    @property
    def sharded(self) -> bool:
        """Pub/sub is sharded (SSUBSCRIBE/SPUBLISH): a Cluster."""
        return self.kind == "cluster"


def parse(url: str) -> RedisTopology:
    """The topology `url` names; `RedisUrlError` when it names none."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisTopology("single", url)
    if not url.startswith(("redis+sentinel://", "redis+cluster://")):
        raise RedisUrlError(f"unsupported Redis URL {url!r}: use one of {', '.join(SCHEMES)}")
    kind: Literal["sentinel", "cluster"] = (
        "sentinel" if url.startswith("redis+sentinel://") else "cluster"
    )
    parts = urlsplit(url)
    userinfo, _, hosts = parts.netloc.rpartition("@")
    username = password = None
    if userinfo:
        user, colon, secret = userinfo.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if colon else None
    nodes = tuple(_node(item, url) for item in hosts.split(",") if item)
    if not nodes:
        raise RedisUrlError(f"{url!r} names no host:port")
    path = [p for p in parts.path.split("/") if p]
    service, db = "", 0
    if kind == "sentinel":
        if not path:
            raise RedisUrlError(
                f"{url!r}: the Sentinel service name is missing "
                "(redis+sentinel://host:port/service)"
            )
        service = unquote(path[0])
        if len(path) > 1:
            if not path[1].isdigit():
                raise RedisUrlError(f"{url!r}: the database must be a number")
            db = int(path[1])
    elif path:
        raise RedisUrlError(f"{url!r}: a Cluster has one database; give no path")
    return RedisTopology(kind, url, nodes, service, db, username, password)


def _node(item: str, url: str) -> tuple[str, int]:
    host, colon, port = item.rpartition(":")
    if not colon or not host or not port.isdigit():
        raise RedisUrlError(f"{url!r}: {item!r} is not host:port")
    return host.strip("[]"), int(port)
