"""Web Push reminders: endpoint checks, the store, and real encrypted deliveries to a local
push service (VAPID signature checked, payload decrypted) for go-live and answers."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support import migrated, seed_broadcast, wait_for
from tests.web.pushkit import PushService, vapid_keys
from tests.web.test_questions_api import Users, ask, make_staff
from web.app import create_app
from web.push.messages import (
    Notice,
    PushSubscription,
    SubscriptionError,
    check_endpoint,
    live_notice,
    parse_subscription,
    public_addresses,
)
from web.push.sender import PushSender, Reminder, VapidKeys
from web.push.store import PushStore
from web.settings import Settings, SettingsError

PUBLIC, PRIVATE = vapid_keys()
P256DH = vapid_keys()[0]  # a point on P-256 (65 bytes, first byte 0x04), base64url
AUTH = "A" * 22  # 16 bytes


# ---- pure: which endpoints, which keys ------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://push.example.com/x",  # not https
        "https://127.0.0.1/x",  # loopback
        "https://10.0.0.5/x",  # private
        "https://169.254.169.254/latest/meta",  # link-local (cloud metadata)
        "https://[::1]/x",  # IPv6 loopback
        "https://[fd00::1]/x",  # IPv6 unique local
        "https://localhost/x",
        "https://push.internal/x",
        "https://intranet/x",  # a bare name resolves inside the network
        "https://user:pw@push.example.com/x",
        "https://push.example.com:8443/x",
        "ftp://push.example.com/x",
        "https://push.example.com/\x00",
    ],
)
def test_endpoints_the_server_must_not_post_to_are_refused(url: str) -> None:
    """Non-https, internal and odd endpoints are refused with the field named."""
    with pytest.raises(SubscriptionError) as caught:
        check_endpoint(url)
    assert caught.value.field == "subscription.endpoint"


def test_public_https_endpoints_pass_and_loopback_only_when_allowed() -> None:
    """Real push services pass; http://127.0.0.1 passes only with the test setting."""
    check_endpoint("https://fcm.googleapis.com/fcm/send/abc")
    check_endpoint("https://updates.push.services.mozilla.com/wpush/v2/abc")
    check_endpoint("https://8.8.8.8/x")
    with pytest.raises(SubscriptionError):
        check_endpoint("http://127.0.0.1:9/push/a")
    check_endpoint("http://127.0.0.1:9/push/a", allow_loopback=True)
    with pytest.raises(SubscriptionError):
        check_endpoint("http://10.1.2.3:9/push/a", allow_loopback=True)


def test_resolved_addresses_must_all_be_public() -> None:
    """One private address among a name's addresses is enough to refuse it."""
    assert public_addresses(["142.250.1.1", "2607:f8b0::1"])
    assert not public_addresses(["142.250.1.1", "192.168.0.1"])
    assert not public_addresses([])
    assert not public_addresses(["127.0.0.1"])
    assert public_addresses(["127.0.0.1"], allow_loopback=True)


def test_subscription_keys_are_checked() -> None:
    """p256dh must be a 65-byte uncompressed point on P-256 and auth 16 bytes, base64url."""
    good = {"endpoint": "https://push.example.com/x", "keys": {"p256dh": P256DH, "auth": AUTH}}
    assert parse_subscription(good) == PushSubscription("https://push.example.com/x", P256DH, AUTH)
    for keys, bad in (
        ({"p256dh": "Ag" + "A" * 85, "auth": AUTH}, "p256dh"),
        ({"p256dh": "BA" + "A" * 85, "auth": AUTH}, "p256dh"),  # 04, then (0, 0): off the curve
        ({"p256dh": P256DH, "auth": "AAAA"}, "auth"),
        ({"p256dh": P256DH + "<>", "auth": AUTH}, "p256dh"),
        ({"p256dh": 5, "auth": AUTH}, "p256dh"),
    ):
        with pytest.raises(SubscriptionError) as caught:
            parse_subscription({**good, "keys": keys})
        assert caught.value.field == f"subscription.keys.{bad}"
    with pytest.raises(SubscriptionError):
        parse_subscription("nope")


def test_vapid_settings_go_together() -> None:
    """A public key without a private key (or a bad subject) is a settings error."""
    with pytest.raises(SettingsError, match="VAPID"):
        Settings.from_env({"VAPID_PUBLIC_KEY": PUBLIC})
    with pytest.raises(SettingsError, match="VAPID_SUBJECT"):
        Settings.from_env({"VAPID_SUBJECT": "someone"})
    assert Settings.from_env(
        {"VAPID_PUBLIC_KEY": PUBLIC, "VAPID_PRIVATE_KEY": PRIVATE}
    ).push_enabled


def test_notices_are_translated() -> None:
    """The go-live notice is written in the subscriber's language."""
    assert live_notice("ko", 3, "시장과의 대화").title == "지금 방송을 시작했습니다"
    assert live_notice("en", 3, "x").title == "On air now"
    assert live_notice("ja", 3, "x").url == "/live/3"


