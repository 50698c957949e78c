"""The question endpoints, pages, exports and socket frames, in process (TestClient)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import csv
import io
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.replay.kit import stores
from tests.support import account_store, seed_broadcast
from web.app import create_app
from web.settings import Settings

PASSWORD = "correct horse battery"


def make_staff(
    db: Path, username: str, role: str = "official", department: str = "교통정책과"
) -> None:
    async def run() -> None:
        async with account_store(db) as store:
            await store.create(
                username, PASSWORD, role, display_name=username, department=department
            )

    # A thread of its own: the browser tests' sync Playwright keeps a loop in this one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(lambda: asyncio.run(run())).result()


class Users:
    """Several people on one TestClient: each keeps their own cookie jar and CSRF token."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.jars: dict[str, dict[str, str]] = {}
        self.tokens: dict[str, str] = {}

    def _keep(self, name: str, token: str) -> None:
        self.jars[name] = dict(self.client.cookies.items())
        self.tokens[name] = token

    def guest(self, name: str) -> None:
        self.client.cookies.clear()
        response = self.client.post("/api/session", json={"nickname": name})
        assert response.status_code == 201, response.text
        self._keep(name, response.json()["csrf_token"])

    def login(self, username: str) -> None:
        self.client.cookies.clear()
        response = self.client.post("/api/login", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        self._keep(username, response.json()["csrf_token"])

    def use(self, name: str) -> TestClient:
        self.client.cookies.clear()
        for key, value in self.jars[name].items():
            self.client.cookies.set(key, value)
        return self.client

    def post(self, name: str, url: str, body: dict[str, Any] | None = None) -> Any:
        return self.use(name).post(
            url, json=body or {}, headers={"X-CSRF-Token": self.tokens[name]}
        )

    def get(self, name: str, url: str, **kwargs: Any) -> Any:
        return self.use(name).get(url, **kwargs)


@pytest.fixture
def users(settings: Settings) -> Iterator[Users]:
    seed_broadcast(settings.database_path, 1)
    make_staff(settings.database_path, "kim", "official", "교통정책과")
    make_staff(settings.database_path, "mod", "moderator", "")
    with TestClient(create_app(settings)) as client:
        u = Users(client)
        u.guest("시민A")
        u.guest("시민B")
        u.login("kim")
        u.login("mod")
        yield u


def ask(users: Users, who: str, text: str, broadcast_id: int = 1) -> int:
    response = users.post(
        who,
        f"/api/broadcasts/{broadcast_id}/questions",
        {"text": text, "client_id": uuid.uuid4().hex},
    )
    assert response.status_code == 201, response.text
    question_id: int = response.json()["question"]["id"]
    return question_id


def test_ask_vote_and_undo_over_http(users: Users) -> None:
    """A guest asks; another votes once (a repeat changes nothing), undoes, and the list
    says who voted; the asker cannot vote for their own question."""
    qid = ask(users, "시민A", "지하철 막차를 연장해 주세요")
    first = users.post("시민B", f"/api/questions/{qid}/vote").json()
    again = users.post("시민B", f"/api/questions/{qid}/vote").json()
    assert (first["votes"], first["changed"], again["votes"], again["changed"]) == (
        1,
        True,
        1,
        False,
    )
    own = users.post("시민A", f"/api/questions/{qid}/vote")
    assert own.status_code == 403 and own.json()["error"]["code"] == "own_question"
    listed = users.get("시민B", "/api/broadcasts/1/questions").json()
    assert listed["items"][0]["voted"] is True and listed["tally"]["received"] == 1
    assert users.get("시민A", "/api/broadcasts/1/questions").json()["items"][0]["following"] is True
    undo = users.post("시민B", f"/api/questions/{qid}/unvote").json()
    assert (undo["votes"], undo["voted"]) == (0, False)


def test_a_comment_posted_as_question_is_listed(users: Users) -> None:
    """POST /api/broadcasts/{id}/comments with question=true makes a listed question."""
    response = users.post(
        "시민A",
        "/api/broadcasts/1/comments",
        {"text": "질문입니다", "client_id": "c1", "question": True},
    )
    assert response.status_code == 201
    items = users.get("시민B", "/api/broadcasts/1/questions").json()["items"]
    assert [(q["id"], q["text"]) for q in items] == [(response.json()["id"], "질문입니다")]


def test_viewers_cannot_answer_or_change_status(users: Users) -> None:
    """A viewer forging an answer or status change gets 403; without CSRF 403 csrf; without
    a session 401; the question stays open and unanswered."""
    qid = ask(users, "시민A", "질문")
    for url, body in (
        (f"/api/questions/{qid}/answer", {"text": "가짜"}),
        (f"/api/questions/{qid}/status", {"status": "answered"}),
    ):
        forged = users.post("시민B", url, body)
        assert forged.status_code == 403 and forged.json()["error"]["code"] == "forbidden"
        no_csrf = users.use("kim").post(url, json=body)
        assert no_csrf.status_code == 403 and no_csrf.json()["error"]["code"] == "csrf"
    users.client.cookies.clear()
    assert users.client.post(f"/api/questions/{qid}/vote").status_code == 401
    question = users.get("시민A", f"/api/questions/{qid}").json()
    assert question["question"]["status"] == "open" and question["events"] == []


def test_official_answers_and_moves_status(users: Users) -> None:
    """An official forwards with a note, a moderator answers in writing; impossible moves
    are 409 naming `status`; the history lists each change with its time."""
    qid = ask(users, "시민A", "자전거 도로는요?")
    missing = users.post("kim", f"/api/questions/{qid}/status", {"status": "forwarded"})
    assert missing.status_code == 400 and missing.json()["error"]["field"] == "department"
    forwarded = users.post(
        "kim",
        f"/api/questions/{qid}/status",
        {"status": "forwarded", "note": "자전거정책과 검토", "department": "자전거정책과"},
    )
    assert forwarded.status_code == 200, forwarded.text
    assert forwarded.json()["question"]["department"] == "자전거정책과"
    answered = users.post(
        "mod", f"/api/questions/{qid}/answer", {"text": "내년에 20km 늘립니다", "mode": "written"}
    )
    assert answered.status_code == 200 and answered.json()["comment_id"] is None
    body = answered.json()["question"]
    assert body["status"] == "answered" and body["answer"]["live"] is False
    wrong = users.post("kim", f"/api/questions/{qid}/status", {"status": "not_in_remit"})
    assert wrong.status_code == 409 and wrong.json()["error"]["field"] == "status"
    unknown = users.post("kim", "/api/questions/999999/status", {"status": "answered"})
    assert unknown.status_code == 404
    history = users.get("시민A", f"/api/questions/{qid}").json()["events"]
    assert [(e["from"], e["to"], e["kind"]) for e in history] == [
        ("open", "forwarded", "status"),
        ("forwarded", "answered", "answer"),
    ]
    assert all(datetime.fromisoformat(e["at"]).tzinfo is not None for e in history)
    bad = users.get("시민A", "/api/broadcasts/1/questions?sort=random")
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "sort"
    assert users.get("시민A", "/api/broadcasts/77/questions").status_code == 404


def test_sorting_by_votes_and_time(users: Users) -> None:
    """By votes the most-voted comes first; by time the newest does."""
    older = ask(users, "시민A", "먼저 물은 질문")
    newer = ask(users, "시민A", "나중 질문")
    users.post("시민B", f"/api/questions/{newer}/vote")
    by_votes = users.get("시민B", "/api/broadcasts/1/questions?sort=votes").json()["items"]
    by_time = users.get("시민B", "/api/broadcasts/1/questions?sort=time").json()["items"]
    assert [q["id"] for q in by_votes] == [newer, older]
    users.post("시민B", f"/api/questions/{newer}/unvote")
    by_votes = users.get("시민B", "/api/broadcasts/1/questions").json()["items"]
    assert [q["id"] for q in by_votes] == [older, newer]
    assert [q["id"] for q in by_time] == [newer, older]


def test_notifications_tell_the_asker_what_changed(users: Users) -> None:
    """After an official answers, the asker's notification list names the question and the
    change; once marked seen it is empty. Without a session the list is empty."""
    qid = ask(users, "시민A", "질문")
    assert users.get("시민A", "/api/me/notifications").json()["items"] == []
    users.post("kim", f"/api/questions/{qid}/answer", {"text": "답변입니다", "mode": "written"})
    items = users.get("시민A", "/api/me/notifications").json()["items"]
    assert len(items) == 1
    assert items[0]["previous_status"] == "open"
    assert items[0]["question"]["answer"]["text"] == "답변입니다"
    assert users.post("시민A", "/api/me/notifications/seen", {}).json()["marked"] == 1
    assert users.get("시민A", "/api/me/notifications").json()["items"] == []
    bad = users.post("시민A", "/api/me/notifications/seen", {"ids": ["x"]})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "ids"
    users.post("시민B", f"/api/questions/{qid}/follow")
    users.post("시민B", f"/api/questions/{qid}/unfollow")
    users.client.cookies.clear()
    assert users.client.get("/api/me/notifications").json() == {"items": []}


def test_exports_for_the_department(users: Users) -> None:
    """Staff export CSV (UTF-8 with BOM, formula-looking cells defused) and JSON (with each
    question's history); a viewer gets 403; `department` filters."""
    qid = ask(users, "시민A", '=HYPERLINK("http://evil") 질문')
    other = ask(users, "시민B", "다른 질문")
    users.post("kim", f"/api/questions/{qid}/answer", {"text": "답변", "mode": "written"})
    users.post(
        "kim", f"/api/questions/{other}/status", {"status": "forwarded", "department": "복지정책과"}
    )
    assert users.get("시민A", "/api/broadcasts/1/questions.csv").status_code == 403
    response = users.get("kim", "/api/broadcasts/1/questions.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert [r["id"] for r in rows] == [str(qid), str(other)]
    assert rows[0]["text"].startswith("'=HYPERLINK")
    assert rows[0]["answered_by"] == "kim" and rows[0]["answer_department"] == "교통정책과"
    data = users.get("mod", "/api/broadcasts/1/questions.json").json()
    assert data["tally"]["received"] == 2
    assert [e["to"] for e in data["questions"][0]["events"]] == ["answered"]
    welfare = users.get("kim", "/api/broadcasts/1/questions.json?department=복지정책과").json()
    assert [q["id"] for q in welfare["questions"]] == [other]


def test_public_tally_pages(users: Users) -> None:
    """The broadcast page and the city page show the tally ("1 of 2", 50%) and the
    questions as text, never markup."""
    qid = ask(users, "시민A", "<script>alert(1)</script> 질문")
    ask(users, "시민B", "두 번째 질문")
    users.post("kim", f"/api/questions/{qid}/answer", {"text": "답변", "mode": "written"})
    page = users.get("시민A", "/broadcasts/1/questions")
    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 질문" in page.text
    assert "<script>alert" not in page.text
    assert (
        '답변 <strong data-tally="answers">1</strong> / 질문 <span data-tally="received">2'
        '</span>, <span class="qtally__percent"><span data-tally="percent">50</span> %' in page.text
    )
    assert "/static/js/questions/questions.js?v=" in page.text
    city = users.get("시민A", "/questions")
    assert city.status_code == 200 and "/broadcasts/1/questions" in city.text
    assert "50%" in city.text
    tally = users.get("시민A", "/api/questions/tally").json()
    assert tally["total"]["received"] == 2 and tally["total"]["responded"] == 1
    users.client.cookies.set("lang", "en")
    english = users.client.get("/broadcasts/1/questions")
    assert "Citizen questions" in english.text
    missing = users.get("시민A", "/broadcasts/404/questions", headers={"accept": "text/html"})
    assert missing.status_code == 404


def test_socket_gets_question_frames_and_commands(users: Users) -> None:
    """A viewer's socket receives `question` frames for an ask and a vote made over HTTP,
    and a `vote` sent over the socket is acknowledged with `question_done`."""
    client = users.use("시민B")
    with client.websocket_connect("/ws/broadcasts/1") as ws:
        assert ws.receive_json()["type"] == "hello"
        qid = ask(users, "시민A", "소켓 질문")
        users.use("시민B")
        frame = ws.receive_json()
        while frame["type"] != "question":
            frame = ws.receive_json()
        assert frame["event"] == "asked" and frame["question"]["id"] == qid
        ws.send_json({"type": "vote", "question_id": qid})
        seen: dict[str, dict[str, Any]] = {}
        while not {"question_done", "question"} <= set(seen):
            frame = ws.receive_json()
            seen[frame["type"]] = frame
        assert seen["question_done"]["voted"] is True
        assert seen["question"]["event"] == "votes" and seen["question"]["question"]["votes"] == 1
        ws.send_json({"type": "set_question_status", "question_id": qid, "status": "answered"})
        frame = ws.receive_json()
        while frame["type"] != "error":
            frame = ws.receive_json()
        assert (frame["code"], frame["command"], frame["question_id"]) == (
            "forbidden",
            "set_question_status",
            qid,
        )


def test_replayed_comments_show_the_answer_when_it_was_given(settings: Settings) -> None:
    """On a replay, the question and its live answer are comments at their own offsets: the
    answer carries flags [answer] and `reply_to` the question; the questions page of the
    ended broadcast still shows the answer."""
    db = settings.database_path
    make_staff(db, "kim")
    start = datetime.now(UTC) - timedelta(minutes=5)

    async def publish() -> tuple[int, int]:
        from tests.replay.kit import add_broadcast

        async with stores(db) as s:
            broadcast = add_broadcast(db, "시민 토론", starts_at=start, minutes=60)
            replay = await s.replays.create_from_broadcast(broadcast, recording_url="/r.m3u8")
            return broadcast.id, replay.id

    broadcast_id, replay_id = asyncio.run(publish())
    with sqlite3.connect(db) as con:  # asked and answered while it was on air
        con.execute("UPDATE broadcasts SET status = 'live' WHERE id = ?", (broadcast_id,))
    with TestClient(create_app(settings)) as client:
        u = Users(client)
        u.guest("시민A")
        u.login("kim")
        qid = ask(u, "시민A", "다시보기에도 남나요?", broadcast_id)
        answer = u.post(
            "kim",
            f"/api/questions/{qid}/answer",
            {"text": "네, 남습니다", "mode": "live", "client_id": "live-1"},
        )
        assert answer.status_code == 200, answer.text
        response = u.get(
            "시민A", f"/api/replays/{replay_id}/comments", params={"from": 0, "to": 600}
        )
        assert response.status_code == 200, response.text
        window = response.json()["items"]
        by_id = {item["id"]: item for item in window}
        reply = by_id[answer.json()["comment_id"]]
        assert reply["flags"] == ["answer"] and reply["reply_to"] == qid
        assert reply["role"] == "official" and reply["department"] == "교통정책과"
        assert by_id[qid]["flags"] == ["question"]
        assert by_id[qid]["offset"] <= reply["offset"]
        page = u.get("시민A", f"/broadcasts/{broadcast_id}/questions")
        assert "네, 남습니다" in page.text and "생방송 답변" in page.text


def test_answered_only_by_answering_and_the_desk_knows_departments(users: Users) -> None:
    """Setting `answered` as a status is refused (`answer_required`) and changes nothing;
    the menu never offers it; answering does it. Staff who answer get every department used
    so far (questions' and accounts'), viewers none."""
    qid = ask(users, "시민A", "언제 시작하나요?")
    refused = users.post("kim", f"/api/questions/{qid}/status", {"status": "answered"})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "answer_required"
    assert refused.json()["error"]["field"] == "status"
    listed = users.get("kim", "/api/broadcasts/1/questions").json()
    item = next(q for q in listed["items"] if q["id"] == qid)
    assert item["status"] == "open" and "answered" not in item["moves"]
    assert listed["tally"]["answers"] == 0 and listed["tally"]["percent"] == 0
    moved = users.post(
        "kim", f"/api/questions/{qid}/status", {"status": "forwarded", "department": "도시교통실"}
    )
    assert moved.status_code == 200, moved.text
    assert "answered" not in moved.json()["question"]["status"]
    after = users.get("kim", "/api/broadcasts/1/questions").json()
    assert after["tally"]["responded"] == 1 and after["tally"]["percent"] == 0
    assert after["departments"] == ["교통정책과", "도시교통실"]
    assert users.get("시민A", "/api/broadcasts/1/questions").json()["departments"] == []
