"""Throw-away identities from one place: votes and reports capped per address and network
block, reports weighed so that one person's cookies cannot hide a comment, timeouts and
bans that also bind the address, and sockets capped per address."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.support import RedisServer, account_store, seed_broadcast
from tests.web.addresskit import FromAddress, at
from web.app import create_app
from web.identity.sessions import COOKIE, Session, SessionCodec, new_sid
from web.settings import Settings

PASSWORD = "correct horse battery"


@dataclasses.dataclass
class Who:
    cookie: str
    csrf: str
    address: str

    def headers(self) -> dict[str, str]:
        return {"cookie": f"{COOKIE}={self.cookie}", "x-csrf-token": self.csrf, **at(self.address)}


class Town:
    """The app, and people arriving from chosen addresses."""

    def __init__(self, client: TestClient, settings: Settings) -> None:
        self.c = client
        self.codec = SessionCodec(settings.secret_key, settings.session_max_age_days, False)

    def guest(self, address: str, nickname: str = "시민") -> Who:
        """A brand-new guest cookie (what a script mints per request)."""
        self.c.cookies.clear()
        response = self.c.post("/api/session", json={"nickname": nickname}, headers=at(address))
        assert response.status_code == 201
        cookie = self.c.cookies[COOKIE]
        self.c.cookies.clear()
        return Who(cookie, response.json()["csrf_token"], address)

    def seasoned(self, address: str, nickname: str = "단골") -> Who:
        """A guest whose session began two hours ago (signed as the server would have)."""
        session = Session(sid=new_sid(), nickname=nickname, issued_at=time.time() - 7200)
        return Who(self.codec._encode(session), self.codec.csrf_token(session), address)

    def login(self, username: str) -> Who:
        self.c.cookies.clear()
        response = self.c.post("/api/login", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200
        cookie = self.c.cookies[COOKIE]
        self.c.cookies.clear()
        return Who(cookie, response.json()["csrf_token"], "192.0.2.250")

    def post(self, who: Who, text: str = "안녕하세요") -> Any:
        return self.c.post(
            "/api/broadcasts/1/comments",
            headers=who.headers(),
            json={"text": text, "client_id": uuid.uuid4().hex},
        )

    def report(self, who: Who, comment_id: int) -> Any:
        return self.c.post(
            f"/api/comments/{comment_id}/reports", headers=who.headers(), json={"reason": "abuse"}
        )

    def act(self, who: Who, action: str, **body: Any) -> Any:
        return self.c.post(
            "/api/moderation/broadcasts/1/actions",
            headers=who.headers(),
            json={"action": action, **body},
        )


async def _accounts(path: Path) -> None:
    async with account_store(path) as store:
        await store.create("mod", PASSWORD, "moderator", "모더레이터")


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A live broadcast and a moderator, hashed once."""
    path = tmp_path_factory.mktemp("sybil") / "template.db"
    seed_broadcast(path, 1)
    asyncio.run(_accounts(path))
    return path


@contextlib.contextmanager
def town_with(settings: Settings, template_db: Path, **changes: Any) -> Iterator[Town]:
    shutil.copyfile(template_db, settings.database_path)
    tuned = dataclasses.replace(settings, comment_burst=1000, address_burst=1000, **changes)
    with TestClient(FromAddress(create_app(tuned))) as client:
        yield Town(client, tuned)


@pytest.fixture
def town(settings: Settings, template_db: Path) -> Iterator[Town]:
    with town_with(
        settings,
        template_db,
        votes_per_address=3,
        votes_per_network=5,
        reports_per_address=4,
        reports_per_network=6,
    ) as t:
        yield t