async def test_a_full_queue_drops_instead_of_waiting(tmp_path: Path) -> None:
    """offer() never waits: beyond the queue's size a reminder is dropped and counted."""
    async with migrated(tmp_path / "q.db") as db:
        sender = PushSender(
            PushStore(db, timedelta(days=1)),
            VapidKeys(PUBLIC, PRIVATE, "mailto:a@b.c"),
            queue_size=2,
        )
        reminder = Reminder("broadcast", 1, lambda _: Notice("t", "b", "/", "x"))
        assert [sender.offer(reminder) for _ in range(3)] == [True, True, False]
        assert sender.dropped == 1
        off = PushSender(PushStore(db, timedelta(days=1)), None, queue_size=2)
        assert off.offer(reminder) is False and off.dropped == 0


async def test_store_expiry_cancel_and_forget(database_url: str) -> None:
    """Expired subscriptions are never recipients and are pruned; cancelling the last
    reminder deletes the subscription; forget deletes a person's subscriptions."""
    async with migrated(database_url) as db:
        store = PushStore(db, timedelta(days=90))
        now = datetime.now(UTC)
        old = PushSubscription("https://push.example.com/old", P256DH, AUTH)
        new = PushSubscription("https://push.example.com/new", P256DH, AUTH)
        await store.remind(old, "g:a", "ko", "broadcast", 7, now - timedelta(days=91))
        await store.remind(new, "g:b", "en", "broadcast", 7, now)
        await store.remind(new, "g:b", "en", "question", 9, now)
        assert [r.subscription.endpoint for r in await store.recipients("broadcast", 7, now)] == [
            new.endpoint
        ]
        assert await store.prune(now) == 1
        assert await store.cancel(new.endpoint, "broadcast", 7) is True
        assert await store.reminders(new.endpoint, now) == [("question", 9)]
        assert await store.forget("g:b") == 1
        assert await store.reminders(new.endpoint, now) == []


# ---- in process: real deliveries to a local push service -------------------------------


@pytest.fixture
def push() -> Iterator[PushService]:
    with PushService(PUBLIC) as service:
        yield service


@pytest.fixture
def users(settings: Settings) -> Iterator[Users]:
    seed_broadcast(settings.database_path, 1)
    seed_broadcast(settings.database_path, 2, title="다음 주 시민 토론", status="planned")
    make_staff(settings.database_path, "kim", "official", "교통정책과")
    make_staff(settings.database_path, "desk", "operator", "")  # runs the schedule desk
    pushing = dataclasses.replace(
        settings, vapid_public_key=PUBLIC, vapid_private_key=PRIVATE, push_allow_loopback=True
    )
    with TestClient(create_app(pushing)) as client:
        u = Users(client)
        u.guest("시민A")
        u.login("kim")
        u.login("desk")
        yield u


ORIGIN = {"Origin": "http://testserver"}


def subscribe(
    client: TestClient, subscription: dict[str, Any], kind: str, target: int, **headers: str
) -> Any:
    return client.post(
        "/api/push/reminders",
        json={"subscription": subscription, "kind": kind, "target": target},
        headers={**ORIGIN, **headers},
    )


def rows(db: Path) -> list[tuple[str, str, int]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT s.endpoint, r.kind, r.target FROM push_subscriptions s"
            " LEFT JOIN push_reminders r USING (endpoint)"
            " ORDER BY 1, 2"
        ).fetchall()


