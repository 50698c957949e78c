"""Sign-in with Kakao, Naver, Google, X and Facebook against a REAL OpenID Connect provider.

The provider is the `oidc-provider` npm package run by Node on a free port
(`tests/oidc.py`, `tests/oidc_provider.mjs`); the app is configured for it through exactly
the settings a deployment uses (`KAKAO_ISSUER`, `NAVER_AUTHORIZE_URL`, …). Kakao and
Google go through discovery, ID-token checks against the provider's JWKS and a nonce;
Naver, X and Facebook read their provider-shaped profile endpoints.

A certified provider never issues a bad ID token on its own, so for the wrong nonce, the
wrong audience and the expired token the stand-in is told (`POST /_test/tamper`) to change
those claims in its next token response and sign the result with its own private key: the
token is genuinely signed by the provider, only its claims are wrong, which is what the
app must catch. Replayed codes, foreign redirect URIs and tampered state need no such
help: the provider and the app refuse them as they are.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from starlette.testclient import TestClient

from tests.oidc import OidcProvider
from tests.support import TIMEOUT, account_store, seed_broadcast
from web.accounts.signin import DELETED_NAME, safe_next
from web.app import create_app
from web.settings import Settings

APP = "http://testserver"


@pytest.fixture(scope="module")
def oidc() -> Iterator[OidcProvider]:
    provider = OidcProvider([APP])
    provider.start()
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture
def settings_for(tmp_path: Path, oidc: OidcProvider) -> Any:
    def make(**extra: Any) -> Settings:
        db = tmp_path / "social.db"
        if not db.exists():
            seed_broadcast(db, 1)
        return Settings(
            database_url=f"sqlite:///{db}",
            secret_key="test-secret",
            public_base_url=APP,
            **{**oidc.settings(), **extra},
        )

    return make


@pytest.fixture
def site(settings_for: Any) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for()), follow_redirects=False) as client:
        yield client


_BROWSERS: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_browsers() -> Iterator[None]:
    yield
    while _BROWSERS:
        _BROWSERS.pop().close()


class Person:
    """One browser: cookies for the app (TestClient) and for the provider (httpx)."""

    def __init__(self, site: TestClient, oidc: OidcProvider, account: str) -> None:
        self.site, self.oidc, self.account = site, oidc, account
        self.app_cookies: Any = None  # this browser's cookie jar for the app
        self.idp = httpx.Client(timeout=TIMEOUT)
        _BROWSERS.append(self.idp)

    def app(self, method: str, url: str, **kw: Any) -> httpx.Response:
        self.site.cookies.clear()
        if self.app_cookies is not None:
            for cookie in self.app_cookies:
                self.site.cookies.jar.set_cookie(cookie)
        response = self.site.request(method, url.removeprefix(APP), **kw)
        self.app_cookies = list(self.site.cookies.jar)
        return response

    def to_callback(self, provider: str, query: str = "next=/live/1") -> str:
        """Start a sign-in and go through the provider; the callback URL it sends back."""
        self.oidc.next_login(self.account)
        location = self.app("GET", f"/auth/{provider}/login?{query}").headers["location"]
        for _ in range(10):
            if location.startswith(APP):
                return location
            if location.startswith("/"):
                location = self.oidc.issuer + location
            response = self.idp.get(location)
            assert response.status_code in (302, 303), response.text
            location = response.headers["location"]
        raise AssertionError("the provider never sent the browser back")

    def finish(self, callback: str) -> httpx.Response:
        return self.app("GET", callback)

    def sign_in(
        self, provider: str, name: str | None = None, query: str = "next=/live/1"
    ) -> httpx.Response:
        """Sign in; at a first sign-in, consent with display name `name`."""
        response = self.finish(self.to_callback(provider, query))
        if response.headers.get("location") == "/account/welcome":
            page = self.app("GET", "/account/welcome")
            assert page.status_code == 200
            token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
            response = self.app(
                "POST",
                "/account/welcome",
                data={
                    "csrf_token": token,
                    "display_name": name or self.account,
                    "action": "accept",
                },
            )
        return response

    def session(self) -> dict[str, Any]:
        body: dict[str, Any] = self.app("GET", "/api/session").json()
        return body

    def post(self, text: str, client_id: str, **extra: Any) -> httpx.Response:
        return self.app(
            "POST",
            "/api/broadcasts/1/comments",
            json={"text": text, "client_id": client_id, **extra},
            headers={"x-csrf-token": self.session()["csrf_token"]},
        )


def error_of(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query)
    return query.get("signin_error", [""])[0]


def db(settings: Settings) -> sqlite3.Connection:
    return sqlite3.connect(settings.database_path)


# -- the happy paths ----------------------------------------------------------------------
def test_first_sign_in_asks_consent_then_comments_under_the_chosen_name(
    site: TestClient, oidc: OidcProvider, settings_for: Any
) -> None:
    """Kakao through discovery and an ID token: the consent page says what is kept and
    offers the Kakao nickname; after consent the person is back on the live page, signed
    in, and their comment carries the chosen name and the Kakao mark."""
    alice = Person(site, oidc, "alice")
    first = alice.finish(alice.to_callback("kakao"))
    assert first.headers["location"] == "/account/welcome"
    page = alice.app("GET", "/account/welcome")
    assert "해시한 값으로만 보관" in page.text and 'value="alice-nick"' in page.text
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    done = alice.app(
        "POST",
        "/account/welcome",
        data={"csrf_token": token, "display_name": "앨리스", "action": "accept"},
    )
    assert done.status_code == 303 and done.headers["location"] == "/live/1"
    me = alice.session()
    assert (me["nickname"], me["mark"], me["signed_in"]) == ("앨리스", "kakao", True)
    posted = alice.post("안녕하세요", "c1")
    assert posted.status_code == 201, posted.text
    listed = alice.app("GET", "/api/broadcasts/1/comments").json()["items"]
    assert [(c["author"], c.get("mark")) for c in listed] == [("앨리스", "kakao")]
    with db(settings_for()) as conn:
        kept = conn.execute("SELECT provider, subject_key FROM provider_links").fetchall()
        names = conn.execute("SELECT display_name FROM members").fetchall()
    assert kept[0][0] == "kakao" and len(kept[0][1]) == 64 and "alice" not in kept[0][1]
    assert names == [("앨리스",)]


def test_consent_refused_keeps_nothing_and_goes_back(
    site: TestClient, oidc: OidcProvider, settings_for: Any
) -> None:
    """Declining the consent notice stores nothing and returns to the page with
    `signin_error=cancelled`."""
    bob = Person(site, oidc, "bob")
    bob.finish(bob.to_callback("google"))
    page = bob.app("GET", "/account/welcome")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    assert "Real bob" in page.text  # offered, not kept
    back = bob.app("POST", "/account/welcome", data={"csrf_token": token, "action": "cancel"})
    assert error_of(back) == "cancelled" and back.headers["location"].startswith("/live/1")
    with db(settings_for()) as conn:
        assert conn.execute("SELECT COUNT(*) FROM members").fetchone() == (0,)


def test_consent_page_refuses_a_forged_form(site: TestClient, oidc: OidcProvider) -> None:
    """The consent form needs its token; a bad display name is explained, not stored."""
    carol = Person(site, oidc, "carol")
    carol.finish(carol.to_callback("kakao"))
    assert (
        carol.app(
            "POST",
            "/account/welcome",
            data={"csrf_token": "forged", "display_name": "x", "action": "accept"},
        ).status_code
        == 403
    )
    page = carol.app("GET", "/account/welcome")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    bad = carol.app(
        "POST",
        "/account/welcome",
        data={"csrf_token": token, "display_name": "<b>", "action": "accept"},
    )
    assert bad.status_code == 400 and 'aria-invalid="true"' in bad.text


@pytest.mark.parametrize(
    "provider,mark_name",
    [("naver", "dave-nick"), ("google", "dave"), ("x", "dave_x"), ("facebook", "dave")],
)
def test_each_provider_signs_in_through_its_own_settings(
    site: TestClient, oidc: OidcProvider, provider: str, mark_name: str
) -> None:
    """Naver, Google, X and Facebook each sign a person in (their profile endpoints in
    their own shapes); nicknames are offered, real names are not pre-filled."""
    dave = Person(site, oidc, "dave")
    dave.finish(dave.to_callback(provider))
    page = dave.app("GET", "/account/welcome")
    offered = page.text.split('id="display-name" name="display_name" value="')[1].split('"')[0]
    assert offered == (mark_name if mark_name != "dave" else "")
    dave.sign_in(provider)  # already at the consent page: goes through it again
    me = dave.session()
    assert me["signed_in"] and me["mark"] == provider


def test_second_provider_links_to_the_same_account(
    site: TestClient, oidc: OidcProvider, settings_for: Any
) -> None:
    """A signed-in member links Naver from "my account"; later, signing in with Naver on
    a fresh browser is the same member (same name, no consent page again)."""
    erin = Person(site, oidc, "erin")
    erin.sign_in("kakao", "에린")
    linked = erin.finish(erin.to_callback("naver", "link=1&next=/account"))
    assert linked.headers["location"] == "/account?linked=naver"
    page = erin.app("GET", "/account")
    assert "Kakao" in page.text and "NAVER" in page.text
    fresh = Person(site, oidc, "erin")
    back = fresh.finish(fresh.to_callback("naver"))
    assert back.headers["location"] == "/live/1"
    assert fresh.session()["nickname"] == "에린" and fresh.session()["mark"] == "naver"
    with db(settings_for()) as conn:
        assert conn.execute("SELECT COUNT(*) FROM members").fetchone() == (1,)
    # Someone else cannot take Erin's Naver identity into their own account.
    frank = Person(site, oidc, "frank")
    frank.sign_in("google", "프랭크")
    frank.idp.cookies.clear()  # at the provider, Frank now signs in as Erin
    frank.account = "erin"
    taken = frank.finish(frank.to_callback("naver", "link=1&next=/account"))
    assert error_of(taken) == "taken"


def test_export_and_delete_keeping_comments_as_withdrawn_user(
    site: TestClient, oidc: OidcProvider, settings_for: Any
) -> None:
    """Export gives one's own comments and questions as JSON; deleting the account removes
    the member, its links and its push reminders at once, every copy of the cookie stops
    working, and past comments stay under 탈퇴한 사용자 without the mark."""
    gina = Person(site, oidc, "gina")
    gina.sign_in("google", "지나")
    assert gina.post("첫 댓글", "a").status_code == 201
    assert gina.post("질문 있어요", "b", question=True).status_code == 201
    export = gina.app("GET", "/api/account/export")
    assert "attachment" in export.headers["content-disposition"]
    body = export.json()
    assert [c["text"] for c in body["comments"]] == ["첫 댓글"]
    assert [q["text"] for q in body["questions"]] == ["질문 있어요"]
    assert body["account"]["linked"][0]["provider"] == "google"
    copy = list(gina.app_cookies)
    with db(settings_for()) as conn:  # a push reminder she asked for (web.push.store)
        (member_id,) = conn.execute("SELECT id FROM members").fetchone()
        conn.execute(
            "INSERT INTO push_subscriptions (endpoint, p256dh, auth, session_key,"
            " created_at, expires_at) VALUES ('https://push.example/1', 'k', 'a',"
            " ?, '2026-01-01T00:00:00+00:00', '2099-01-01T00:00:00+00:00')",
            (f"m:{member_id}",),
        )
        conn.commit()
    gone = gina.app(
        "DELETE",
        "/api/account",
        json={"comments": "keep"},
        headers={"x-csrf-token": gina.session()["csrf_token"]},
    )
    assert gone.json() == {"deleted": True, "comments": "keep", "removed": 0}
    other = Person(site, oidc, "gina")
    other.app_cookies = copy
    assert other.session()["role"] == "anonymous"
    listed = gina.app("GET", "/api/broadcasts/1/comments").json()["items"]
    assert {(c["author"], c.get("mark")) for c in listed} == {(DELETED_NAME, None)}
    with db(settings_for()) as conn:
        assert conn.execute("SELECT COUNT(*) FROM members").fetchone() == (0,)
        assert conn.execute("SELECT COUNT(*) FROM provider_links").fetchone() == (0,)
        assert conn.execute("SELECT COUNT(*) FROM push_subscriptions").fetchone() == (0,)
        assert conn.execute(
            "SELECT COUNT(*) FROM comments WHERE author_name = '지나'"
        ).fetchone() == (0,)


def test_delete_removing_comments(site: TestClient, oidc: OidcProvider) -> None:
    """With "remove", the person's comments are taken down and emptied at once."""
    hana = Person(site, oidc, "hana")
    hana.sign_in("x", "하나")
    assert hana.post("지워질 댓글", "a").status_code == 201
    gone = hana.app(
        "DELETE",
        "/api/account",
        json={"comments": "remove"},
        headers={"x-csrf-token": hana.session()["csrf_token"]},
    )
    assert gone.json()["removed"] == 1
    assert hana.app("GET", "/api/broadcasts/1/comments").json()["items"] == []
    bad = Person(site, oidc, "ivy")
    bad.sign_in("x", "아이비")
    refused = bad.app(
        "DELETE",
        "/api/account",
        json={"comments": "maybe"},
        headers={"x-csrf-token": bad.session()["csrf_token"]},
    )
    assert refused.status_code == 400 and refused.json()["error"]["field"] == "comments"


