"""The web package's stores on both engines: staff accounts and their sessions, members and
their provider links, share-click counters."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from tests.support import migrated
from web.identity import store as account_store
from web.identity.members import LinkTaken, MemberStore
from web.identity.store import AccountError, AccountStore
from web.ops.retention import run_once
from web.share.clicks import ShareClickStore

PASSWORD = "a-long-password"


async def test_accounts_sessions_and_epochs(database_url: str) -> None:
    """Accounts are created once per normalised name (also when two hosts race), log in,
    and every change or logout ends the sessions it should."""
    async with migrated(database_url) as db, migrated(database_url) as other_host:
        store, other = AccountStore(db), AccountStore(other_host)
        results = await asyncio.gather(
            store.create("kim", PASSWORD, "official", "김주무관"),
            other.create("KIM", PASSWORD, "official"),
            return_exceptions=True,
        )
        assert sorted(type(r).__name__ for r in results) == ["Account", "AccountError"]
        kim = await store.find("kim")
        assert kim is not None and kim.session_epoch == 0
        with pytest.raises(AccountError) as taken:
            await store.create("k1m", PASSWORD, "official")
        assert "confused" in str(taken.value)
        assert (await store.authenticate("KIM", PASSWORD)) == kim
        assert await store.authenticate("kim", "wrong-password!") is None

        assert await other.session_live("s1", kim.id, 0)
        moved = await store.set_role(kim.id, "moderator")
        assert (moved.role, moved.session_epoch) == ("moderator", 1)
        assert not await other.session_live("s1", kim.id, 0)
        assert await other.session_live("s1", kim.id, 1)
        await store.revoke_session("s1", kim.id, timedelta(days=1))
        await store.revoke_session("s1", kim.id, timedelta(days=1))  # idempotent
        assert not await other.session_live("s1", kim.id, 1)
        assert await other.session_live("s2", kim.id, 1)
        await store.set_disabled(kim.id, True)
        assert not await other.session_live("s2", kim.id, 2)
        assert await store.get(kim.id) is None
        with pytest.raises(AccountError):
            await store.set_role(9999, "admin")


def test_an_unknown_name_costs_the_hash_a_known_one_does() -> None:
    """ "No such user" verifies against a stand-in hash written into the code: it must carry
    the hasher's parameters (memory, passes, lanes), or an unknown name would answer faster
    (or slower) than a wrong password, and tell which names exist."""
    dummy, hasher = account_store._DUMMY_HASH, account_store._hasher
    assert dummy.startswith("$argon2id$")
    assert not hasher.check_needs_rehash(dummy)
    assert hasher.check_needs_rehash(dummy.replace("m=65536", "m=32768"))  # the check can fail


async def test_members_links_and_session_names(database_url: str) -> None:
    """A member with its first link; a taken identity is refused; the last link stays; a
    logged-out session or a deleted member has no name."""
    async with migrated(database_url) as db:
        accounts, members = AccountStore(db), MemberStore(db)
        member = await members.create("시민1", "kakao", "subject-a")
        with pytest.raises(LinkTaken):
            await members.create("시민2", "kakao", "subject-a")
        await members.link("naver", "subject-b", member_id=member.id)
        await members.link("naver", "subject-b", member_id=member.id)  # idempotent
        staff = await accounts.create("mod", PASSWORD, "moderator")
        with pytest.raises(LinkTaken):
            await members.link("naver", "subject-b", account_id=staff.id)
        await members.link("google", "subject-c", account_id=staff.id)
        assert [link.provider for link in await members.staff_links(staff.id)] == ["google"]
        found = await members.get(member.id)
        assert found is not None
        assert sorted(link.provider for link in found.links) == ["kakao", "naver"]
        assert await members.unlink(member.id, "kakao")
        assert not await members.unlink(member.id, "naver")  # the last one stays
        await members.rename(member.id, "새이름")
        assert await members.session_name(member.id, "sid-1") == "새이름"
        await accounts.revoke_session("sid-1", 0, timedelta(days=1))
        assert await members.session_name(member.id, "sid-1") is None
        assert await members.delete(member.id)
        assert await members.session_name(member.id, "sid-2") is None
        assert await members.find_link("naver", "subject-b") is None
        again = await members.create("시민3", "kakao", "subject-a")
        assert again.id > member.id  # ids are never reused


async def test_share_clicks_count_per_page_and_network(database_url: str) -> None:
    """Concurrent clicks are all counted; counts order by clicks, totals per network."""
    async with migrated(database_url) as db:
        shares = ShareClickStore(db)
        await asyncio.gather(
            *(shares.record("live", "1", "kakaotalk") for _ in range(5)),
            shares.record("replay", "7", "x"),
            shares.record("replay", "7", "kakaotalk"),
        )
        counts = await shares.counts()
        top = counts[0]
        assert (top.kind, top.target, top.network, top.clicks) == ("live", "1", "kakaotalk", 5)
        assert len(counts) == 3
        assert await shares.totals() == {"kakaotalk": 6, "x": 1}


async def test_a_run_once_job_runs_on_one_host_at_a_time(database_url: str) -> None:
    """On PostgreSQL the host holding a job's lock runs it and every other host skips it
    until it ends; on SQLite (one machine) every caller runs it."""
    async with migrated(database_url) as first, migrated(database_url) as second:
        async with run_once(first, "retention") as a:
            async with run_once(second, "retention") as b:
                assert a is True
                assert b is (first.engine == "sqlite")
            async with run_once(second, "other job") as c:
                assert c is True
        async with run_once(second, "retention") as again:
            assert again is True
