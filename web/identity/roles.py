"""Who may do what: the staff roles, their powers, and the access every route and every
WebSocket message needs — as data, so the docs table (`docs/roles.md`) is generated from
it and a test walks every route of the app against it (a route without an entry fails).

Endpoints ask `may(role, Access.X)` through `web.http.requests.require_access` and the staff
page gate (`web.accounts.staff_pages`); the rules for moderation and question moves live in
`livechat` (which imports nothing of `web`) and are the same sets as here.
"""

from __future__ import annotations

from enum import StrEnum

from livechat import MODERATORS, STAFF_ROLES, Role
from livechat.questions import ANSWERERS

# Staff roles, as stored in accounts.role (web migration 6 added `operator`).
ROLES: tuple[Role, ...] = STAFF_ROLES
# Not a role: a request without a session cookie.
ANONYMOUS = "anonymous"
# Everyone a request can be: no cookie, a guest with a nickname, or one of the roles.
CALLERS: tuple[str, ...] = (ANONYMOUS, Role.VIEWER, *ROLES)


class Access(StrEnum):
    """What a route or message needs. The first three are not roles' powers."""

    PUBLIC = "public"  # anyone, no cookie needed
    SESSION = "session"  # any session: a guest's nickname or a staff login
    TOKEN = "token"  # noqa: S105 (a kind of access, not a secret): the METRICS_TOKEN bearer token, whoever the caller is
    QUESTIONS = "questions"  # answer citizens' questions and move their status
    SCHEDULE = "schedule"  # the schedule desk: broadcasts live/end/edit, replays, shares
    MODERATE = "moderate"  # the moderator console, audit log, reviews and appeals
    STATUS = "status"  # the service status page
    ACCOUNTS = "accounts"  # staff accounts
    MEMBER = "member"  # signed in with a provider (web.accounts.signin): their account


HOLDERS: dict[Access, frozenset[str]] = {
    Access.PUBLIC: frozenset(CALLERS),
    Access.SESSION: frozenset(CALLERS) - {ANONYMOUS},
    Access.TOKEN: frozenset(),
    Access.QUESTIONS: ANSWERERS,
    Access.SCHEDULE: frozenset({Role.OPERATOR, Role.ADMIN}),
    Access.MODERATE: MODERATORS,
    Access.STATUS: frozenset({Role.OPERATOR, Role.MODERATOR, Role.ADMIN}),
    Access.ACCOUNTS: frozenset({Role.ADMIN}),
    Access.MEMBER: frozenset(),  # not a role: any viewer once signed in with a provider
}

# What each power means, for the docs and the staff bar (Korean source strings).
DESCRIPTIONS: dict[Access, str] = {
    Access.PUBLIC: "누구나",
    Access.SESSION: "닉네임을 정한 시청자 또는 로그인한 직원",
    Access.TOKEN: "METRICS_TOKEN (Bearer)",
    Access.QUESTIONS: "질문 답변·상태 변경",
    Access.SCHEDULE: "편성 데스크: 방송 시작·종료·편집, 다시보기, 공유 통계",
    Access.MODERATE: "모더레이터 콘솔, 조치 기록, 검토·이의 제기",
    Access.STATUS: "서비스 상태",
    Access.ACCOUNTS: "직원 계정 관리",
    Access.MEMBER: "소셜 계정으로 로그인한 시청자 본인",
}


def may(role: str | None, access: Access) -> bool:
    """Whether a caller of `role` (None: no session) has `access`."""
    return (role or ANONYMOUS) in HOLDERS[access]


def powers(role: str | None) -> frozenset[Access]:
    """Every access `role` has."""
    return frozenset(a for a in Access if may(role, a))