# -- what is refused --------------------------------------------------------------------
def test_tampered_state_is_refused(site: TestClient, oidc: OidcProvider) -> None:
    """A callback whose state was changed is refused as expired; nobody is signed in."""
    jay = Person(site, oidc, "jay")
    callback = jay.to_callback("google")
    query = parse_qs(urlsplit(callback).query)
    forged = "/auth/google/callback?" + urlencode(
        {"code": query["code"][0], "state": query["state"][0] + "x"}
    )
    assert error_of(jay.finish(forged)) == "expired"
    assert jay.session()["role"] == "anonymous"


def test_replayed_code_is_refused(site: TestClient, oidc: OidcProvider) -> None:
    """An authorization code works once: replayed into a fresh flow (valid state), the
    provider refuses it and so does the app."""
    kim = Person(site, oidc, "kim")
    first = kim.to_callback("kakao")
    code = parse_qs(urlsplit(first).query)["code"][0]
    assert kim.finish(first).headers["location"] == "/account/welcome"
    second = kim.to_callback("kakao")
    state = parse_qs(urlsplit(second).query)["state"][0]
    replay = "/auth/kakao/callback?" + urlencode({"code": code, "state": state})
    assert error_of(kim.finish(replay)) == "refused"


@pytest.mark.parametrize(
    "claims",
    [
        {"nonce": "not-the-nonce-we-sent"},
        {"aud": "someone-elses-client"},
        {"exp": int(time.time()) - 3600},
        {"iss": "https://accounts.example"},
    ],
    ids=["wrong-nonce", "wrong-audience", "expired", "wrong-issuer"],
)
def test_bad_id_tokens_are_refused(
    site: TestClient, oidc: OidcProvider, claims: dict[str, Any]
) -> None:
    """ID tokens signed with the provider's own key but with a wrong nonce, audience,
    issuer or an expiry in the past are refused (`signin_error=refused`)."""
    lee = Person(site, oidc, "lee")
    callback = lee.to_callback("google")
    oidc.tamper(**claims)
    assert error_of(lee.finish(callback)) == "refused"
    assert lee.session()["role"] == "anonymous"


