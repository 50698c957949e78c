"""What the live page, its share bar and the staff pages show of a broadcast, and of a
comment on it (its time as a datetime for the templates)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from livechat.comment import CommentWire
from web.services import Services


@dataclass(frozen=True)
class LiveBroadcast:
    """What the live page (and its share bar) shows of a broadcast."""

    id: int
    title: str
    description: str = ""
    status: str = "live"
    stream_url: str = ""
    poster_url: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None


def as_datetime(value: Any) -> datetime | None:
    """A datetime (UTC when naive) or ISO-8601 text as an aware datetime; None if neither."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


async def find_broadcast(svc: Services, broadcast_id: int) -> LiveBroadcast | None:
    """What the live page shows of broadcast `broadcast_id`, or None if there is none."""
    record = await svc.schedule.get(broadcast_id)
    if record is None:
        return None
    return LiveBroadcast(
        id=record.id,
        title=record.title,
        description=record.description,
        status=record.status,
        stream_url=record.stream_url,
        poster_url=record.thumbnail_url,
        starts_at=record.starts_at,
        ends_at=record.ends_at,
    )


def comment_view(item: CommentWire) -> dict[str, Any]:
    """A wire comment plus what the template needs (its time as a datetime)."""
    return {
        **item,
        "created": as_datetime(item.get("created_at")),
        "flags": item.get("flags", []),
        "mark": item.get("mark", ""),
    }
