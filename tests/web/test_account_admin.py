"""Account administration ends sessions at once: disabling an account, changing its role
or its password (API, form and CLI) refuses every cookie it had, on HTTP and on a socket
already open; staff sessions also end after idle time."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from itsdangerous import TimestampSigner
from starlette.testclient import TestClient

from tests.support import TIMEOUT, server_pair, staff_database
from tests.web.test_logout import until
from web.app import create_app
from web.cli import main as cli
from web.identity.sessions import COOKIE, Session, SessionCodec
from web.settings import Settings

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new secret"
AUDIT = "/api/moderation/audit"


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A live broadcast, an admin (id 1) and a moderator (id 2), hashed once."""
    return staff_database(
        tmp_path_factory.mktemp("admin") / "template.db",
        PASSWORD,
        ("admin", "admin", "관리자"),
        ("mod", "moderator", "모더레이터"),
    )


@pytest.fixture
def site(settings: Settings, template_db: Path) -> Iterator[TestClient]:
    shutil.copyfile(template_db, settings.database_path)
    with TestClient(create_app(settings)) as client:
        yield client


def login(client: TestClient, username: str, password: str = PASSWORD) -> tuple[str, str]:
    """(cookie, CSRF token) of a fresh login; the client's jar is left empty."""
    client.cookies.clear()
    response = client.post("/api/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    cookie = client.cookies[COOKIE]
    client.cookies.clear()
    return cookie, response.json()["csrf_token"]


def as_(cookie: str, csrf: str = "") -> dict[str, str]:
    return {"cookie": f"{COOKIE}={cookie}", "x-csrf-token": csrf}


def role_of(client: TestClient, cookie: str) -> str:
    return str(client.get("/api/session", headers=as_(cookie)).json()["role"])


def change(client: TestClient, admin: tuple[str, str], account_id: int, **body: Any) -> Any:
    return client.post(f"/api/admin/accounts/{account_id}", json=body, headers=as_(*admin))


def test_disabling_ends_every_session_and_enabling_does_not_revive_them(site: TestClient) -> None:
    """Both of the moderator's sessions end when an admin disables the account; after it
    is enabled again the old cookies stay refused and a new login works."""
    admin = login(site, "admin")
    first, second = login(site, "mod")[0], login(site, "mod")[0]
    assert role_of(site, first) == role_of(site, second) == "moderator"
    response = change(site, admin, 2, action="disable")
    assert response.status_code == 200 and response.json()["disabled"] is True
    assert role_of(site, first) == role_of(site, second) == "anonymous"
    assert site.get(AUDIT, headers=as_(first)).status_code == 401
    site.cookies.clear()
    assert (
        site.post("/api/login", json={"username": "mod", "password": PASSWORD}).status_code == 401
    )
    assert change(site, admin, 2, action="enable").json()["disabled"] is False
    assert role_of(site, first) == "anonymous"
    assert role_of(site, login(site, "mod")[0]) == "moderator"


def test_role_change_ends_sessions_that_carry_the_old_role(site: TestClient) -> None:
    """A moderator demoted to official can no longer moderate with the cookie they had."""
    admin, mod = login(site, "admin"), login(site, "mod")
    assert site.get(AUDIT, headers=as_(*mod)).status_code == 200
    assert change(site, admin, 2, action="role", role="official").json()["role"] == "official"
    assert site.get(AUDIT, headers=as_(*mod)).status_code == 401
    assert role_of(site, login(site, "mod")[0]) == "official"
    bad = change(site, admin, 2, action="role", role="emperor")
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "role"


def test_password_change_ends_sessions_and_the_old_password(site: TestClient) -> None:
    """After a password change the old cookie and the old password are refused."""
    admin, mod = login(site, "admin"), login(site, "mod")
    assert change(site, admin, 2, action="password", password=NEW_PASSWORD).status_code == 200
    assert role_of(site, mod[0]) == "anonymous"
    site.cookies.clear()
    assert (
        site.post("/api/login", json={"username": "mod", "password": PASSWORD}).status_code == 401
    )
    assert role_of(site, login(site, "mod", NEW_PASSWORD)[0]) == "moderator"
    short = change(site, admin, 2, action="password", password="short")
    assert short.status_code == 400 and short.json()["error"]["field"] == "password"


def test_own_password_change_keeps_this_session_only(site: TestClient) -> None:
    """An admin changing their own password stays signed in here (a re-signed cookie) and
    is signed out everywhere else; they cannot disable themselves or change their role."""
    here, elsewhere = login(site, "admin"), login(site, "admin")
    response = change(site, here, 1, action="password", password=NEW_PASSWORD)
    assert response.status_code == 200
    renewed = response.cookies[COOKIE]
    assert role_of(site, renewed) == "admin"
    assert role_of(site, here[0]) == role_of(site, elsewhere[0]) == "anonymous"
    renewed_admin = (renewed, here[1])
    for body in ({"action": "disable"}, {"action": "role", "role": "official"}):
        refused = change(site, renewed_admin, 1, **body)
        assert refused.status_code == 400 and refused.json()["error"]["field"] == "action"
    assert change(site, renewed_admin, 99, action="disable").status_code == 404


def test_only_admins_may_change_accounts(site: TestClient) -> None:
    """A moderator's request to change an account is forbidden and changes nothing."""
    mod = login(site, "mod")
    assert change(site, mod, 1, action="disable").status_code == 403
    assert role_of(site, login(site, "admin")[0]) == "admin"


def test_open_socket_loses_staff_powers_when_the_account_is_disabled(site: TestClient) -> None:
    """A moderator's socket opened before the account was disabled cannot post as staff
    afterwards: the next message is answered `no_session`."""
    admin, mod = login(site, "admin"), login(site, "mod")
    with site.websocket_connect("/ws/broadcasts/1", headers=as_(mod[0])) as ws:
        ws.send_json({"type": "post", "text": "안내", "client_id": uuid.uuid4().hex})
        assert until(ws.receive_json, "ack", "error")["type"] == "ack"
        assert change(site, admin, 2, action="disable").status_code == 200
        ws.send_json({"type": "post", "text": "또 안내", "client_id": uuid.uuid4().hex})
        assert until(ws.receive_json, "ack", "error")["code"] == "no_session"


def test_admin_form_disables_an_account(site: TestClient) -> None:
    """The /admin/accounts form (with its CSRF token) disables the moderator and the page
    says so; without the token nothing changes."""
    admin_cookie, _ = login(site, "admin")
    mod = login(site, "mod")
    site.cookies.set(COOKIE, admin_cookie)
    forged = site.post("/admin/accounts/2", data={"action": "disable", "csrf_token": "x"})
    assert forged.status_code == 403 and role_of(site, mod[0]) == "moderator"
    page = site.get("/admin/accounts")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    done = site.post("/admin/accounts/2", data={"action": "disable", "csrf_token": token})
    assert done.status_code == 200 and done.url.path == "/admin/accounts"
    assert "사용 중지됨" in done.text and role_of(site, mod[0]) == "anonymous"


def test_cli_changes_an_account_and_ends_its_sessions(
    site: TestClient,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`live-seoul account role mod --role official` ends the moderator's session; an
    unknown username is a clear error."""
    mod = login(site, "mod")
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SECRET_KEY", settings.secret_key)
    assert cli(["account", "role", "MOD", "--role", "official"]) == 0
    assert "mod is a enabled official" in capsys.readouterr().out
    assert role_of(site, mod[0]) == "anonymous"
    assert cli(["account", "disable", "nobody"]) == 2
    assert "no account 'nobody'" in capsys.readouterr().err


def signed_ago(settings: Settings, seconds: float, session: Session) -> str:
    """A staff cookie as the server would have signed it `seconds` ago."""
    codec = SessionCodec(
        settings.secret_key,
        settings.session_max_age_days,
        secure=False,
        staff_idle_minutes=settings.staff_idle_minutes,
    )

    class SignedEarlier(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - seconds)

    codec._serializer.signer = SignedEarlier
    return codec._encode(session)


def test_idle_staff_session_expires_and_an_active_one_is_renewed(
    site: TestClient, settings: Settings
) -> None:
    """A staff cookie unused for longer than STAFF_IDLE_MINUTES is refused; one used a
    while ago (but within the idle time) is re-signed on its way back."""
    idle = settings.staff_idle_minutes * 60
    with contextlib.closing(sqlite3.connect(settings.database_path)) as db:
        sid_row = db.execute("SELECT id FROM accounts WHERE username = 'mod'").fetchone()
    mod = Session(
        sid="s1",
        nickname="모더레이터",
        role="moderator",
        account_id=sid_row[0],
        issued_at=time.time() - idle - 100,
    )
    stale = signed_ago(settings, idle + 30, mod)
    assert role_of(site, stale) == "anonymous"
    recent = signed_ago(settings, idle / 2, mod)
    response = site.get("/api/session", headers=as_(recent))
    assert response.json()["role"] == "moderator"
    renewed = response.cookies[COOKIE]
    assert renewed != recent and role_of(site, renewed) == "moderator"
    fresh = signed_ago(settings, 0, mod)
    assert COOKIE not in site.get("/api/session", headers=as_(fresh)).cookies
    too_old = signed_ago(
        settings,
        0,
        Session(
            sid="s2",
            nickname="x",
            role="moderator",
            account_id=sid_row[0],
            issued_at=time.time() - settings.session_max_age_days * 86400 - 5,
        ),
    )
    assert role_of(site, too_old) == "anonymous"


@pytest.mark.e2e
def test_role_change_on_one_process_ends_the_session_on_another(
    tmp_path: Path, template_db: Path
) -> None:
    """Two uvicorn processes on one database: an admin demotes the moderator on A; the
    moderator's cookie no longer moderates on B."""
    db = tmp_path / "shared.db"
    shutil.copyfile(template_db, db)
    with (
        server_pair(db, {}) as (a, b),
        httpx.Client(base_url=a.base, timeout=TIMEOUT) as on_a,
        httpx.Client(base_url=b.base, timeout=TIMEOUT) as on_b,
    ):

        def sign_in(client: httpx.Client, username: str) -> tuple[str, str]:
            client.cookies.clear()
            r = client.post("/api/login", json={"username": username, "password": PASSWORD})
            assert r.status_code == 200, r.text
            cookie = client.cookies[COOKIE]
            client.cookies.clear()
            return cookie, r.json()["csrf_token"]

        admin, mod = sign_in(on_a, "admin"), sign_in(on_b, "mod")
        assert on_b.get(AUDIT, headers=as_(*mod)).status_code == 200
        changed = on_a.post(
            "/api/admin/accounts/2",
            json={"action": "role", "role": "official"},
            headers=as_(*admin),
        )
        assert changed.status_code == 200
        assert on_b.get(AUDIT, headers=as_(*mod)).status_code == 401
        assert on_b.get("/api/session", headers=as_(*mod)).json()["role"] == "anonymous"