def test_a_token_signed_with_another_key_is_refused(site: TestClient, oidc: OidcProvider) -> None:
    """Control for the tamper hook: an untouched token from the same flow is accepted, so
    the refusals above are about the claims, not the re-signing."""
    moe = Person(site, oidc, "moe")
    callback = moe.to_callback("google")
    oidc.tamper()  # re-signed, claims unchanged
    assert moe.finish(callback).headers["location"] == "/account/welcome"


def test_foreign_redirect_uri_is_refused_by_the_provider(
    site: TestClient, oidc: OidcProvider
) -> None:
    """The app always sends PUBLIC_BASE_URL's callback, whatever Host the request names,
    and the provider refuses an authorization request for any other redirect URI."""
    nora = Person(site, oidc, "nora")
    start = nora.app("GET", "/auth/kakao/login", headers={"host": "evil.example"})
    sent = parse_qs(urlsplit(start.headers["location"]).query)
    assert sent["redirect_uri"] == [f"{APP}/auth/kakao/callback"]
    assert sent["code_challenge_method"] == ["S256"] and sent["nonce"][0]
    forged = {
        **{k: v[0] for k, v in sent.items()},
        "redirect_uri": "https://evil.example/auth/kakao/callback",
    }
    answer = nora.idp.get(f"{oidc.issuer}/auth?{urlencode(forged)}")
    assert answer.status_code == 400 and "redirect_uri" in answer.text
    assert "evil.example" not in answer.headers.get("location", "")


