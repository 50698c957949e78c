"""Logins under attack: one normalised username for lookup and limits, look-alike names
refused, failures limited per name, account, address and site (shared through Redis, per
process without it), a bounded number of password hashes, and known browsers let in."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from livechat.moderation.reporting import FRESH_WEIGHT, report_weight
from tests.support import RedisServer, account_store, staff_database
from tests.web.addresskit import FromAddress, at
from web.app import create_app
from web.database import migrate
from web.identity.password_gate import PasswordGate, PasswordGateBusy
from web.identity.sessions import DEVICE_COOKIE
from web.identity.store import AccountError, AccountStore
from web.identity.usernames import username_key, username_skeleton
from web.settings import Settings

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One live broadcast, a moderator and an admin, hashed once."""
    return staff_database(
        tmp_path_factory.mktemp("login") / "template.db",
        PASSWORD,
        ("mod2", "moderator", "모더2"),
        ("admin", "admin", "관리자"),
    )


def _site(settings: Settings, template_db: Path) -> TestClient:
    """The app with an hour-long window, so no bucket refills during a slow test (each
    wrong login costs a real argon2 hash)."""
    if not settings.database_path.exists():
        shutil.copyfile(template_db, settings.database_path)
    slow = dataclasses.replace(settings, login_window_seconds=3600)
    return TestClient(FromAddress(create_app(slow)))


@pytest.fixture
def site(settings: Settings, template_db: Path) -> Iterator[TestClient]:
    with _site(settings, template_db) as client:
        yield client


def attempt(
    client: TestClient,
    username: str,
    password: str,
    address: str = "198.51.100.1",
) -> int:
    client.cookies.clear()
    response = client.post(
        "/api/login", json={"username": username, "password": password}, headers=at(address)
    )
    return response.status_code


def test_username_key_folds_width_space_and_case() -> None:
    """Full-width letters, ideographic spaces and capitals normalise to the plain name."""
    for variant in ("mod2", "mod2 ", " mod2", "mod2\u3000", "MOD2", "ｍｏｄ２", "\tMod2\n"):
        assert username_key(variant) == "mod2"
    assert username_skeleton("m0d_2") == username_skeleton("mod2") == username_skeleton("rnod.2")


@given(st.text())
@settings(max_examples=500)
def test_username_key_is_its_own_key(raw: str) -> None:
    """Normalising twice changes nothing: a key never maps to a second key."""
    assert username_key(username_key(raw)) == username_key(raw)


@given(st.floats(min_value=0, max_value=10**7), st.booleans())
def test_report_weight_grows_with_history(age: float, commented: bool) -> None:
    """A report weighs between a fresh cookie's 0.25 and 1; more history never weighs less."""
    weight = report_weight(age, commented)
    assert FRESH_WEIGHT <= weight <= 1.0
    assert report_weight(age + 3600, commented) >= weight
    assert report_weight(age, True) >= weight
    assert report_weight(None, False) == FRESH_WEIGHT and report_weight(None, False, True) == 1


def test_spelling_variants_share_one_throttle(site: TestClient) -> None:
    """Once `mod2` is locked at an address, no spelling of it gets a fresh guess — not even
    with the right password (the bypass: "mod2 ", " mod2", "mod2\\u3000")."""
    for _ in range(5):
        assert attempt(site, "mod2", "wrong password!") == 401
    for variant in ("mod2", "mod2 ", " mod2", "mod2\u3000", "MOD2", "ｍｏｄ２"):
        assert attempt(site, variant, "wrong password!") == 429, variant
        assert attempt(site, variant, PASSWORD) == 429, variant
    assert attempt(site, "mod2", PASSWORD, address="198.51.100.2") == 200


def test_variant_spelling_logs_in_to_the_one_account(site: TestClient) -> None:
    """The lookup uses the same normalised form: `ＭＯＤ２\\u3000` is the account `mod2`."""
    site.cookies.clear()
    response = site.post("/api/login", json={"username": "ＭＯＤ２\u3000", "password": PASSWORD})
    assert response.status_code == 200
    assert response.json()["nickname"] == "모더2"


def test_lookalike_usernames_are_refused(tmp_path: Path) -> None:
    """Names normalising to, or looking like, an existing one cannot be created."""
    path = tmp_path / "a.db"
    migrate(path)

    async def run() -> list[str]:
        async with account_store(path) as store:
            return await _refusals(store)

    async def _refusals(store: AccountStore) -> list[str]:
        await store.create("mod2", PASSWORD, "moderator")
        refused = []
        for name in ("ｍｏｄ２", "MOD2", " mod2 ", "m0d2", "rnod2", "mod_2", "mod.2", "mоd2"):
            with pytest.raises(AccountError) as exc:
                await store.create(name, PASSWORD, "moderator")
            assert exc.value.field == "username"
            refused.append(str(exc.value))
        ok = await store.create("mod3", PASSWORD, "moderator")
        assert ok.username == "mod3"
        return refused

    messages = asyncio.run(run())
    assert messages[0] == "already taken"
    assert "confused with 'mod2'" in messages[3]
    assert "Latin letters" in messages[-1]  # Cyrillic о inside a Latin name


def test_changing_the_username_each_time_is_limited_per_address(site: TestClient) -> None:
    """An address guessing a new username every time is stopped after
    LOGIN_FAILURES_PER_ADDRESS failures; another address is not."""
    for n in range(20):
        assert attempt(site, f"user{n}", "wrong password!") == 401
    assert attempt(site, "user99", "wrong password!") == 429
    assert attempt(site, "mod2", PASSWORD) == 429
    assert attempt(site, "mod2", PASSWORD, address="198.51.100.9") == 200


