"""Which Redis a URL names: one server, a Sentinel-watched master, or a Cluster.

* `redis://…`, `rediss://…`, `unix://…` — one server (redis-py's `from_url`).
* `redis+sentinel://[[user]:password@]host:port[,host:port…]/service[/db]` — ask the
  Sentinels for the master of `service`, and again after a failover (redis-py's
  `Sentinel.master_for`). The user and password are the master's (and its replicas');
  Sentinels are asked without one unless the query names theirs:
  `?sentinel_password=…` (and `&sentinel_username=…`, for a Sentinel with ACL users).
* `redis+cluster://[[user]:password@]host:port[,host:port…]` — a Redis Cluster from any of
  these startup nodes (redis-py's `RedisCluster`); the broker then uses sharded pub/sub
  (`SSUBSCRIBE`/`SPUBLISH`, Redis 7 or later) and every rate-limit bucket shares one hash
  tag, so the Lua script never crosses slots.
* `rediss+sentinel://…`, `rediss+cluster://…` — the same over TLS (to the Sentinels and the
  master alike, or to every Cluster node). `?ssl_ca_certs=/path/ca.pem` trusts a private CA;
  `?ssl_cert_reqs=required|optional|none` (default `required`) sets how the server's
  certificate is checked. A one-server URL (`rediss://`) takes redis-py's own query.

User names, passwords and the CA path are percent-decoded (`%40` for `@`). `parse` is pure;
`redis_broker.redis_client` builds the redis-py client from `RedisTopology.client_options`
and `RedisTopology.sentinel_options`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

SCHEMES = (
    "redis://",
    "rediss://",
    "unix://",
    "redis+sentinel://",
    "rediss+sentinel://",
    "redis+cluster://",
    "rediss+cluster://",
)
CONNECT_TIMEOUT = 1.0
CERT_REQS = ("required", "optional", "none")
TLS_QUERY = ("ssl_ca_certs", "ssl_cert_reqs")
SENTINEL_QUERY = ("sentinel_username", "sentinel_password")


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
    tls: bool = False
    ssl_ca_certs: str | None = None
    ssl_cert_reqs: str = "required"
    sentinel_username: str | None = None
    sentinel_password: str | None = None

    @property
    def sharded(self) -> bool:
        """Pub/sub is sharded (SSUBSCRIBE/SPUBLISH): a Cluster."""
        return self.kind == "cluster"

    def tls_options(self) -> dict[str, Any]:
        """redis-py's TLS keywords for every connection (none without TLS)."""
        if not self.tls:
            return {}
        options: dict[str, Any] = {"ssl": True, "ssl_cert_reqs": self.ssl_cert_reqs}
        if self.ssl_ca_certs:
            options["ssl_ca_certs"] = self.ssl_ca_certs
        return options

    def client_options(self) -> dict[str, Any]:
        """redis-py keywords for the master (Sentinel) or every node (Cluster): its
        credentials and TLS."""
        return {"username": self.username, "password": self.password, **self.tls_options()}

    def sentinel_options(self) -> dict[str, Any]:
        """redis-py keywords for the connections to the Sentinels themselves: their own
        credentials (none unless the URL's query names them), the same TLS, and a short
        connect timeout."""
        return {
            "username": self.sentinel_username,
            "password": self.sentinel_password,
            "socket_connect_timeout": CONNECT_TIMEOUT,
            **self.tls_options(),
        }


def parse(url: str) -> RedisTopology:
    """The topology `url` names; `RedisUrlError` when it names none."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisTopology("single", url)
    scheme = url.partition("://")[0]
    if scheme not in ("redis+sentinel", "rediss+sentinel", "redis+cluster", "rediss+cluster"):
        raise RedisUrlError(f"unsupported Redis URL: use one of {', '.join(SCHEMES)}")
    kind: Literal["sentinel", "cluster"] = "sentinel" if scheme.endswith("+sentinel") else "cluster"
    tls = scheme.startswith("rediss+")
    parts = urlsplit(url)
    userinfo, _, hosts = parts.netloc.rpartition("@")
    username = password = None
    if userinfo:
        user, colon, secret = userinfo.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if colon else None
    shown = redact(url)
    nodes = tuple(_node(item, shown) for item in hosts.split(",") if item)
    if not nodes:
        raise RedisUrlError(f"{shown!r} names no host:port")
    path = [p for p in parts.path.split("/") if p]
    service, db = "", 0
    if kind == "sentinel":
        if not path:
            raise RedisUrlError(
                f"{shown!r}: the Sentinel service name is missing "
                "(redis+sentinel://host:port/service)"
            )
        service = unquote(path[0])
        if len(path) > 1:
            if not path[1].isdigit():
                raise RedisUrlError(f"{shown!r}: the database must be a number")
            db = int(path[1])
    elif path:
        raise RedisUrlError(f"{shown!r}: a Cluster has one database; give no path")
    query = _query(parts.query, kind, tls, shown)
    return RedisTopology(
        kind,
        url,
        nodes,
        service,
        db,
        username,
        password,
        tls=tls,
        ssl_ca_certs=query.get("ssl_ca_certs"),
        ssl_cert_reqs=query.get("ssl_cert_reqs", "required"),
        sentinel_username=query.get("sentinel_username"),
        sentinel_password=query.get("sentinel_password"),
    )


def _query(text: str, kind: str, tls: bool, shown: str) -> dict[str, str]:
    """The query's options, each known to this kind of URL and given once."""
    allowed = (*TLS_QUERY, *SENTINEL_QUERY) if kind == "sentinel" else TLS_QUERY
    options: dict[str, str] = {}
    for key, value in _pairs(text):
        if key not in allowed:
            raise RedisUrlError(
                f"{shown!r}: unknown option {key!r} (a {kind} URL takes {', '.join(allowed)})"
            )
        if key in options:
            raise RedisUrlError(f"{shown!r}: {key} is given twice")
        options[key] = value
    if not tls and any(key in options for key in TLS_QUERY):
        raise RedisUrlError(f"{shown!r}: TLS options need the rediss+{kind}:// scheme")
    if options.get("ssl_cert_reqs", "required") not in CERT_REQS:
        raise RedisUrlError(f"{shown!r}: ssl_cert_reqs must be one of {', '.join(CERT_REQS)}")
    return options


def _pairs(text: str) -> list[tuple[str, str]]:
    """`a=1&b=2` as pairs, percent-decoded (a `+` stays a `+`: passwords may hold one)."""
    pairs = []
    for item in text.split("&") if text else ():
        key, _, value = item.partition("=")
        pairs.append((unquote(key), unquote(value)))
    return pairs


def redact(url: str) -> str:
    """`url` with its passwords replaced by `***` (for error messages and logs)."""
    parts = urlsplit(url)
    userinfo, at, hosts = parts.netloc.rpartition("@")
    if at and ":" in userinfo:
        userinfo = userinfo.partition(":")[0] + ":***"
    netloc = f"{userinfo}@{hosts}" if at else hosts
    query = "&".join(
        f"{key}=***" if key.endswith("password") else f"{key}={value}"
        for key, value in _pairs(parts.query)
    )
    return parts._replace(netloc=netloc, query=query).geturl()


def _node(item: str, url: str) -> tuple[str, int]:
    host, colon, port = item.rpartition(":")
    if not colon or not host or not port.isdigit():
        raise RedisUrlError(f"{url!r}: {item!r} is not host:port")
    return host.strip("[]"), int(port)
