"""The comment hub: protocol, persistence before fan-out, pub/sub across processes."""

from livechat.access import AccessStore, CommentAccess, access_from_json
from livechat.broker import RESYNC, Broker, BrokerUnavailable, MemoryBroker
from livechat.broker_url import broker_from_url
from livechat.chat_state import ChatState
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
from livechat.identity import MODERATORS, STAFF, STAFF_ROLES, Identity, Role
from livechat.moderation import (
    REASONS,
    Blocklist,
    Masked,
    ModerationConfig,
    ModerationError,
    ModerationStore,
    Moderator,
    find_personal_data,
    fold,
    mask_personal_data,
    parse_reason,
)
from livechat.ops_store import OpsStore
from livechat.questions import Question, QuestionService, QuestionStore, Tally
from livechat.store import CommentStore, NewComment
from livechat.text import CommentRejected, clean_text, grapheme_count, validate_comment

__all__ = [
    "CLOSE",
    "CLOSE_TOO_SLOW",
    "MODERATORS",
    "REASONS",
    "RESYNC",
    "STAFF",
    "STAFF_ROLES",
    "AccessStore",
    "AuthorNotices",
    "Blocklist",
    "Broker",
    "BrokerUnavailable",
    "ChatState",
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
    "NewComment",
    "OpsStore",
    "PostDecision",
    "PostResult",
    "Question",
    "QuestionService",
    "QuestionStore",
    "Role",
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
