"""Share-click counters (table `share_clicks`, web migration 2).

One row per (page kind, page key, network) with a running count: no visitor, address or
cookie is stored, and no third party is told anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from db import Database


@dataclass(frozen=True)
class ShareCount:
    kind: str
    target: str
    network: str
    clicks: int
    last_at: str

    def as_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "target": self.target,
            "network": self.network,
            "clicks": self.clicks,
            "last_at": self.last_at,
        }


class ShareClickStore:
    """Counts share clicks. Each `record` is one atomic UPSERT."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, kind: str, target: str, network: str) -> None:
        now = self._db.now_sql  # the database's clock, the same for every host
        await self._db.execute(
            "INSERT INTO share_clicks (kind, target, network, clicks, first_at, last_at)"
            f" VALUES (?, ?, ?, 1, {now}, {now})"
            " ON CONFLICT (kind, target, network)"
            " DO UPDATE SET clicks = share_clicks.clicks + 1, last_at = excluded.last_at",
            (kind, target, network),
        )

    async def counts(self, limit: int = 500) -> list[ShareCount]:
        """Rows with the most clicks first (ties: most recent first)."""
        rows = await self._db.fetch(
            "SELECT kind, target, network, clicks, last_at FROM share_clicks"
            " ORDER BY clicks DESC, last_at DESC, kind, target, network LIMIT ?",
            (limit,),
        )
        return [ShareCount(str(r[0]), str(r[1]), str(r[2]), int(r[3]), str(r[4])) for r in rows]

    async def totals(self) -> dict[str, int]:
        """Clicks per network over every page."""
        rows = await self._db.fetch(
            "SELECT network, SUM(clicks) FROM share_clicks GROUP BY network"
            " ORDER BY SUM(clicks) DESC, network"
        )
        return {str(r[0]): int(r[1]) for r in rows}


def share_clicks(conn: HTTPConnection) -> ShareClickStore:
    """This process's `ShareClickStore` (kept by the lifespan in the app's state)."""
    found: ShareClickStore = conn.state.share_clicks
    return found