def test_cancel_at_the_provider_returns_with_the_reason(
    site: TestClient, oidc: OidcProvider
) -> None:
    """The person cancels at the provider (access_denied): back where they were, told so."""
    olga = Person(site, oidc, "olga")
    location = olga.app("GET", "/auth/naver/login?next=/live/1%3Ft%3D1").headers["location"]
    oidc.next_login(deny=True)
    for _ in range(10):
        response = olga.idp.get(location if location.startswith("http") else oidc.issuer + location)
        location = response.headers["location"]
        if location.startswith(APP):
            break
    back = olga.finish(location)
    assert error_of(back) == "cancelled"
    assert back.headers["location"].startswith("/live/1?t=1&")


def test_provider_down_is_named(settings_for: Any, oidc: OidcProvider) -> None:
    """A provider that cannot be reached (discovery fails) sends the person back with
    `signin_error=down` instead of an error page."""
    dead = "http://127.0.0.1:9"  # discard port: nothing listens
    with TestClient(create_app(settings_for(google_issuer=dead)), follow_redirects=False) as client:
        response = client.get("/auth/google/login?next=/live/1")
        assert error_of(response) == "down"
        assert client.get("/auth/unknown/login?next=/live/1").status_code == 303


def test_callback_without_a_flow_is_expired(site: TestClient) -> None:
    """A callback this browser never started (or whose 10 minutes ran out) is "expired"."""
    assert error_of(site.get("/auth/kakao/callback?code=x&state=y")) == "expired"