def test_sixty_cookies_from_one_address_cast_three_votes(town: Town) -> None:
    """Sixty fresh cookies from one address (the asker's own among them) count
    VOTES_PER_ADDRESS votes on a question; the rest of its /24 adds up to
    VOTES_PER_NETWORK; another network still votes."""
    asker = town.guest("203.0.113.5")
    asked = town.c.post(
        "/api/broadcasts/1/questions",
        headers=asker.headers(),
        json={"text": "버스 배차를 늘려 주세요", "client_id": "q1"},
    )
    qid = asked.json()["question"]["id"]
    assert town.c.post(f"/api/questions/{qid}/vote", headers=asker.headers()).status_code == 403
    codes = [
        town.c.post(
            f"/api/questions/{qid}/vote", headers=town.guest("203.0.113.5").headers()
        ).status_code
        for _ in range(60)
    ]
    assert codes.count(200) == 3 and codes.count(429) == 57
    refused = town.c.post(f"/api/questions/{qid}/vote", headers=town.guest("203.0.113.5").headers())
    assert refused.json()["error"]["code"] == "vote_limit"
    neighbours = [
        town.c.post(
            f"/api/questions/{qid}/vote", headers=town.guest(f"203.0.113.{n}").headers()
        ).status_code
        for n in range(10, 15)
    ]
    assert neighbours.count(200) == 2
    elsewhere = town.c.post(
        f"/api/questions/{qid}/vote", headers=town.guest("198.51.100.1").headers()
    )
    assert elsewhere.status_code == 200 and elsewhere.json()["votes"] == 6


def test_votes_over_websocket_count_against_the_address(town: Town) -> None:
    """The socket's `vote` command is capped by the socket's address too."""
    asker = town.guest("198.51.100.50")
    qid = town.c.post(
        "/api/broadcasts/1/questions",
        headers=asker.headers(),
        json={"text": "질문입니다", "client_id": "q2"},
    ).json()["question"]["id"]
    answers = []
    for _ in range(4):
        voter = town.guest("203.0.113.77")
        with town.c.websocket_connect("/ws/broadcasts/1", headers=voter.headers()) as ws:
            ws.send_json({"type": "vote", "question_id": qid})
            while (frame := ws.receive_json())["type"] not in ("question_done", "error"):
                pass
            answers.append(frame.get("code", frame["type"]))
    assert answers == ["question_done"] * 3 + ["vote_limit"]


def test_throwaway_cookies_from_one_address_cannot_hide_a_comment(town: Town) -> None:
    """Fresh cookies from one address weigh as one fresh reporter: never enough to hide,
    and the address may report only REPORTS_PER_ADDRESS times an hour."""
    cid = town.post(town.guest("198.51.100.9")).json()["id"]
    codes = [town.report(town.guest("203.0.113.5"), cid).status_code for _ in range(6)]
    assert codes == [201] * 4 + [429] * 2
    assert cid in [c["id"] for c in town.c.get("/api/broadcasts/1/comments").json()["items"]]


def test_established_reporters_on_one_network_do_not_hide(town: Town) -> None:
    """Even established reporters (old sessions, comments of their own) count once per
    network block: three of them on one /24 do not hide a comment; a fourth on another
    network, with two more, does."""
    cid = town.post(town.guest("198.51.100.9")).json()["id"]
    same = [town.seasoned(f"203.0.113.{n}") for n in (1, 2, 3)]
    for who in same:
        assert town.post(who).status_code == 201
        assert town.report(who, cid).json()["hidden"] is False
    others = [town.seasoned(f"192.0.{n}.1") for n in (1, 2)]
    for who in others:
        assert town.post(who).status_code == 201
    assert town.report(others[0], cid).json()["hidden"] is False
    assert town.report(others[1], cid).json()["hidden"] is True


def restriction_row(settings: Settings) -> tuple[Any, ...]:
    with contextlib.closing(sqlite3.connect(settings.database_path)) as db:
        row: tuple[Any, ...] = db.execute(
            "SELECT origin, origin_until, until FROM chat_restrictions"
        ).fetchone()
        return row