# Every HTTP route: "METHOD path" (the path as the router spells it) -> what it needs.
ROUTES: dict[str, Access] = {
    "GET /healthz": Access.PUBLIC,
    "GET /readyz": Access.PUBLIC,
    "GET /metrics": Access.TOKEN,
    "GET /login": Access.PUBLIC,
    "GET /operator/status": Access.STATUS,
    "GET /api/operator/status": Access.STATUS,
    "POST /api/session": Access.PUBLIC,
    "GET /api/session": Access.PUBLIC,
    "POST /api/login": Access.PUBLIC,
    "POST /api/logout": Access.SESSION,
    "GET /api/now": Access.PUBLIC,
    "GET /api/schedule": Access.PUBLIC,
    "GET /schedule.xml": Access.PUBLIC,
    "GET /schedule.ics": Access.PUBLIC,
    "GET /broadcasts/{broadcast_id:id}.ics": Access.PUBLIC,
    "GET /api/broadcasts": Access.PUBLIC,
    "POST /api/broadcasts": Access.SCHEDULE,
    "GET /api/broadcasts/{broadcast_id:id}": Access.PUBLIC,
    "PATCH /api/broadcasts/{broadcast_id:id}": Access.SCHEDULE,
    "POST /api/broadcasts/{broadcast_id:id}/reschedule": Access.SCHEDULE,
    "POST /api/broadcasts/{broadcast_id:id}/live": Access.SCHEDULE,
    "POST /api/broadcasts/{broadcast_id:id}/end": Access.SCHEDULE,
    "POST /api/broadcasts/{broadcast_id:id}/cancel": Access.SCHEDULE,
    "GET /": Access.PUBLIC,
    "GET /schedule": Access.PUBLIC,
    "GET /schedule/": Access.PUBLIC,
    "GET /schedule/{day}": Access.PUBLIC,
    "GET /broadcasts/{broadcast_id:id}": Access.PUBLIC,
    "GET /operator": Access.SCHEDULE,
    "GET /api/replays": Access.PUBLIC,
    "GET /api/replays/{replay_id:id}": Access.PUBLIC,
    "PATCH /api/replays/{replay_id:id}": Access.SCHEDULE,
    "GET /api/replays/{replay_id:id}/comments": Access.PUBLIC,
    "POST /api/replays/{replay_id:id}/comments": Access.SESSION,
    "GET /replays": Access.PUBLIC,
    "GET /replays/{replay_id:id}": Access.PUBLIC,
    "GET /api/broadcasts/{broadcast_id:id}/comments": Access.PUBLIC,
    "POST /api/broadcasts/{broadcast_id:id}/comments": Access.SESSION,
    "POST /api/moderation/broadcasts/{broadcast_id:id}/actions": Access.MODERATE,
    "GET /api/moderation/broadcasts/{broadcast_id:id}/comments": Access.MODERATE,
    "GET /api/moderation/broadcasts/{broadcast_id:id}/queue": Access.MODERATE,
    "GET /api/moderation/broadcasts/{broadcast_id:id}/appeals": Access.MODERATE,
    "GET /api/moderation/broadcasts/{broadcast_id:id}/restrictions": Access.MODERATE,
    "GET /api/moderation/words": Access.MODERATE,
    "GET /api/moderation/audit": Access.MODERATE,
    "GET /api/broadcasts/{broadcast_id:id}/transparency": Access.PUBLIC,
    "POST /api/comments/{comment_id:id}/reports": Access.SESSION,
    "GET /api/comments/{comment_id:id}/moderation": Access.SESSION,
    "POST /api/comments/{comment_id:id}/appeal": Access.SESSION,
    "POST /api/admin/accounts": Access.ACCOUNTS,
    "GET /moderate/audit": Access.MODERATE,
    "GET /moderate/{broadcast_id:id}": Access.MODERATE,
    "GET /broadcasts/{broadcast_id:id}/transparency": Access.PUBLIC,
    "GET /admin/accounts": Access.ACCOUNTS,
    "POST /admin/accounts": Access.ACCOUNTS,
    "GET /api/broadcasts/{broadcast_id:id}/questions": Access.PUBLIC,
    "POST /api/broadcasts/{broadcast_id:id}/questions": Access.SESSION,
    "GET /api/broadcasts/{broadcast_id:id}/questions.csv": Access.QUESTIONS,
    "GET /api/broadcasts/{broadcast_id:id}/questions.json": Access.QUESTIONS,
    "GET /api/questions/tally": Access.PUBLIC,
    "GET /api/questions/{question_id:id}": Access.PUBLIC,
    "POST /api/questions/{question_id:id}/vote": Access.SESSION,
    "POST /api/questions/{question_id:id}/unvote": Access.SESSION,
    "POST /api/questions/{question_id:id}/answer": Access.QUESTIONS,
    "POST /api/questions/{question_id:id}/status": Access.QUESTIONS,
    "POST /api/questions/{question_id:id}/follow": Access.SESSION,
    "POST /api/questions/{question_id:id}/unfollow": Access.SESSION,
    "GET /api/me/notifications": Access.PUBLIC,
    "POST /api/me/notifications/seen": Access.SESSION,
    "GET /broadcasts/{broadcast_id:id}/questions": Access.PUBLIC,
    "GET /questions": Access.PUBLIC,
    "GET /api/share": Access.PUBLIC,
    "POST /api/share/click": Access.PUBLIC,
    "GET /api/share/stats": Access.SCHEDULE,
    "GET /operator/shares": Access.SCHEDULE,
    "GET /oembed": Access.PUBLIC,
    "GET /embed/broadcasts/{broadcast_id:id}": Access.PUBLIC,
    "GET /embed/replays/{replay_id:id}": Access.PUBLIC,
    "WS /ws/broadcasts/{broadcast_id:id}": Access.PUBLIC,
    # social sign-in and one's own account (web.accounts.signin, web.accounts.routes)
    "GET /auth/{provider:str}/login": Access.PUBLIC,
    "GET /auth/{provider:str}/callback": Access.PUBLIC,
    "GET /auth/staff-link/{token:str}": Access.PUBLIC,
    "GET /account": Access.PUBLIC,
    "GET /account/welcome": Access.PUBLIC,
    "POST /account/welcome": Access.PUBLIC,  # without a sign-in under way: back to /account
    "GET /api/account/export": Access.MEMBER,
    "POST /api/account/name": Access.MEMBER,
    "POST /api/account/unlink": Access.MEMBER,
    "DELETE /api/account": Access.MEMBER,
    "GET /api/broadcasts/{broadcast_id:id}/comment-access": Access.PUBLIC,
    "PUT /api/broadcasts/{broadcast_id:id}/comment-access": Access.MODERATE,
    "POST /api/admin/accounts/{account_id:id}/provider-link": Access.ACCOUNTS,
    # account administration (disable, role, password)
    "POST /api/admin/accounts/{account_id:id}": Access.ACCOUNTS,
    "POST /admin/accounts/{account_id:id}": Access.ACCOUNTS,
    # the installable app and reminders
    "GET /manifest.webmanifest": Access.PUBLIC,
    "GET /sw.js": Access.PUBLIC,
    "GET /offline": Access.PUBLIC,
    "GET /api/push/reminders": Access.PUBLIC,
    "POST /api/push/reminders": Access.PUBLIC,
    "POST /api/push/reminders/cancel": Access.PUBLIC,
    "POST /api/push/forget": Access.SESSION,
    # pictures, catalog suggestions, the channel feed
    "GET /og/live/{broadcast_id:id}.png": Access.PUBLIC,
    "GET /og/replays/{replay_id:id}.png": Access.PUBLIC,
    "GET /replays/{replay_id:id}/thumbnail.jpg": Access.PUBLIC,
    "GET /api/replays/suggestions": Access.PUBLIC,
    "GET /now": Access.PUBLIC,
    "WS /ws/channel": Access.PUBLIC,
    "GET /live/{broadcast_id:id}": Access.PUBLIC,
    "GET /lang": Access.PUBLIC,
}

