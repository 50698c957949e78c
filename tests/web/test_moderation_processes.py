"""Every moderation action propagates across two real app processes sharing a real Redis
and one SQLite file: an action taken on process A is seen and enforced on process B."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.support import (
    TIMEOUT,
    AppServer,
    RedisServer,
    account_store,
    seed_broadcast,
    server_pair,
)

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery"
PROPAGATION_LIMIT = 1.0  # seconds: "every viewer on every process within a second"


async def create_staff(db: Path) -> None:
    async with account_store(db) as store:
        await store.create("mod", PASSWORD, "moderator", "모더레이터")


class Person:
    """An HTTP session (cookie + CSRF) on one process, and optionally its WebSocket."""

    def __init__(self, server: AppServer, address: str = "") -> None:
        self.server = server
        # uvicorn takes X-Forwarded-For from 127.0.0.1: this person comes from `address`.
        self.http = httpx.AsyncClient(
            base_url=server.base,
            timeout=TIMEOUT,
            headers={"x-forwarded-for": address} if address else {},
        )
        self.csrf = ""
        self.frames: list[tuple[float, dict[str, Any]]] = []
        self.ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    async def guest(self, nickname: str) -> Person:
        r = await self.http.post("/api/session", json={"nickname": nickname})
        r.raise_for_status()
        self.csrf = r.json()["csrf_token"]
        return self

    async def login(self, username: str) -> Person:
        r = await self.http.post("/api/login", json={"username": username, "password": PASSWORD})
        r.raise_for_status()
        self.csrf = r.json()["csrf_token"]
        return self

    async def open(self, broadcast: int = 1) -> Person:
        cookie = "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())
        self.ws = await connect(
            f"{self.server.ws_base}/ws/broadcasts/{broadcast}",
            additional_headers={"Cookie": cookie} if cookie else {},
            origin=self.server.base,  # type: ignore[arg-type]
            open_timeout=TIMEOUT,
        )
        self._task = asyncio.create_task(self._read(self.ws))
        await self.wait(lambda f: f["type"] == "hello", 0)
        return self

    async def _read(self, ws: ClientConnection) -> None:
        async for raw in ws:
            self.frames.append((time.monotonic(), json.loads(raw)))
            self._changed.set()

    def mark(self) -> int:
        return len(self.frames)

    async def wait(
        self, predicate: Callable[[dict[str, Any]], bool], since: int
    ) -> tuple[float, dict[str, Any]]:
        """The first frame at or after index `since` that satisfies `predicate`."""
        async with asyncio.timeout(TIMEOUT):
            while True:
                for at, frame in self.frames[since:]:
                    if predicate(frame):
                        return at, frame
                self._changed.clear()
                await self._changed.wait()

    async def send(self, message: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps(message))

    async def post(self, text: str, client_id: str) -> dict[str, Any]:
        """Post over the WebSocket; return the ack or the error."""
        since = self.mark()
        await self.send({"type": "post", "text": text, "client_id": client_id})
        _, frame = await self.wait(
            lambda f: f["type"] in ("ack", "error") and f.get("client_id") == client_id, since
        )
        return frame

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        r = await self.http.request(method, path, json=body, headers={"x-csrf-token": self.csrf})
        assert r.status_code < 300, r.text
        return r.json()

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._task is not None:
            await self._task
        await self.http.aclose()


@pytest.fixture
def pair(tmp_path: Path, redis_server: RedisServer) -> Iterator[tuple[AppServer, AppServer]]:
    db = tmp_path / "shared.db"
    seed_broadcast(db, 1)
    asyncio.run(create_staff(db))
    env = {
        "REDIS_URL": redis_server.url,
        "COMMENT_BURST": "1000",
        "COMMENT_RATE_PER_MINUTE": "100000",
        "ADDRESS_BURST": "100000",
        "ADDRESS_RATE_PER_MINUTE": "1000000",
        "REPORT_HIDE_THRESHOLD": "1",
    }
    with server_pair(db, env) as servers:
        yield servers


@pytest.fixture
async def people(pair: tuple[AppServer, AppServer]) -> AsyncIterator[dict[str, Person]]:
    a, b = pair
    folks = {
        "mod_a": await (await Person(a).login("mod")).open(),
        "mod_b": await (await Person(b).login("mod")).open(),
        "viewer_a": await (await Person(a).guest("가 시청자")).open(),
        "author_b": await (await Person(b).guest("나 작성자")).open(),
        "reporter1": await Person(b, "198.51.100.1").guest("신고1"),
        "reporter2": await Person(b, "203.0.113.1").guest("신고2"),
    }
    try:
        yield folks
    finally:
        for person in folks.values():
            await person.close()


async def test_every_action_on_one_process_reaches_the_other(people: dict[str, Person]) -> None:
    """Each action taken through process A is seen by viewers on B (and enforced there)
    within a second, and the reverse for what viewers do on B."""
    mod, mod_b, viewer_a, author = (
        people["mod_a"],
        people["mod_b"],
        people["viewer_a"],
        people["author_b"],
    )
    latencies: dict[str, float] = {}

    async def act(
        action: str, seen_by: Person, predicate: Callable[[dict[str, Any]], bool], **body: Any
    ) -> dict[str, Any]:
        since = seen_by.mark()
        started = time.monotonic()
        result: dict[str, Any] = await mod.call(
            "POST", "/api/moderation/broadcasts/1/actions", {"action": action, **body}
        )
        at, _ = await seen_by.wait(predicate, since)
        latencies[action] = max(latencies.get(action, 0.0), at - started)
        return result

    def kind(t: str, **match: Any) -> Callable[[dict[str, Any]], bool]:
        return lambda f: f["type"] == t and all(f.get(k) == v for k, v in match.items())

    first = (await author.post("첫 댓글", "c1"))["id"]
    await viewer_a.wait(
        lambda f: f["type"] == "comments" and any(i["id"] == first for i in f["items"]), 0
    )

    # remove / restore: the deleted frame and the author's notice reach process B
    since = author.mark()
    await act("remove", author, kind("deleted", ids=[first]), comment_id=first, reason="spam")
    await author.wait(kind("moderation", event="removed", id=first), since)
    await act(
        "restore",
        author,
        lambda f: f["type"] == "comments" and f.get("restored") and f["items"][0]["id"] == first,
        comment_id=first,
    )

    # slow mode and closing the chat are state on B, enforced by B
    await act("slow_mode", author, kind("state", slow_mode=30), seconds=30)
    assert (await author.post("하나", "s1"))["type"] == "ack"
    assert (await author.post("둘", "s2"))["code"] == "slow_mode"
    await act("slow_mode", author, kind("state", slow_mode=0), seconds=0)
    await act("chat", author, kind("state", closed=True), closed=True)
    assert (await author.post("닫힘", "x1"))["code"] == "chat_closed"
    await act("chat", author, kind("state", closed=False), closed=False)

    # pin / unpin
    await act(
        "pin",
        author,
        lambda f: f["type"] == "state" and (f["pinned"] or {}).get("id") == first,
        comment_id=first,
    )
    await act("unpin", author, kind("state", pinned=None))

    # blocked words: B reloads its list, holds the comment, shows it to B's moderators
    word = await act("word_add", mod_b, kind("mod", event="words"), word="시발")
    since_b = mod_b.mark()
    held = await author.post("씨1발 진짜", "w1")
    assert held["type"] == "ack" and held["status"] == "held"
    await mod_b.wait(
        lambda f: f["type"] == "mod" and f.get("event") == "held" and f["item"]["id"] == held["id"],
        since_b,
    )
    await act(
        "approve",
        viewer_a,
        lambda f: (
            f["type"] == "comments" and f.get("restored") and f["items"][0]["id"] == held["id"]
        ),
        comment_id=held["id"],
    )
    held2 = await author.post("ㅅㅂ", "w2")
    assert held2["status"] == "held"
    await act(
        "reject",
        mod_b,
        lambda f: f["type"] == "mod" and f.get("action") == "reject",
        comment_id=held2["id"],
        reason="abuse",
    )
    await act(
        "word_remove", mod_b, kind("mod", event="words"), word_id=word["result"]["word"]["id"]
    )
    assert (await author.post("시발", "w3"))["status"] == "visible"

    # timeout and ban are enforced on B
    timeout = await act(
        "timeout",
        author,
        kind("moderation", event="restricted"),
        comment_id=first,
        minutes=1,
        reason="abuse",
    )
    refused = await author.post("제한 중", "t1")
    assert refused["code"] == "timed_out" and "KST" in refused["message"]
    await act(
        "unban",
        author,
        kind("moderation", event="unrestricted"),
        restriction_id=timeout["result"]["restriction"]["id"],
    )
    ban = await act(
        "ban",
        author,
        kind("moderation", event="restricted"),
        comment_id=first,
        scope="everywhere",
        reason="spam",
    )
    assert (await author.post("차단 중", "b1"))["code"] == "banned"
    await act(
        "unban",
        author,
        kind("moderation", event="unrestricted"),
        restriction_id=ban["result"]["restriction"]["id"],
    )

    # viewers' reports on B hide the comment on A and put it in A's queue (two reporters
    # who have commented, on two networks: 0.5 each, REPORT_HIDE_THRESHOLD=1)
    target = (await author.post("신고될 댓글", "r1"))["id"]
    since_a, since_mod = viewer_a.mark(), mod.mark()
    for n, reporter in enumerate((people["reporter1"], people["reporter2"])):
        await reporter.call(
            "POST", "/api/broadcasts/1/comments", {"text": "저도 봤어요", "client_id": f"seen{n}"}
        )
        hidden = await reporter.call("POST", f"/api/comments/{target}/reports", {"reason": "abuse"})
        assert hidden["hidden"] is (n == 1)
    await viewer_a.wait(kind("deleted", ids=[target]), since_a)
    await mod.wait(
        lambda f: f["type"] == "mod" and f.get("event") == "held" and f["item"]["id"] == target,
        since_mod,
    )

    # appeal filed on B reaches A's console; the decision reaches the author on B
    await act("remove", author, kind("deleted", ids=[first]), comment_id=first, reason="abuse")
    since_mod = mod.mark()
    appeal = await author.call("POST", f"/api/comments/{first}/appeal", {"text": "다시 봐 주세요"})
    await mod.wait(lambda f: f["type"] == "mod" and f.get("event") == "appeal", since_mod)
    await act(
        "appeal_decide",
        author,
        kind("moderation", event="appeal_decided", id=first),
        appeal_id=appeal["appeal"]["id"],
        outcome="reinstate",
    )

    # remove everything the author wrote here
    mine = [
        i["id"]
        for i in (await mod.call("GET", "/api/moderation/broadcasts/1/comments"))["items"]
        if i["author"] == "나 작성자" and i["status"] != "removed"
    ]
    await act(
        "remove_user",
        author,
        lambda f: f["type"] == "deleted" and set(f["ids"]) == set(mine),
        comment_id=first,
        reason="spam",
    )

    assert set(latencies) == {
        "remove",
        "restore",
        "slow_mode",
        "chat",
        "pin",
        "unpin",
        "word_add",
        "approve",
        "reject",
        "word_remove",
        "timeout",
        "unban",
        "ban",
        "appeal_decide",
        "remove_user",
    }
    print(
        f"\npropagation A->B, seconds: max {max(latencies.values()):.3f},"
        f" median {statistics.median(latencies.values()):.3f}"
    )
    assert max(latencies.values()) < PROPAGATION_LIMIT, latencies