def test_next_is_never_an_open_redirect() -> None:
    """Only paths on this site are returned to."""
    for bad in [
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "javascript:x",
        "",
        None,
        "/ok\r\nSet-Cookie: x",
    ]:
        assert safe_next(bad) == "/"
    assert safe_next("/live/3?t=1#c") == "/live/3?t=1#c"


# -- who may take part --------------------------------------------------------------------
def staff(settings: Settings, site: TestClient, role: str = "moderator") -> dict[str, str]:
    import asyncio

    async def create() -> None:
        async with account_store(settings.database_path) as store:
            await store.create(f"{role}1", "a-long-password", role)

    asyncio.run(create())
    site.cookies.clear()
    login = site.post("/api/login", json={"username": f"{role}1", "password": "a-long-password"})
    assert login.status_code == 200, login.text
    return {
        "cookie": "; ".join(f"{c.name}={c.value}" for c in site.cookies.jar),
        "x-csrf-token": login.json()["csrf_token"],
    }


def test_accounts_only_broadcast_refuses_guests_and_takes_members(
    site: TestClient, oidc: OidcProvider, settings_for: Any
) -> None:
    """The operator switches a broadcast to signed-in accounts only: a guest's comment is
    refused with `sign_in_required`, a member's is taken; "closed" closes for everyone."""
    headers = staff(settings_for(), site)
    site.cookies.clear()
    changed = site.put(
        "/api/broadcasts/1/comment-access",
        headers=headers,
        json={"comments": "accounts", "votes_need_account": True},
    )
    assert changed.json() == {
        "comments": "accounts",
        "questions_need_account": False,
        "votes_need_account": True,
    }
    site.cookies.clear()
    guest = site.post("/api/session", json={"nickname": "손님"})
    refused = site.post(
        "/api/broadcasts/1/comments",
        json={"text": "hi", "client_id": "g"},
        headers={"x-csrf-token": guest.json()["csrf_token"]},
    )
    assert (
        refused.status_code in (400, 403) and refused.json()["error"]["code"] == "sign_in_required"
    )
    pat = Person(site, oidc, "pat")
    pat.sign_in("kakao", "팻")
    assert pat.post("회원 댓글", "m").status_code == 201
    site.cookies.clear()
    closed = site.put(
        "/api/broadcasts/1/comment-access", headers=headers, json={"comments": "closed"}
    )
    assert closed.json()["comments"] == "closed"
    assert pat.post("닫힌 뒤", "m2").json()["error"]["code"] == "chat_closed"
    site.cookies.clear()
    assert (
        site.put(
            "/api/broadcasts/1/comment-access",
            json={"comments": "anyone"},
            headers={"x-csrf-token": "x"},
        ).status_code
        == 401
    )
    assert (
        site.put(
            "/api/broadcasts/1/comment-access", headers=headers, json={"comments": "everyone"}
        ).status_code
        == 400
    )