# Every client message on the WebSocket (`type`) -> what it needs.
MESSAGES: dict[str, Access] = {
    "ping": Access.PUBLIC,
    "resume": Access.PUBLIC,
    "post": Access.SESSION,
    "vote": Access.SESSION,
    "unvote": Access.SESSION,
    "answer": Access.QUESTIONS,
    "set_question_status": Access.QUESTIONS,
    "moderate": Access.MODERATE,
}


def markdown_table() -> str:
    """The role table of `docs/roles.md` (a test keeps the file equal to this)."""
    head = "| needs | " + " | ".join(CALLERS) + " |"
    rule = "|---|" + "---|" * len(CALLERS)
    lines = ["## Powers", "", head, rule]
    for access in Access:
        marks = " | ".join("✓" if may(c, access) else "" for c in CALLERS)
        lines.append(f"| `{access}` — {DESCRIPTIONS[access]} | {marks} |")
    lines += ["", "## HTTP routes", "", "| route | needs |", "|---|---|"]
    lines += [f"| `{route}` | `{access}` |" for route, access in ROUTES.items()]
    lines += ["", "## WebSocket messages", "", "| `type` | needs |", "|---|---|"]
    lines += [f"| `{kind}` | `{access}` |" for kind, access in MESSAGES.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # python3 -m web.identity.roles: the table for docs/roles.md
    print(markdown_table(), end="")
