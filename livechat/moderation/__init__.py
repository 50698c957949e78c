"""Moderation: pure rules (`moderation`, `reporting`), their store (`moderation_store`)
and the service that plugs into the hub (`moderator`). Imports the hub; the hub never
imports it."""

from livechat.moderation.moderation import (
    PERSONAL_DATA_KINDS,
    REASONS,
    Blocklist,
    Masked,
    Reason,
    ReasonError,
    blocked_word_key,
    find_personal_data,
    fold,
    mask_personal_data,
    parse_reason,
)
from livechat.moderation.moderation_store import ModerationStore
from livechat.moderation.moderator import (
    ModerationConfig,
    ModerationError,
    Moderator,
)

__all__ = [
    "PERSONAL_DATA_KINDS",
    "REASONS",
    "Blocklist",
    "Masked",
    "ModerationConfig",
    "ModerationError",
    "ModerationStore",
    "Moderator",
    "Reason",
    "ReasonError",
    "blocked_word_key",
    "find_personal_data",
    "fold",
    "mask_personal_data",
    "parse_reason",
]
