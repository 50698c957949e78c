"""When a broadcast takes live comments: the schedule's answer, given to the comment hub.

The hub asks on every post and every join; the answer is kept for `TTL_SECONDS` per
broadcast so that a busy chat costs one schedule read a second, and forgotten at once when
this process changes the broadcast's status (`web.schedule.routes.publish_status`). Other
processes learn of the change within `TTL_SECONDS`.
"""

from __future__ import annotations

import time

from schedule import ScheduleStore

TTL_SECONDS = 1.0


class LiveWindow:
    """`livechat.ChatWindow` over the schedule: open while the broadcast's status is live."""

    def __init__(self, schedule: ScheduleStore, ttl: float = TTL_SECONDS) -> None:
        self._schedule = schedule
        self._ttl = ttl
        self._known: dict[int, tuple[float, str | None]] = {}

    async def closed_reason(self, broadcast_id: int) -> str | None:
        now = time.monotonic()
        known = self._known.get(broadcast_id)
        if known is not None and now - known[0] < self._ttl:
            return known[1]
        broadcast = await self._schedule.get(broadcast_id)
        reason = (
            "missing" if broadcast is None else None if broadcast.chat_open else broadcast.status
        )
        if len(self._known) > 10_000:  # ids come from the URL: keep the map bounded
            self._known.clear()
        self._known[broadcast_id] = (now, reason)
        return reason

    def forget(self, broadcast_id: int) -> None:
        self._known.pop(broadcast_id, None)
