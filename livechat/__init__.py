"""The comment hub: protocol, persistence before fan-out, pub/sub across processes."""

from livechat.access import AccessStore, CommentAccess, access_from_json
from livechat.broker import RESYNC, Broker, BrokerUnavailable, MemoryBroker, broker_from_url
from livechat.comment import Comment
from livechat.hub import (
    CLOSE,
    CLOSE_TOO_SLOW,
    ChatWindow,
    CommentHub,
    Frame,
    HubLimits,
    PostDecision,
    PostResult,
    Room,
    Viewer,
)
from livechat.identity import STAFF, Identity
from livechat.moderation import (
    REASONS,
    Blocklist,
    Masked,
    find_personal_data,
    fold,
    mask_personal_data,
    parse_reason,
)
from livechat.moderation.moderation_store import ModerationStore
from livechat.moderation.moderator import (
    MODERATOR_ROLES,
    ModerationConfig,
    ModerationError,
    Moderator,
)
from livechat.ops_store import OpsStore
from livechat.questions import Question, Tally
from livechat.questions.question_service import QuestionService
from livechat.questions.question_store import QuestionStore
from livechat.store import CommentStore
from livechat.text import CommentRejected, clean_text, grapheme_count, validate_comment

__all__ = [
    "CLOSE",
    "CLOSE_TOO_SLOW",
    "MODERATOR_ROLES",
    "REASONS",
    "RESYNC",
    "STAFF",
    "AccessStore",
    "Blocklist",
    "Broker",
    "BrokerUnavailable",
    "ChatWindow",
    "Comment",
    "CommentAccess",
    "CommentHub",
    "CommentRejected",
    "CommentStore",
    "Frame",
    "HubLimits",
    "Identity",
    "Masked",
    "MemoryBroker",
    "ModerationConfig",
    "ModerationError",
    "ModerationStore",
    "Moderator",
    "OpsStore",
    "PostDecision",
    "PostResult",
    "Question",
    "QuestionService",
    "QuestionStore",
    "Room",
    "Tally",
    "Viewer",
    "access_from_json",
    "broker_from_url",
    "clean_text",
    "find_personal_data",
    "fold",
    "grapheme_count",
    "mask_personal_data",
    "parse_reason",
    "validate_comment",
]
