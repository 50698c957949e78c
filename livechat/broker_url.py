"""Choose the broker by URL: `memory://` (or nothing) for one process, `redis://` (or
`redis+sentinel://`, `redis+cluster://`, and their TLS forms `rediss+…`; see
`livechat.redis_topology`) for several. Redis is imported only when a Redis
URL asks for it (broadcaster's model), so a one-process install never loads the client."""

from __future__ import annotations

from livechat.broker import Broker, MemoryBroker
from livechat.redis_topology import SCHEMES


def broker_from_url(url: str) -> Broker:
    if url in ("", "memory://"):
        return MemoryBroker()
    if url.startswith(SCHEMES):
        # Lazy on purpose (the one import inside a function): see the module docstring.
        from livechat.redis_broker import RedisBroker

        return RedisBroker(url)
    raise ValueError(f"unsupported broker URL: use memory:// or one of {', '.join(SCHEMES)}")
