"""The 24-hour channel: broadcasts, the linear channel builder, now playing, exports."""

from schedule.broadcast import (
    CATEGORIES,
    MAX_DURATION,
    STATUSES,
    Broadcast,
    BroadcastDraft,
    BroadcastError,
    FieldError,
    OverlapError,
    TransitionError,
    find_overlap,
    parse_draft,
    parse_time,
)
from schedule.channel import (
    CARD_TITLE,
    SEOUL,
    ChannelSlot,
    ReplayCandidate,
    build_channel,
    day_bounds,
    rank,
    replan,
)
from schedule.exports import broadcast_json, icalendar, schedule_json, slot_json, xmltv
from schedule.now import NowPlaying, now_playing
from schedule.store import BatchError, ScheduleStore

__all__ = [
    "CARD_TITLE",
    "CATEGORIES",
    "MAX_DURATION",
    "SEOUL",
    "STATUSES",
    "BatchError",
    "Broadcast",
    "BroadcastDraft",
    "BroadcastError",
    "ChannelSlot",
    "FieldError",
    "NowPlaying",
    "OverlapError",
    "ReplayCandidate",
    "ScheduleStore",
    "TransitionError",
    "broadcast_json",
    "build_channel",
    "day_bounds",
    "find_overlap",
    "icalendar",
    "now_playing",
    "parse_draft",
    "parse_time",
    "rank",
    "replan",
    "schedule_json",
    "slot_json",
    "xmltv",
]
