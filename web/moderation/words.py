"""The words staff screens show for the codes the services use: moderation actions,
reasons, restriction kinds and scopes, appeal and comment statuses, roles. Korean source
strings (translated through `web/locales`); one home for the console (as JSON for its
script), the audit log and the account page, so no English code reaches a staff screen.
"""

from __future__ import annotations

import json

from livechat.comment import CommentStatus
from livechat.moderation.moderation import Reason
from web.accounts.staff_pages import ROLE_LABELS
from web.rendering.i18n import translate

ACTIONS: dict[str, str] = {
    "remove": "삭제",
    "restore": "되돌림",
    "remove_user": "사용자 댓글 모두 삭제",
    "timeout": "일시 제한",
    "ban": "차단",
    "unban": "제한 해제",
    "slow_mode": "저속 모드",
    "chat": "댓글 열기·닫기",
    "chat_close": "댓글 닫기",
    "chat_open": "댓글 열기",
    "pin": "고정",
    "unpin": "고정 해제",
    "approve": "승인",
    "reject": "거부",
    "word_add": "금칙어 추가",
    "word_remove": "금칙어 삭제",
    "appeal_decide": "이의 제기 결정",
    "auto_hide": "신고 누적으로 숨김",
    "appeal": "이의 제기",
}
REASON_LABELS: dict[str, str] = {
    Reason.SPAM: "스팸",
    Reason.ABUSE: "욕설·비방",
    Reason.PERSONAL_DATA: "개인정보",
    Reason.OFF_TOPIC: "주제와 무관",
    Reason.OTHER: "기타",
    Reason.REPORTS: "신고 누적",
}
KINDS: dict[str, str] = {"timeout": "일시 제한", "ban": "차단"}
SCOPES: dict[str, str] = {"broadcast": "이 방송", "everywhere": "모든 방송"}
APPEAL_STATUSES: dict[str, str] = {
    "open": "검토 대기",
    "upheld": "삭제 유지",
    "reinstated": "복구됨",
}
COMMENT_STATUSES: dict[str, str] = {
    CommentStatus.HELD: "검토 대기",
    CommentStatus.REMOVED: "삭제됨",
    CommentStatus.VISIBLE: "게시됨",
}
assert set(REASON_LABELS) == set(Reason)
assert set(COMMENT_STATUSES) == set(CommentStatus)

TABLES: dict[str, dict[str, str]] = {
    "actions": ACTIONS,
    "reasons": REASON_LABELS,
    "kinds": KINDS,
    "scopes": SCOPES,
    "appeals": APPEAL_STATUSES,
    "statuses": COMMENT_STATUSES,
    "roles": ROLE_LABELS,
}


def word(table: str, code: str, locale: str) -> str:
    """The staff-facing word for `code` in `table`, in `locale` (the code itself only if
    the table has no entry: a new code shows up, it does not vanish)."""
    label = TABLES[table].get(code)
    return translate(locale, label) if label is not None else code


def as_json(locale: str) -> str:
    """Every table, translated, as JSON for a `data-` attribute (autoescaped there)."""
    return json.dumps(
        {
            name: {code: translate(locale, label) for code, label in table.items()}
            for name, table in TABLES.items()
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def all_strings() -> set[str]:
    """Every Korean source string here (the i18n test checks each has translations)."""
    return {label for table in TABLES.values() for label in table.values()}