def test_go_live_is_pushed_encrypted_and_signed(
    users: Users, push: PushService, settings: Settings
) -> None:
    """A guest without a nickname asks to be told; going live sends one push that the
    local push service verifies (VAPID) and decrypts: title, programme, link; once only."""
    phone = push.browser("phone")
    users.client.cookies.clear()
    answer = subscribe(
        users.client, phone.subscription(), "broadcast", 2, **{"Accept-Language": "en"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["reminding"] is True
    assert users.post("desk", "/api/broadcasts/2/live").status_code == 200
    [delivery] = push.wait(1)
    assert delivery.message == {
        "title": "On air now",
        "body": "다음 주 시민 토론",
        "url": "/live/2",
        "tag": "live-2",
    }
    assert delivery.claims["sub"] == settings.vapid_subject
    assert delivery.headers["urgency"] == "high"
    wait_for(lambda: rows(settings.database_path) == [], what="the fired reminder to go")


def test_an_answer_is_pushed_to_who_asked_for_it(
    users: Users, push: PushService, settings: Settings
) -> None:
    """Only the subscription that asked for the question's reminder hears of its answer."""
    qid = ask(users, "시민A", "버스 배차 간격을 줄여 주세요")
    asker = push.browser("asker")
    other = push.browser("other")
    users.use("시민A")
    assert subscribe(users.client, asker.subscription(), "question", qid).status_code == 200
    assert subscribe(users.client, other.subscription(), "broadcast", 2).status_code == 200
    answered = users.post(
        "kim", f"/api/questions/{qid}/answer", {"text": "다음 달부터 줄입니다.", "mode": "written"}
    )
    assert answered.status_code == 200, answered.text
    [delivery] = push.wait(1)
    assert delivery.path == "/push/asker"
    assert delivery.message["title"] == "팔로우한 질문에 답변이 달렸습니다"
    assert delivery.message["url"] == f"/broadcasts/1/questions#q-{qid}"
    wait_for(
        lambda: [r[0] for r in rows(settings.database_path)] == [other.endpoint],
        what="the answered reminder to go",
    )


def test_gone_subscriptions_are_removed(
    users: Users, push: PushService, settings: Settings
) -> None:
    """When the push service answers 410, the subscription (and its reminders) is deleted."""
    push.status = 410
    phone = push.browser("phone")
    users.client.cookies.clear()
    subscribe(users.client, phone.subscription(), "broadcast", 2)
    qid = ask(users, "시민A", "질문")
    users.client.cookies.clear()
    subscribe(users.client, phone.subscription(), "question", qid)
    assert len(rows(settings.database_path)) == 2
    users.post("desk", "/api/broadcasts/2/live")
    push.wait(1)
    wait_for(lambda: rows(settings.database_path) == [], what="the gone subscription deleted")


def test_a_stalled_push_service_does_not_slow_going_live(
    users: Users, push: PushService, settings: Settings
) -> None:
    """With the push service holding every request, going live still answers at once."""
    push.gate.clear()
    users.client.cookies.clear()
    subscribe(users.client, push.browser("slow").subscription(), "broadcast", 2)
    response = users.post("desk", "/api/broadcasts/2/live")
    assert response.status_code == 200
    assert push.deliveries == []  # the push is still held by the service
    push.gate.set()
    push.wait(1)


def test_refusals_are_precise(users: Users, settings: Settings) -> None:
    """Internal endpoints, unknown or live targets, cross-site calls and a disabled server
    are each refused with a clear field; nothing is stored."""
    client = users.client
    client.cookies.clear()
    sub = {"endpoint": "https://10.0.0.1/push", "keys": {"p256dh": P256DH, "auth": AUTH}}
    bad = subscribe(client, sub, "broadcast", 2)
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "subscription.endpoint"
    sub["endpoint"] = "https://push.example.com/x"
    assert subscribe(client, sub, "broadcast", 999).status_code == 404
    live = subscribe(client, sub, "broadcast", 1)
    assert live.status_code == 409 and live.json()["error"]["field"] == "target"
    assert subscribe(client, sub, "comment", 1).json()["error"]["field"] == "kind"
    cross = client.post(
        "/api/push/reminders",
        json={"subscription": sub, "kind": "broadcast", "target": 2},
        headers={"Origin": "https://evil.example"},
    )
    assert cross.status_code == 403
    no_origin = client.post(
        "/api/push/reminders", json={"subscription": sub, "kind": "broadcast", "target": 2}
    )
    assert no_origin.status_code == 403
    assert rows(settings.database_path) == []
    with TestClient(create_app(settings)) as plain:
        off = plain.post(
            "/api/push/reminders",
            json={"subscription": sub, "kind": "broadcast", "target": 2},
            headers=ORIGIN,
        )
        assert off.status_code == 404 and off.json()["error"]["code"] == "push_disabled"
        assert plain.get("/api/push/reminders").json()["enabled"] is False


def test_forget_deletes_the_persons_subscriptions(users: Users, settings: Settings) -> None:
    """A session's subscriptions go with `POST /api/push/forget`; a guest's without a
    session stay until they expire or are cancelled."""
    sub = {"endpoint": "https://push.example.com/mine", "keys": {"p256dh": P256DH, "auth": AUTH}}
    users.use("시민A")
    assert subscribe(users.client, sub, "broadcast", 2).status_code == 200
    users.client.cookies.clear()
    other = {**sub, "endpoint": "https://push.example.com/anonymous"}
    assert subscribe(users.client, other, "broadcast", 2).status_code == 200
    gone = users.post("시민A", "/api/push/forget")
    assert gone.json() == {"removed": 1}
    assert [r[0] for r in rows(settings.database_path)] == [other["endpoint"]]
    listed = users.client.get("/api/push/reminders", params={"endpoint": other["endpoint"]}).json()
    assert listed["reminders"] == [{"kind": "broadcast", "target": 2}]
    cancel = users.client.post(
        "/api/push/reminders/cancel",
        json={"endpoint": other["endpoint"], "kind": "broadcast", "target": 2},
        headers=ORIGIN,
    )
    assert cancel.json()["changed"] is True
    assert rows(settings.database_path) == []
