"""Questions: pure rules (`questions`), their store and migrations, and the service that
plugs into the hub (`question_service`). Imports the hub; the hub never imports it."""

from livechat.questions.question_service import QuestionService
from livechat.questions.question_store import QuestionStore
from livechat.questions.questions import (
    ANSWERERS,
    STATUSES,
    Answer,
    Question,
    Tally,
)

__all__ = [
    "ANSWERERS",
    "STATUSES",
    "Answer",
    "Question",
    "QuestionService",
    "QuestionStore",
    "Tally",
]
