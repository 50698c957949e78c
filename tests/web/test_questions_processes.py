"""Questions across two real uvicorn processes sharing one SQLite file and a real Redis."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.support import TIMEOUT, AppServer, RedisServer, seed_broadcast, server_pair
from tests.web.test_questions_api import PASSWORD, make_staff

pytestmark = pytest.mark.e2e

LIMITS = {
    "COMMENT_BURST": "1000",
    "COMMENT_RATE_PER_MINUTE": "100000",
    "ADDRESS_BURST": "100000",
    "ADDRESS_RATE_PER_MINUTE": "1000000",
    "VOTE_BURST": "1000",
    "VOTES_PER_MINUTE": "100000",
    "VOTES_PER_ADDRESS": "100000",
    "VOTES_PER_NETWORK": "100000",
}


@pytest.fixture
def pair(tmp_path: Path, redis_server: RedisServer) -> Iterator[tuple[AppServer, AppServer]]:
    db = tmp_path / "shared.db"
    seed_broadcast(db, 1)
    make_staff(db, "kim", "official", "교통정책과")
    env = {"REDIS_URL": redis_server.url, **LIMITS}
    with server_pair(db, env) as servers:
        yield servers


async def session(base: str, nickname: str | None = None) -> tuple[dict[str, str], str]:
    """A guest (or, without a nickname, the official) session: (cookies, csrf token)."""
    async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT) as http:
        if nickname is None:
            r = await http.post("/api/login", json={"username": "kim", "password": PASSWORD})
        else:
            r = await http.post("/api/session", json={"nickname": nickname})
        r.raise_for_status()
        return dict(http.cookies.items()), r.json()["csrf_token"]


async def call(
    base: str, who: tuple[dict[str, str], str], path: str, body: dict[str, Any] | None = None
) -> httpx.Response:
    cookies, token = who
    async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=TIMEOUT) as http:
        return await http.post(path, json=body or {}, headers={"X-CSRF-Token": token})


async def test_concurrent_votes_on_two_processes_count_once(
    pair: tuple[AppServer, AppServer],
) -> None:
    """One viewer's 20 simultaneous votes, half through each process, count once; 30 other
    viewers voting at once through both processes count 30 — the list agrees on both."""
    a, b = pair
    asker = await session(a.base, "질문자")
    response = await call(
        a.base,
        asker,
        "/api/broadcasts/1/questions",
        {"text": "동시에 추천하면?", "client_id": "q1"},
    )
    qid = response.json()["question"]["id"]
    voter = await session(b.base, "추천자")
    results = await asyncio.gather(
        *[call((a, b)[i % 2].base, voter, f"/api/questions/{qid}/vote") for i in range(20)]
    )
    assert all(r.status_code == 200 for r in results)
    assert sum(r.json()["changed"] for r in results) == 1
    voters = await asyncio.gather(*[session((a, b)[i % 2].base, f"시민{i}") for i in range(30)])
    started = time.monotonic()
    results = await asyncio.gather(
        *[call((a, b)[i % 2].base, v, f"/api/questions/{qid}/vote") for i, v in enumerate(voters)]
    )
    elapsed = time.monotonic() - started
    assert all(r.json()["changed"] for r in results)
    for server in (a, b):
        listed = httpx.get(f"{server.base}/api/broadcasts/1/questions", timeout=TIMEOUT).json()
        assert listed["items"][0]["votes"] == 31
    print(f"30 concurrent votes over two processes in {elapsed * 1000:.0f} ms")


async def test_question_list_updates_live_on_both_processes(
    pair: tuple[AppServer, AppServer],
) -> None:
    """Viewers on both processes receive the ask, a vote and the official's live answer (as
    `question` frames, and the answer also as a chat comment replying to the question)."""
    a, b = pair
    asker, voter, official = (
        await session(a.base, "질문자"),
        await session(b.base, "추천자"),
        await session(a.base),
    )
    frames: dict[str, list[dict[str, Any]]] = {"a": [], "b": []}
    changed = asyncio.Event()

    async def watch(name: str, server: AppServer, ready: asyncio.Event) -> None:
        async with connect(
            f"{server.ws_base}/ws/broadcasts/1",
            origin=server.base,  # type: ignore[arg-type]
            open_timeout=TIMEOUT,
        ) as ws:
            ready.set()
            async for raw in ws:
                frames[name].append(json.loads(raw))
                changed.set()

    readiness = [asyncio.Event(), asyncio.Event()]
    watchers = [
        asyncio.create_task(watch("a", a, readiness[0])),
        asyncio.create_task(watch("b", b, readiness[1])),
    ]
    try:
        for ready in readiness:
            await asyncio.wait_for(ready.wait(), TIMEOUT)

        def events(name: str) -> list[str]:
            return [f["event"] for f in frames[name] if f["type"] == "question"]

        async def until(predicate: Any) -> None:
            async with asyncio.timeout(TIMEOUT * 2):
                while not predicate():
                    changed.clear()
                    await changed.wait()

        # the first hello of each socket is sent before the socket joins Redis: wait for it
        await until(lambda: all(any(f["type"] == "hello" for f in frames[n]) for n in frames))
        started = time.monotonic()
        asked = await call(
            a.base,
            asker,
            "/api/broadcasts/1/questions",
            {"text": "버스 노선 개편은 언제?", "client_id": uuid.uuid4().hex},
        )
        qid = asked.json()["question"]["id"]
        await until(lambda: "asked" in events("b"))
        ask_latency = time.monotonic() - started
        await call(b.base, voter, f"/api/questions/{qid}/vote")
        answered = await call(
            a.base,
            official,
            f"/api/questions/{qid}/answer",
            {"text": "3월에 개편합니다", "mode": "live"},
        )
        assert answered.status_code == 200, answered.text
        answer_id = answered.json()["comment_id"]

        def has_answer_comment(name: str) -> bool:
            return any(
                item["id"] == answer_id and item.get("reply_to") == qid
                for f in frames[name]
                if f["type"] == "comments"
                for item in f["items"]
            )

        await until(
            lambda: all(
                events(n)[-3:] == ["asked", "votes", "answered"] and has_answer_comment(n)
                for n in frames
            )
        )
        last = next(f for f in reversed(frames["b"]) if f["type"] == "question")["question"]
        assert last["votes"] == 1 and last["status"] == "answered"
        assert last["answer"]["department"] == "교통정책과" and last["answer"]["live"] is True
        print(f"ask seen on the other process after {ask_latency * 1000:.0f} ms")
    finally:
        for task in watchers:
            task.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
