"""The web stores, the schedule and retention go by the database's clock, never the
host's: with this process's clock days off, stamps still lie between two readings of the
database's clock, a revocation written by a host that runs behind is not pruned by one
that does not, a push subscription does not expire on arrival, and retention deletes
nothing young. Both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from livechat import CommentStore, Identity, NewComment, OpsStore
from schedule import BroadcastDraft, ScheduleStore
from tests.clock import SkewedHosts, between, database_now
from tests.support import migrated
from tests.web.test_push import AUTH, P256DH
from web.identity.members import MemberStore
from web.identity.store import AccountStore
from web.ops.retention import prune_once
from web.push.messages import PushSubscription
from web.push.store import PushStore
from web.share.clicks import ShareClickStore

DAY = timedelta(days=1)


async def test_web_and_schedule_stamps_are_the_database_clock(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Accounts, members and their links, share clicks, push subscriptions and reminders,
    broadcasts: every stamp is the database's, from a host two days behind."""
    SkewedHosts(monkeypatch, -2 * DAY)
    async with migrated(database_url) as db:
        before = await database_now(db)
        accounts, members = AccountStore(db), MemberStore(db)
        kim = await accounts.create("kim", "a-long-password", "official", "김주무관")
        member = await members.create("시민1", "kakao", "subject-a")
        await members.link("naver", "subject-b", member_id=member.id)
        await ShareClickStore(db).record("live", "1", "x")
        await ShareClickStore(db).record("live", "1", "x")
        push = PushStore(db, DAY)
        endpoint = "https://push.example.com/a"
        expires = await push.remind(
            PushSubscription(endpoint, P256DH, AUTH), "g:a", "ko", "broadcast", 7
        )
        start = datetime(2027, 1, 5, 1, 0, tzinfo=UTC)
        broadcast = await ScheduleStore(db).create(
            BroadcastDraft("확대간부회의", "회의", start, start + timedelta(hours=1))
        )
        after = await database_now(db)
        stamps: dict[str, str] = {
            "account": await db.fetchval("SELECT created_at FROM accounts WHERE id = ?", (kim.id,)),
            "member": member.created_at,
            "consented": member.consented_at,
            "broadcast": await db.fetchval(
                "SELECT created_at FROM broadcasts WHERE id = ?", (broadcast.id,)
            ),
        }
        for n, (at,) in enumerate(await db.fetch("SELECT linked_at FROM provider_links")):
            stamps[f"link {n}"] = at
        for n, row in enumerate(await db.fetch("SELECT first_at, last_at FROM share_clicks")):
            stamps |= {f"click first {n}": row[0], f"click last {n}": row[1]}
        row = await db.fetchone("SELECT created_at, expires_at FROM push_subscriptions")
        assert row is not None
        stamps["push"] = row[0]
        stamps["reminder"] = await db.fetchval("SELECT created_at FROM push_reminders")
        assert len(stamps) == 4 + 2 + 2 + 2, stamps
        # push stores whole seconds: truncate the bounds' start to the second
        wrong = {k: v for k, v in stamps.items() if not between(v, before[:19], after)}
        assert not wrong, (before, after, wrong)
        assert between((datetime.fromisoformat(row[1]) - DAY).isoformat(), before[:19], after), row[
            1
        ]
        assert expires.isoformat(timespec="seconds") == row[1]
        # the subscription is alive for a day by the database's clock, on every host
        assert [r.subscription.endpoint for r in await push.recipients("broadcast", 7)] == [
            endpoint
        ]
        assert await push.reminders(endpoint) == [("broadcast", 7)]
        assert await push.prune() == 0


async def test_hosts_with_skewed_clocks_agree_on_expiry_and_retention(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A logout revoked on a host two days behind stays revoked when a host two days
    ahead revokes another session (which prunes expired revocations); retention of 30
    days run on a host 40 days ahead deletes nothing just written (given a `now` 40 days
    on, it does)."""
    hosts = SkewedHosts(monkeypatch, -2 * DAY)
    async with migrated(database_url) as db:
        accounts = AccountStore(db)
        kim = await accounts.create("kim", "a-long-password", "official")
        await accounts.revoke_session("s1", kim.id, DAY)
        hosts.offset = 2 * DAY
        await accounts.revoke_session("s2", kim.id, DAY)
        assert not await accounts.session_live("s1", kim.id)
        assert not await accounts.session_live("s2", kim.id)

        comments = CommentStore(db)
        for n in range(3):
            await comments.insert(NewComment(7, Identity(f"g:{n}", f"시민{n}"), "a", "안녕하세요"))
        hosts.offset = 40 * DAY
        ops = OpsStore(db, comments)
        assert await prune_once(ops, 30) == 0
        assert len(await comments.latest(7, 10)) == 3
        assert await prune_once(ops, 30, now=datetime.now(UTC) + 40 * DAY) == 3
