"""Demo data (filled in by the schedule work)."""

from __future__ import annotations

from livechat import CommentStore
from replay import ReplayStore
from schedule import ScheduleStore


async def load_demo(schedule: ScheduleStore, replays: ReplayStore, comments: CommentStore) -> None:
    return None
