"""The comment hub: protocol, persistence before fan-out, pub/sub across processes."""

from livechat.broker import RESYNC, Broker, BrokerUnavailable, MemoryBroker, broker_from_url
from livechat.comment import Comment
from livechat.hub import (
    CLOSE,
    CLOSE_TOO_SLOW,
    CommentHub,
    Frame,
    HubLimits,
    PostDecision,
    PostResult,
    Room,
    Viewer,
)
from livechat.identity import STAFF, Identity
from livechat.question_service import QuestionService
from livechat.question_store import QuestionStore
from livechat.questions import Question, Tally
from livechat.ops_store import OpsStore
from livechat.store import CommentStore
from livechat.text import CommentRejected, clean_text, grapheme_count, validate_comment

__all__ = [
    "CLOSE",
    "CLOSE_TOO_SLOW",
    "RESYNC",
    "STAFF",
    "Broker",
    "BrokerUnavailable",
    "Comment",
    "CommentHub",
    "CommentRejected",
    "CommentStore",
    "Frame",
    "HubLimits",
    "Identity",
    "MemoryBroker",
    "OpsStore",
    "PostDecision",
    "PostResult",
    "Question",
    "QuestionService",
    "QuestionStore",
    "Room",
    "Tally",
    "Viewer",
    "broker_from_url",
    "clean_text",
    "grapheme_count",
    "validate_comment",
]