def test_reports_count_accounts_not_cookies(site: TestClient, oidc: OidcProvider) -> None:
    """The same account signed in on two browsers reports a comment once: the second
    browser's report is a repeat (409), whereas two guest cookies would count twice."""
    author = Person(site, oidc, "quinn")
    author.sign_in("kakao", "퀸")
    cid = author.post("신고될 댓글", "r").json()["id"]
    phone, laptop = Person(site, oidc, "rita"), Person(site, oidc, "rita")
    phone.sign_in("google", "리타")
    laptop.sign_in("google")
    assert laptop.session()["nickname"] == "리타"

    def report(who: Person) -> httpx.Response:
        return who.app(
            "POST",
            f"/api/comments/{cid}/reports",
            json={"reason": "spam"},
            headers={"x-csrf-token": who.session()["csrf_token"]},
        )

    assert report(phone).status_code == 201
    assert report(laptop).status_code == 409


def test_staff_account_signs_in_through_a_provider_once_an_admin_links_it(
    site: TestClient, oidc: OidcProvider, settings_for: Any
) -> None:
    """An admin issues a one-hour link for a staff account; the official opens it and
    signs in with Google; from then on Google sign-in gives the official's staff session."""
    settings = settings_for()
    admin = staff(settings, site, "admin")
    official = staff(settings, site, "official")
    del official
    site.cookies.clear()
    with db(settings) as conn:
        official_id = conn.execute("SELECT id FROM accounts WHERE role = 'official'").fetchone()[0]
    invite = site.post(f"/api/admin/accounts/{official_id}/provider-link", headers=admin)
    assert invite.status_code == 201, invite.text
    sam = Person(site, oidc, "sam")
    opened = sam.app("GET", invite.json()["url"])
    assert opened.headers["location"] == "/account"
    assert sam.finish(sam.to_callback("google", "next=/live/1")).headers["location"] == "/live/1"
    assert sam.session()["role"] == "official"
    again = Person(site, oidc, "sam")
    again.finish(again.to_callback("google"))
    assert (again.session()["role"], again.session()["mark"]) == ("official", "google")
    site.cookies.clear()
    assert (
        site.post(
            f"/api/admin/accounts/{official_id}/provider-link", headers={"x-csrf-token": "x"}
        ).status_code
        == 401
    )
    forged = Person(site, oidc, "tom")
    assert error_of(forged.app("GET", "/auth/staff-link/forged")) == "expired"


def test_votes_may_require_an_account(
    site: TestClient, oidc: OidcProvider, settings_for: Any
) -> None:
    """With "votes need an account", a guest's vote is refused and a member's counts; the
    same member voting again from another browser is still one vote."""
    headers = staff(settings_for(), site)
    site.cookies.clear()
    site.put("/api/broadcasts/1/comment-access", headers=headers, json={"votes_need_account": True})
    asker = Person(site, oidc, "uma")
    asker.sign_in("kakao", "우마")
    question = asker.post("버스 노선 늘려 주세요", "q", question=True).json()["id"]
    page = asker.app("GET", "/broadcasts/1/questions").text
    assert 'class="mark mark--kakao"' in page  # the asker's mark in the rendered panel
    site.cookies.clear()
    guest = site.post("/api/session", json={"nickname": "손님"}).json()["csrf_token"]
    refused = site.post(f"/api/questions/{question}/vote", headers={"x-csrf-token": guest})
    assert refused.json()["error"]["code"] == "sign_in_required"
    phone, laptop = Person(site, oidc, "vic"), Person(site, oidc, "vic")
    phone.sign_in("naver", "빅")
    laptop.sign_in("naver")
    for who in (phone, laptop):
        voted = who.app(
            "POST",
            f"/api/questions/{question}/vote",
            headers={"x-csrf-token": who.session()["csrf_token"]},
        )
        assert voted.status_code == 200, voted.text
    assert phone.app("GET", f"/api/questions/{question}").json()["question"]["votes"] == 1


