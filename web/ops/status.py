"""The operator status page `/operator/status` and its JSON twin `/api/operator/status`.

For city staff (official, moderator, admin): which broadcasts are live or active, how many
watch each, the comment rate, the moderation queue, and the health of Redis and the
database. Without a staff session the page answers 403 with a login form (`login.js`
posts to `/api/login` and reloads).

Counts come from where they are true for the whole service, not one worker: comment rates
and the moderation queue from the database, viewers from the room's presence (every
process reports its count) or, for a broadcast this worker has no room for, from the
snapshots every worker of every host announces through the broker (`web.ops.metrics`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from livechat import OpsStore
from web.accounts.staff_pages import staff_gate
from web.http.requests import require_access
from web.identity.roles import Access
from web.ops.metrics import broker_kind, recorder
from web.pages.broadcasts import find_broadcast
from web.rendering.i18n import SEOUL
from web.services import Services, services

ACTIVE_WINDOW = timedelta(minutes=10)  # a broadcast with comments this recent is listed


def ops(request: Request) -> OpsStore:
    found: OpsStore = request.state.ops
    return found


async def _schedule_live_ids(svc: Services) -> set[int]:
    """Broadcasts the schedule says are on air now."""
    return {b.id for b in await svc.schedule.with_status("live")}


def _viewers_elsewhere(workers: list[dict[str, Any]]) -> dict[int, int]:
    """Viewers per broadcast summed over the other workers' fresh snapshots."""
    totals: dict[int, int] = {}
    for snap in workers[1:]:
        for key, count in (snap.get("viewers") or {}).items():
            totals[int(key)] = totals.get(int(key), 0) + int(count)
    return totals


async def gather(request: Request) -> dict[str, Any]:
    """Everything the status page shows, as JSON-able data."""
    svc = services(request)
    store = ops(request)
    now = await store.db.now()  # the clock the comments were stamped with
    minute = await store.counts_since((now - timedelta(minutes=1)).isoformat())
    recent = await store.counts_since((now - ACTIVE_WINDOW).isoformat())
    held = await store.held_counts()
    live_ids = await _schedule_live_ids(svc)
    rec = recorder(request)
    workers = await rec.workers()
    elsewhere = _viewers_elsewhere(workers)
    hub = svc.hub
    ids = sorted(live_ids | set(hub.rooms) | set(recent) | set(held) | set(elsewhere))
    rows: list[dict[str, Any]] = []
    for broadcast_id in ids:
        broadcast = await find_broadcast(svc, broadcast_id)
        room = hub.rooms.get(broadcast_id)
        viewers = room.viewer_count() if room is not None else elsewhere.get(broadcast_id, 0)
        rows.append(
            {
                "id": broadcast_id,
                "title": broadcast.title if broadcast else "",
                "status": (
                    "live"
                    if broadcast_id in live_ids
                    else broadcast.status
                    if broadcast
                    else "unknown"
                ),
                "viewers": viewers,
                "comments_last_minute": minute.get(broadcast_id, 0),
                "comments_per_minute_10m": round(recent.get(broadcast_id, 0) / 10, 1),
                "held": held.get(broadcast_id, 0),
            }
        )
    rows.sort(key=lambda r: (r["status"] != "live", -int(r["viewers"]), int(r["id"])))
    try:
        ping_ms: float | None = round(await rec.ping_database() * 1000, 2)
    except Exception:
        ping_ms = None
    return {
        "now": now.isoformat(timespec="seconds"),
        "broadcasts": rows,
        "totals": {
            "viewers": sum(r["viewers"] for r in rows),
            "comments_last_minute": sum(minute.values()),
            "held": sum(held.values()),
        },
        "broker": {"kind": broker_kind(svc), "healthy": svc.broker.healthy},
        "database": {"ok": ping_ms is not None, "ping_ms": ping_ms},
        "workers": [
            {
                "host": str(w.get("host", "")),
                "pid": w["pid"],
                "connections": w["connections"],
                "rooms": w["rooms"],
                "rss_mib": round(float(w.get("rss_bytes", 0)) / 2**20, 1),
                "broker_healthy": bool(w["broker_healthy"]),
            }
            for w in sorted(workers, key=lambda w: (str(w.get("host", "")), int(w["pid"])))
        ],
        "answered_by": rec.pid,
        "answered_host": rec.host,
    }


async def status_json(request: Request) -> Response:
    require_access(request, Access.STATUS)
    return JSONResponse(await gather(request), headers={"Cache-Control": "no-store"})


async def status_page(request: Request) -> Response:
    svc = services(request)
    session = staff_gate(request, Access.STATUS)
    if isinstance(session, Response):
        return session
    status = await gather(request)
    now_text = f"{datetime.fromisoformat(status['now']).astimezone(SEOUL):%Y-%m-%d %H:%M:%S}"
    context = {"status": status, "me": session, "now_text": now_text}
    return svc.templates.TemplateResponse(
        request, "ops/status.html", context, headers={"Cache-Control": "no-store"}
    )


routes = [
    Route("/operator/status", status_page, methods=["GET", "HEAD"]),
    Route("/api/operator/status", status_json, methods=["GET"]),
]
