"""How much one viewer's report (신고) weighs toward hiding a comment.

Pure arithmetic. Reports hide a comment for review when their weight reaches the hide
threshold (`ModerationConfig.report_hide_threshold`), counting each network block once
(`ModerationStore.report`). A report weighs 1 from a viewer with a history here — a
session at least `SEASONED_SESSION` old who has a visible comment in this broadcast —
0.5 with only one of the two, and 0.25 from a fresh cookie that has said nothing: three
established viewers on three networks hide a comment; throw-away cookies need four times
as many networks, and from one network never more than one report's worth. Above a
threshold of 1, the reports must also come from at least two network blocks.
"""

from __future__ import annotations

SEASONED_SESSION = 3600.0  # seconds
FRESH_WEIGHT = 0.25


def report_weight(session_age: float | None, has_commented: bool, staff: bool = False) -> float:
    """The weight of one report; `session_age` in seconds, None when unknown."""
    if staff:
        return 1.0
    seasoned = session_age is not None and session_age >= SEASONED_SESSION
    return max(FRESH_WEIGHT, 0.5 * seasoned + 0.5 * has_commented)
