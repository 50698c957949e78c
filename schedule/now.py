"""Now playing: what the channel shows at an instant, how far into it, and what is next."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from schedule.channel import ChannelSlot


@dataclass(frozen=True, slots=True)
class NowPlaying:
    """`slot` is None when `instant` lies outside `slots`. `offset_seconds` is where a
    viewer joining now starts playback (whole seconds into the item, not the slot)."""

    slot: ChannelSlot | None
    offset_seconds: int
    next_slot: ChannelSlot | None


def now_playing(slots: Sequence[ChannelSlot], instant: datetime) -> NowPlaying:
    """The slot of gapless, ordered `slots` covering `instant` (half-open) and the next.

    A viewer joining at 14:07 a replay whose slot began at 14:00 gets 420 seconds.
    """
    starts = [s.start for s in slots]
    index = bisect_right(starts, instant) - 1
    if index < 0 or instant >= slots[index].end:
        upcoming = slots[0] if slots and instant < slots[0].start else None
        return NowPlaying(None, 0, upcoming)
    slot = slots[index]
    offset = slot.offset_seconds + int((instant - slot.start).total_seconds())
    following = slots[index + 1] if index + 1 < len(slots) else None
    return NowPlaying(slot, offset, following)