def test_a_ban_follows_the_account_to_another_browser(
    site: TestClient, oidc: OidcProvider, settings_for: Any
) -> None:
    """A moderator bans a member's comment's author; the same person signing in on a
    fresh browser is still banned (the ban is on the account, not the cookie)."""
    headers = staff(settings_for(), site)
    wes = Person(site, oidc, "wes")
    wes.sign_in("facebook", "웨스")
    cid = wes.post("나쁜 댓글", "w").json()["id"]
    site.cookies.clear()
    banned = site.post(
        "/api/moderation/broadcasts/1/actions",
        headers=headers,
        json={"action": "ban", "comment_id": cid, "reason": "abuse", "scope": "everywhere"},
    )
    assert banned.status_code == 200, banned.text
    fresh = Person(site, oidc, "wes")
    fresh.sign_in("facebook")
    assert fresh.session()["nickname"] == "웨스"
    assert fresh.post("다른 브라우저", "w2").json()["error"]["code"] == "banned"


def test_an_open_socket_stops_posting_once_the_account_is_deleted(
    site: TestClient, oidc: OidcProvider, settings_for: Any
) -> None:
    """A member's WebSocket opened before the account was deleted (elsewhere) cannot post
    under the deleted name afterwards: it is told the session ended."""
    xena = Person(site, oidc, "xena")
    xena.sign_in("kakao", "지나간이름")
    site.cookies.clear()
    for cookie in xena.app_cookies:
        site.cookies.jar.set_cookie(cookie)
    with site.websocket_connect("/ws/broadcasts/1") as ws:
        hello = ws.receive_json()
        assert hello["you"]["mark"] == "kakao"
        other = Person(site, oidc, "xena")
        other.app_cookies = list(xena.app_cookies)
        other.app(
            "DELETE",
            "/api/account",
            json={"comments": "keep"},
            headers={"x-csrf-token": other.session()["csrf_token"]},
        )
        ws.send_json({"type": "post", "text": "삭제 뒤", "client_id": "late"})
        while (frame := ws.receive_json())["type"] not in ("error", "ack"):
            pass
        assert (frame["type"], frame.get("code")) == ("error", "no_session")
    with db(settings_for()) as conn:
        assert conn.execute(
            "SELECT COUNT(*) FROM comments WHERE author_name = '지나간이름'"
        ).fetchone() == (0,)


def test_cli_prints_a_staff_link_that_works(
    site: TestClient, oidc: OidcProvider, settings_for: Any, capsys: Any, monkeypatch: Any
) -> None:
    """`live-seoul link-provider USERNAME` prints the same one-hour link as the admin API;
    an unknown username is an error naming the field."""
    from web.cli import main

    settings = settings_for()
    staff(settings, site, "moderator")
    site.cookies.clear()
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("PUBLIC_BASE_URL", APP)
    assert main(["link-provider", "nobody"]) == 2
    assert "username" in capsys.readouterr().err
    assert main(["link-provider", "MODERATOR1"]) == 0
    url = capsys.readouterr().out.strip()
    yuri = Person(site, oidc, "yuri")
    assert yuri.app("GET", url).headers["location"] == "/account"
    yuri.finish(yuri.to_callback("kakao"))
    assert yuri.session()["role"] == "moderator"


def test_member_logout_ends_every_copy_of_the_cookie(site: TestClient, oidc: OidcProvider) -> None:
    """After a member logs out, a copy of their cookie is refused too; signing in again
    works (a new session)."""
    zoe = Person(site, oidc, "zoe")
    zoe.sign_in("naver", "조이")
    copy = list(zoe.app_cookies)
    out = zoe.app("POST", "/api/logout", headers={"x-csrf-token": zoe.session()["csrf_token"]})
    assert out.status_code == 200
    thief = Person(site, oidc, "zoe")
    thief.app_cookies = copy
    assert thief.session()["role"] == "anonymous"
    zoe.finish(zoe.to_callback("naver"))
    assert zoe.session()["nickname"] == "조이"