def test_ban_everywhere_binds_the_address_for_a_bounded_time(
    town: Town, settings: Settings
) -> None:
    """A guest banned everywhere cannot come back with a new cookie from the same address
    (`address_restricted`, with the end in Seoul time); a neighbour on another address
    can; lifting the ban frees the address."""
    troll, mod = town.guest("203.0.113.66"), town.login("mod")
    cid = town.post(troll).json()["id"]
    ban = town.act(mod, "ban", comment_id=cid, reason="abuse", scope="everywhere")
    assert ban.status_code == 200, ban.text
    assert town.post(troll).json()["error"]["code"] == "banned"
    again = town.post(town.guest("203.0.113.66"))
    assert again.status_code == 403
    error = again.json()["error"]
    assert error["code"] == "address_restricted" and "Seoul time" in error["message"]
    assert town.post(town.guest("203.0.113.67")).status_code == 201
    origin, origin_until, until = restriction_row(settings)
    assert origin == "203.0.113.66" and until is None
    hours = (datetime.fromisoformat(origin_until) - datetime.now().astimezone()).total_seconds()
    assert 23.9 * 3600 < hours <= 24 * 3600
    restriction_id = ban.json()["result"]["restriction"]["id"]
    assert town.act(mod, "unban", restriction_id=restriction_id).status_code == 200
    assert town.post(town.guest("203.0.113.66")).status_code == 201


def test_timeout_binds_the_address_no_longer_than_itself(town: Town, settings: Settings) -> None:
    """A 10-minute timeout binds the address for those 10 minutes, not 24 hours."""
    troll, mod = town.guest("203.0.113.70"), town.login("mod")
    cid = town.post(troll).json()["id"]
    assert town.act(mod, "timeout", comment_id=cid, reason="spam", minutes=10).status_code == 200
    assert town.post(town.guest("203.0.113.70")).json()["error"]["code"] == "address_restricted"
    _, origin_until, until = restriction_row(settings)
    assert origin_until == until


def test_binding_can_be_turned_off(settings: Settings, template_db: Path) -> None:
    """With RESTRICTION_ADDRESS_HOURS=0 a ban binds the identity only."""
    with town_with(settings, template_db, restriction_address_hours=0) as town:
        troll, mod = town.guest("203.0.113.80"), town.login("mod")
        cid = town.post(troll).json()["id"]
        assert (
            town.act(mod, "ban", comment_id=cid, reason="abuse", scope="everywhere").status_code
            == 200
        )
        assert town.post(town.guest("203.0.113.80")).status_code == 201


def test_sockets_are_capped_per_address(settings: Settings, template_db: Path) -> None:
    """Past CONNECTIONS_PER_ADDRESS one address is told `too_many_connections` and closed
    with 1013; another address connects, and /api/ still answers."""
    with (
        town_with(settings, template_db, connections_per_address=2) as town,
        contextlib.ExitStack() as stack,
    ):
        for _ in range(2):
            ws = stack.enter_context(
                town.c.websocket_connect("/ws/broadcasts/1", headers=at("203.0.113.1"))
            )
            assert ws.receive_json()["type"] == "hello"
        with town.c.websocket_connect("/ws/broadcasts/1", headers=at("203.0.113.1")) as refused:
            frame = refused.receive_json()
            assert frame["code"] == "too_many_connections" and frame["retry_after"] == 30
            with pytest.raises(WebSocketDisconnect) as closed:
                refused.receive_json()
            assert closed.value.code == 1013
        with town.c.websocket_connect("/ws/broadcasts/1", headers=at("203.0.113.2")) as other:
            assert other.receive_json()["type"] == "hello"
        assert town.c.get("/api/broadcasts/1/comments").status_code == 200


def test_vote_caps_hold_across_processes_through_redis(
    settings: Settings, template_db: Path, redis_server: RedisServer
) -> None:
    """Two apps on one Redis share the per-address vote count: cookies from one address
    split between them still cast VOTES_PER_ADDRESS votes in all."""
    shared = {"redis_url": redis_server.url, "votes_per_address": 3}
    with town_with(settings, template_db, **shared) as one:
        asker = one.guest("198.51.100.50")
        qid = one.c.post(
            "/api/broadcasts/1/questions",
            headers=asker.headers(),
            json={"text": "두 프로세스", "client_id": "q3"},
        ).json()["question"]["id"]
        with TestClient(
            FromAddress(create_app(dataclasses.replace(settings, **shared)))
        ) as other_client:
            two = Town(other_client, settings)
            codes = [
                town.c.post(
                    f"/api/questions/{qid}/vote", headers=town.guest("203.0.113.5").headers()
                ).status_code
                for town in (one, two, one, two, one, two)
            ]
    assert codes.count(200) == 3 and codes.count(429) == 3
