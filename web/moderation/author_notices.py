"""What livechat's moderation tells a comment's author, in words, and where they appeal:
the web layer's wording, handed to `livechat.Moderator` as its `AuthorNotices`. The texts
are bilingual as sent (one text for every reader of the socket)."""

from __future__ import annotations

from livechat.moderation.moderator import AuthorNotices
from livechat.personal_data import PERSONAL_DATA_KINDS

HELD_NOTICE = "검토 후 모두에게 보입니다. (held for review)"
KIND_NAMES = {"phone": "전화번호", "rrn": "주민등록번호", "email": "이메일 주소"}
assert set(KIND_NAMES) == set(PERSONAL_DATA_KINDS)


def masking_notice(kinds: frozenset[str]) -> str:
    """What the author is told when part of a text was hidden."""
    names = ", ".join(KIND_NAMES[k] for k in PERSONAL_DATA_KINDS if k in kinds)
    codes = ", ".join(k for k in PERSONAL_DATA_KINDS if k in kinds)
    return f"개인정보 보호를 위해 {names}를 가리고 게시했습니다. (personal data hidden: {codes})"


def appeal_url(comment_id: int) -> str:
    """The API address where the author of `comment_id` appeals its removal."""
    return f"/api/comments/{comment_id}/appeal"


NOTICES = AuthorNotices(held=HELD_NOTICE, masked=masking_notice, appeal_url=appeal_url)
