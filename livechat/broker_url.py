"""Choose the broker by URL: `memory://` (or nothing) for one process, `redis://` (or
`redis+sentinel://`, `redis+cluster://`) for several. Redis is imported only when a Redis
URL asks for it (broadcaster's model), so a one-process install never loads the client."""

from __future__ import annotations

from livechat.broker import Broker, MemoryBroker


def broker_from_url(url: str) -> Broker:
    if url in ("", "memory://"):
        return MemoryBroker()
    if url.startswith(
        ("redis://", "rediss://", "unix://", "redis+sentinel://", "redis+cluster://")
    ):
        # Lazy on purpose (the one import inside a function): see the module docstring.
        from livechat.redis_broker import RedisBroker

        return RedisBroker(url)
    raise ValueError(f"unsupported broker URL: {url!r}")
