"""The 24-hour channel: broadcasts, the linear channel builder, now playing, exports."""

from schedule.store import ScheduleStore

__all__ = ["ScheduleStore"]
