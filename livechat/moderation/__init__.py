"""Moderation: pure rules (`moderation`, `reporting`), their store (`moderation_store`)
and the service that plugs into the hub (`moderator`). Imports the hub; the hub never
imports it."""

from livechat.moderation.moderation import (
    PERSONAL_DATA_KINDS,
    REASONS,
    Blocklist,
    Masked,
    ReasonError,
    blocked_word_key,
    find_personal_data,
    fold,
    mask_personal_data,
    masking_notice,
    parse_reason,
)
from livechat.moderation.moderation_store import ModerationStore
from livechat.moderation.moderator import (
    MODERATOR_ROLES,
    ModerationConfig,
    ModerationError,
    Moderator,
)

__all__ = [
    "MODERATOR_ROLES",
    "PERSONAL_DATA_KINDS",
    "REASONS",
    "Blocklist",
    "Masked",
    "ModerationConfig",
    "ModerationError",
    "ModerationStore",
    "Moderator",
    "ReasonError",
    "blocked_word_key",
    "find_personal_data",
    "fold",
    "mask_personal_data",
    "masking_notice",
    "parse_reason",
]
