"""Getting staff in and around: the login form wherever staff land, `/login?next=`, and
the staff bar every page shows to a logged-in staff member.

A staff page calls `staff_gate(request, access)`. Without a staff session it answers 401
with the login form in place (same URL, so after logging in the browser goes back exactly
where it was going); with a session whose role lacks `access` it answers 403 saying which
roles may, with the form to log in as someone else. `next` is only ever a path on this site
(`web.http.requests.local_path`), never an open redirect.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from livechat import Role
from web.http.requests import local_path
from web.identity.roles import ROLES, Access, may
from web.identity.sessions import Session
from web.rendering.i18n import translate
from web.rendering.templating import request_locale
from web.services import services

# Role names as staff read them (Korean source strings, translated in the locales).
ROLE_LABELS: dict[str, str] = {
    Role.VIEWER: "시청자",
    Role.OFFICIAL: "공무원",
    Role.OPERATOR: "편성 담당",
    Role.MODERATOR: "모더레이터",
    Role.ADMIN: "관리자",
    Role.SYSTEM: "시스템",
}
assert set(ROLE_LABELS) == set(Role), "every role needs its label"
# What each staff page needs, in words (for the 403 page).
NEEDS: dict[Access, str] = {
    Access.SCHEDULE: "편성 데스크는 편성 담당과 관리자만 쓸 수 있습니다.",
    Access.MODERATE: "모더레이션은 모더레이터와 관리자만 할 수 있습니다.",
    Access.STATUS: "서비스 상태는 편성 담당, 모더레이터, 관리자만 볼 수 있습니다.",
    Access.ACCOUNTS: "직원 계정은 관리자만 관리할 수 있습니다.",
    Access.QUESTIONS: "질문 답변은 공무원, 모더레이터, 관리자만 할 수 있습니다.",
}


@dataclass(frozen=True)
class StaffLink:
    href: str
    label: str  # Korean source string


# The staff bar, in this order; each shown only to roles with its access.
STAFF_LINKS: tuple[tuple[Access, StaffLink], ...] = (
    (Access.SCHEDULE, StaffLink("/operator", "편성 데스크")),
    (Access.MODERATE, StaffLink("/moderate/audit", "조치 기록")),
    (Access.QUESTIONS, StaffLink("/questions", "시민 질문")),
    (Access.STATUS, StaffLink("/operator/status", "서비스 상태")),
    (Access.ACCOUNTS, StaffLink("/admin/accounts", "직원 계정")),
)


def staff_links(role: str) -> list[StaffLink]:
    """The staff bar's links for `role`, in bar order."""
    return [link for access, link in STAFF_LINKS if may(role, access)]


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role)


def login_response(
    request: Request,
    *,
    status: int,
    next_path: str,
    session: Session | None = None,
    access: Access | None = None,
) -> Response:
    """The login page: 401 (nobody logged in) or 403 (logged in without `access`)."""
    locale = request_locale(request)
    reason = translate(locale, NEEDS[access]) if access in NEEDS else ""
    holders = [role_label(r) for r in ROLES if access is not None and may(r, access)]
    context = {
        "next_path": local_path(next_path),
        "signed_in_as": session.nickname if session is not None else "",
        "signed_in_role": role_label(session.role) if session is not None else "",
        "reason": reason,
        "holders": holders,
        "forbidden": status == 403,
    }
    return services(request).templates.TemplateResponse(
        request,
        "accounts/staff_login.html",
        context,
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


def here(request: Request) -> str:
    """The path (and query) of `request`, where a login should come back to."""
    query = request.url.query
    return request.url.path + ("?" + query if query else "")


def staff_gate(request: Request, access: Access) -> Session | Response:
    """The caller's session if its role has `access`, else the login page to answer with."""
    session = services(request).sessions.load(request)
    if session is None or not session.is_staff:
        return login_response(
            request, status=401, next_path=here(request), session=session, access=access
        )
    if not may(session.role, access):
        return login_response(
            request, status=403, next_path=here(request), session=session, access=access
        )
    return session


async def login_page(request: Request) -> Response:
    """`/login?next=/path`: the form; logged-in staff go straight on to `next`."""
    target = local_path(request.query_params.get("next"))
    session = services(request).sessions.load(request)
    if session is not None and session.is_staff and request.query_params.get("again") != "1":
        return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})
    return login_response(request, status=200, next_path=target, session=session)


routes: list[BaseRoute] = [Route("/login", login_page, methods=["GET"])]


def bar_context(request: Request) -> dict[str, object]:
    """Template context for the staff bar (`_staff_bar.html`): `staff` is None for
    viewers, else who is logged in, their links and the CSRF token the logout needs."""
    try:
        svc = services(request)
    except AttributeError:  # rendered outside the app's lifespan
        return {"staff": None}
    session = svc.sessions.load(request)
    if session is None or not session.is_staff:
        return {"staff": None}
    return {
        "staff": {
            "name": session.nickname,
            "role": role_label(session.role),
            "links": staff_links(session.role),
            "csrf": svc.sessions.csrf_token(session),
            "console": may(session.role, Access.MODERATE),
        }
    }