def test_ipv6_addresses_of_one_slash64_count_as_one(site: TestClient) -> None:
    """Rotating through a /64 does not buy new guesses."""
    for n in range(20):
        assert attempt(site, f"user{n}", "wrong password!", address=f"2001:db8::{n + 1:x}") == 401
    assert attempt(site, "userx", "wrong password!", address="2001:db8::ffff") == 429
    assert attempt(site, "userx", "wrong password!", address="2001:db8:0:1::1") == 401


def test_global_limit_lets_known_browsers_in(settings: Settings, template_db: Path) -> None:
    """Past LOGIN_FAILURES_GLOBAL nobody new may try, but a browser that logged in to the
    account before still logs in (its device cookie), while the same cookie does not help
    with another account."""
    small = dataclasses.replace(settings, login_failures_global=6)
    with _site(small, template_db) as site:
        site.cookies.clear()
        assert (
            site.post(
                "/api/login",
                json={"username": "admin", "password": PASSWORD},
                headers=at("192.0.2.1"),
            ).status_code
            == 200
        )
        device = site.cookies.get(DEVICE_COOKIE)
        assert device
        for n in range(6):
            assert attempt(site, f"user{n}", "wrong", address=f"203.0.113.{n}") == 401
        assert attempt(site, "admin", PASSWORD, address="192.0.2.1") == 429
        site.cookies.clear()
        site.cookies.set(DEVICE_COOKIE, device)
        assert (
            site.post(
                "/api/login",
                json={"username": "admin", "password": PASSWORD},
                headers=at("192.0.2.1"),
            ).status_code
            == 200
        )
        site.cookies.clear()
        site.cookies.set(DEVICE_COOKIE, device)
        assert (
            site.post(
                "/api/login",
                json={"username": "mod2", "password": PASSWORD},
                headers=at("192.0.2.1"),
            ).status_code
            == 429
        )


def test_limits_are_shared_through_redis_and_local_without_it(
    settings: Settings, template_db: Path, redis_server: RedisServer
) -> None:
    """Two processes' worth of apps on one Redis count failures together; with Redis gone
    each still limits on its own."""
    shared = dataclasses.replace(settings, redis_url=redis_server.url)
    with _site(shared, template_db) as one, _site(shared, template_db) as two:
        for n in range(5):
            assert attempt(one if n % 2 else two, "mod2", "wrong password!") == 401
        assert attempt(one, "mod2", PASSWORD) == 429
        assert attempt(two, "mod2", PASSWORD) == 429
        redis_server.stop()
        for _ in range(5):
            assert attempt(one, "admin", "wrong password!", address="198.51.100.5") == 401
        assert attempt(one, "admin", PASSWORD, address="198.51.100.5") == 429


def test_password_gate_refuses_past_its_queue_and_keeps_a_trusted_slot() -> None:
    """With every slot busy and the queue full a login is refused at once; a trusted login
    still gets the reserved slot."""

    async def run() -> None:
        gate = PasswordGate(slots=1, queue=1)
        release = asyncio.Event()

        async def hold(trusted: bool = False) -> None:
            async with gate.slot(trusted):
                await release.wait()

        running = asyncio.create_task(hold())
        waiting = asyncio.create_task(hold())
        await asyncio.sleep(0)
        with pytest.raises(PasswordGateBusy):
            async with gate.slot():
                pass
        async with asyncio.timeout(1):
            async with gate.slot(trusted=True):
                pass
        assert gate.refused == 1
        release.set()
        await asyncio.gather(running, waiting)

    asyncio.run(run())


def test_login_busy_answers_503(settings: Settings, template_db: Path) -> None:
    """When every hashing slot is busy and the queue is full, a login is answered 503
    `login_busy` with Retry-After, without waiting for a hash."""
    tight = dataclasses.replace(settings, login_hash_concurrency=1, login_hash_queue=0)
    with _site(tight, template_db) as site, ThreadPoolExecutor(8) as pool:

        def post(n: int) -> httpx.Response:
            return site.post(
                "/api/login",
                json={"username": f"u{n}", "password": "x" * 12},
                headers=at(f"198.51.100.{n}"),
            )

        responses = list(pool.map(post, range(8)))
    codes = {r.status_code for r in responses}
    assert codes == {401, 503}, codes
    busy = next(r for r in responses if r.status_code == 503)
    assert busy.json()["error"]["code"] == "login_busy"
    assert busy.headers["retry-after"] == "1"


def test_trusted_login_pauses_new_hashes() -> None:
    """While a trusted login holds its slot, a stranger's login that gets a slot does not
    start hashing until the trusted one is done."""

    async def run() -> list[str]:
        gate = PasswordGate(slots=1, queue=4)
        order: list[str] = []
        trusted_in, release = asyncio.Event(), asyncio.Event()

        async def trusted() -> None:
            async with gate.slot(trusted=True):
                trusted_in.set()
                await release.wait()
                order.append("trusted done")

        async def stranger() -> None:
            async with gate.slot():
                order.append("stranger hashes")

        first = asyncio.create_task(trusted())
        await trusted_in.wait()
        second = asyncio.create_task(stranger())
        for _ in range(5):
            await asyncio.sleep(0)
        assert order == []
        release.set()
        await asyncio.gather(first, second)
        return order

    assert asyncio.run(run()) == ["trusted done", "stranger hashes"]
