"""Getting staff in and around: the login form wherever staff land, same-site returns only,
the staff bar, pages and audit rows in words."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from tests.support import account_store, seed_broadcast
from tests.web.test_i18n import load
from web.accounts import staff_pages
from web.app import create_app
from web.identity.roles import ROLES
from web.moderation import routes as moderation_routes
from web.moderation import words as staff_words
from web.settings import Settings

PASSWORD = "staff-password-1"


async def _accounts(settings: Settings) -> None:
    async with account_store(settings.database_path) as store:
        for role in ROLES:
            await store.create(role, PASSWORD, role, f"{role} 직원", "교통정책과")


@pytest.fixture
def site(settings: Settings) -> Iterator[TestClient]:
    seed_broadcast(settings.database_path, 1, title="서울시장과의 대화")
    asyncio.run(_accounts(settings))
    with TestClient(create_app(settings)) as client:
        yield client


def login(client: TestClient, username: str, next_path: str = "/") -> dict[str, object]:
    response = client.post(
        "/api/login", json={"username": username, "password": PASSWORD, "next": next_path}
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_deep_link_logged_out_shows_the_login_form_in_place(site: TestClient) -> None:
    """`/moderate/1` logged out is a 401 page with the form, whose `next` is that path."""
    page = site.get("/moderate/1?x=1", headers={"accept": "text/html"})
    assert page.status_code == 401
    assert 'id="login-form"' in page.text
    assert 'data-next="/moderate/1?x=1"' in page.text
    assert page.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("asked", "kept"),
    [
        ("/moderate/1", "/moderate/1"),
        ("/operator?day=2", "/operator?day=2"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
    ],
)
def test_login_returns_to_same_site_paths_only(site: TestClient, asked: str, kept: str) -> None:
    """The login answer's `next` is the asked path when it is on this site, else `/`;
    `/login?next=` redirects a logged-in member there, never off-site."""
    assert login(site, "moderator", asked)["next"] == kept
    again = site.get("/login", params={"next": asked}, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == kept


def test_wrong_role_gets_403_naming_who_may(site: TestClient) -> None:
    """An official on the schedule desk: 403, the roles that may, and the form to switch."""
    login(site, "official")
    page = site.get("/operator")
    assert page.status_code == 403
    assert "편성 데스크는 편성 담당과 관리자만 쓸 수 있습니다." in page.text
    assert 'id="login-form"' in page.text


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        ("official", ["시민 질문"], ["편성 데스크", "조치 기록", "서비스 상태", "직원 계정"]),
        ("operator", ["편성 데스크", "서비스 상태"], ["조치 기록", "직원 계정", "시민 질문"]),
        ("moderator", ["조치 기록", "시민 질문", "서비스 상태"], ["편성 데스크", "직원 계정"]),
        ("admin", ["편성 데스크", "조치 기록", "시민 질문", "서비스 상태", "직원 계정"], []),
    ],
)
def test_staff_bar_shows_each_role_its_desks(
    site: TestClient, role: str, shown: list[str], hidden: list[str]
) -> None:
    """Every page carries the staff bar for staff (name, role in words, logout), with the
    links of exactly that role's desks; viewers never see it."""
    assert 'id="staff-bar"' not in site.get("/schedule").text
    login(site, role)
    for path in ("/", "/schedule", "/live/1"):
        text = site.get(path).text
        bar = text[
            text.index('id="staff-bar"') : text.index("</nav>", text.index('id="staff-bar"'))
        ]
        assert f"{role} 직원" in bar and staff_pages.ROLE_LABELS[role] in bar
        assert "로그아웃" in bar and 'id="staff-live"' in bar
        for label in shown:
            assert f">{label}</a>" in bar
        for label in hidden:
            assert f">{label}</a>" not in bar


def test_audit_rows_are_in_words_and_say_which_word(site: TestClient) -> None:
    """The audit log shows actions, roles and reasons in words, and a blocked-word row names
    the word; the action filter is a list of words, not a code to type."""
    body = login(site, "moderator")
    csrf = str(body["csrf_token"])
    done = site.post(
        "/api/moderation/broadcasts/1/actions",
        headers={"X-CSRF-Token": csrf},
        json={"action": "word_add", "word": "코인사기"},
    )
    assert done.status_code == 200, done.text
    done = site.post(
        "/api/moderation/broadcasts/1/actions",
        headers={"X-CSRF-Token": csrf},
        json={"action": "slow_mode", "seconds": 30},
    )
    assert done.status_code == 200, done.text
    page = site.get("/moderate/audit").text
    row = page[page.index("<tbody>") : page.index("</tbody>")]
    assert "금칙어 추가" in row and "코인사기" in row and "모더레이터" in row
    assert "저속 모드" in row
    assert "word_add" not in row and "(moderator)" not in row
    assert '<option value="word_add">금칙어 추가</option>' in page


def test_account_form_errors_are_words(site: TestClient) -> None:
    """A refused account says what to do, in words; roles are listed by name."""
    body = login(site, "admin")
    page = site.get("/admin/accounts").text
    csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    refused = site.post(
        "/admin/accounts",
        data={"csrf_token": csrf, "username": "a b", "password": "short", "role": "operator"},
    )
    assert refused.status_code == 400
    assert "아이디는 2–40자의 영문, 숫자, 마침표(.), 밑줄(_)로 만드세요." in refused.text
    assert ">편성 담당</option>" in refused.text and ">operator</option>" not in refused.text
    assert body["role"] == "admin"


def test_every_staff_word_is_translated() -> None:
    """Every word the staff screens show for a code, role, desk or refusal has an English
    and a Japanese translation (they are not template literals, so listed here)."""
    strings = (
        staff_words.all_strings()
        | set(staff_pages.NEEDS.values())
        | {link.label for _, link in staff_pages.STAFF_LINKS}
        | set(moderation_routes._ACCOUNT_ERRORS.values())
    )
    for locale in ("en", "ja"):
        catalog = load(locale)
        assert sorted(s for s in strings if not catalog.get(s, "").strip()) == []
