"""Moderation through the app: roles checked on every HTTP request and WebSocket message,
and what each action does to comments, viewers, the audit log and the public report."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support import account_store, seed_broadcast
from tests.web.addresskit import FromAddress, at
from web.app import create_app
from web.identity.sessions import Session, SessionCodec, new_sid
from web.settings import Settings

PASSWORD = "correct horse battery"


@dataclass
class Who:
    cookie: str
    csrf: str
    address: str = ""

    def headers(self, csrf: bool = True) -> dict[str, str]:
        out = {"cookie": f"ls_session={self.cookie}", **(at(self.address) if self.address else {})}
        if csrf:
            out["x-csrf-token"] = self.csrf
        return out


class Site:
    """One running app and the people using it (cookies kept apart, one lifespan)."""

    def __init__(self, client: TestClient, codec: SessionCodec | None = None) -> None:
        self.c = client
        self.codec = codec

    def seasoned_guest(self, nickname: str, address: str) -> Who:
        """A guest whose session began two hours ago, at `address` (signed as the server
        would have signed it then)."""
        assert self.codec is not None
        session = Session(sid=new_sid(), nickname=nickname, issued_at=time.time() - 7200)
        return Who(self.codec._encode(session), self.codec.csrf_token(session), address)

    def _take(self, response: Any) -> Who:
        assert response.status_code in (200, 201), response.text
        cookie = self.c.cookies.get("ls_session")
        self.c.cookies.clear()
        return Who(cookie, response.json()["csrf_token"])

    def guest(self, nickname: str) -> Who:
        return self._take(self.c.post("/api/session", json={"nickname": nickname}))

    def login(self, username: str) -> Who:
        return self._take(
            self.c.post("/api/login", json={"username": username, "password": PASSWORD})
        )

    def post(self, who: Who, text: str, client_id: str, broadcast: int = 1) -> Any:
        return self.c.post(
            f"/api/broadcasts/{broadcast}/comments",
            json={"text": text, "client_id": client_id},
            headers=who.headers(),
        )

    def act(self, who: Who, action: str, broadcast: int = 1, csrf: bool = True, **body: Any) -> Any:
        return self.c.post(
            f"/api/moderation/broadcasts/{broadcast}/actions",
            json={"action": action, **body},
            headers=who.headers(csrf),
        )

    def get(self, who: Who | None, path: str) -> Any:
        return self.c.get(path, headers=who.headers(False) if who else {})

    def ws(self, who: Who | None, broadcast: int = 1) -> Any:
        return self.c.websocket_connect(
            f"/ws/broadcasts/{broadcast}", headers=who.headers(False) if who else {}
        )

    def visible_ids(self, broadcast: int = 1) -> list[int]:
        page = self.c.get(f"/api/broadcasts/{broadcast}/comments").json()
        return [i["id"] for i in page["items"]]

    def audit(self, who: Who) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.get(who, "/api/moderation/audit").json()["items"]
        return items


async def _accounts(settings: Settings) -> None:
    async with account_store(settings.database_path) as store:
        await store.create("mod", PASSWORD, "moderator", "모더레이터")
        await store.create("official", PASSWORD, "official", "김주무관", "시민소통과")
        await store.create("admin", PASSWORD, "admin", "관리자")


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two broadcasts and three staff accounts, built once (argon2 hashing is slow)."""
    path = tmp_path_factory.mktemp("moderation") / "template.db"
    seed_broadcast(path, 1)
    seed_broadcast(path, 2, title="다른 방송")
    asyncio.run(_accounts(Settings(database_url=f"sqlite:///{path}")))
    return path


@pytest.fixture
def site(settings: Settings, template_db: Path) -> Iterator[Site]:
    shutil.copyfile(template_db, settings.database_path)
    with TestClient(FromAddress(create_app(replace(settings, comment_burst=1000)))) as client:
        yield Site(
            client, SessionCodec(settings.secret_key, settings.session_max_age_days, secure=False)
        )


def until(ws: Any, kind: str, **match: Any) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = ws.receive_json()
        if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
            return frame


ACTIONS: list[tuple[str, dict[str, Any]]] = [
    ("remove", {"comment_id": 1, "reason": "spam"}),
    ("restore", {"comment_id": 1}),
    ("remove_user", {"comment_id": 1, "reason": "abuse"}),
    ("timeout", {"comment_id": 1, "minutes": 5, "reason": "abuse"}),
    ("ban", {"comment_id": 1, "scope": "everywhere", "reason": "abuse"}),
    ("unban", {"restriction_id": 1}),
    ("slow_mode", {"seconds": 30}),
    ("chat", {"closed": True}),
    ("pin", {"comment_id": 1}),
    ("unpin", {}),
    ("approve", {"comment_id": 1}),
    ("reject", {"comment_id": 1, "reason": "spam"}),
    ("word_add", {"word": "안녕"}),
    ("word_remove", {"word_id": 1}),
    ("appeal_decide", {"appeal_id": 1, "outcome": "reinstate"}),
]


def _snapshot(site: Site, mod: Who) -> tuple[Any, ...]:
    return (
        site.visible_ids(),
        site.audit(mod),
        site.get(mod, "/api/moderation/words").json(),
        site.get(mod, "/api/moderation/broadcasts/1/restrictions").json(),
    )


def test_every_action_is_listed_in_the_forgery_tables(site: Site) -> None:
    """The forgery tests below cover every action the service knows."""
    assert set(site.c.app_state["moderator"].actions) == {name for name, _ in ACTIONS}


@pytest.mark.parametrize(("action", "body"), ACTIONS, ids=[a for a, _ in ACTIONS])
def test_viewer_and_official_cannot_act_over_http(
    site: Site, action: str, body: dict[str, Any]
) -> None:
    """A guest's or an official's forged action request is refused and changes nothing."""
    viewer, official, mod = site.guest("시민"), site.login("official"), site.login("mod")
    assert site.post(viewer, "첫 댓글", "a").status_code == 201
    before = _snapshot(site, mod)
    for who in (viewer, official):
        response = site.act(who, action, **body)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
    anonymous = site.c.post("/api/moderation/broadcasts/1/actions", json={"action": action, **body})
    assert anonymous.status_code == 401
    no_csrf = site.act(mod, action, csrf=False, **body)
    assert no_csrf.status_code == 403 and no_csrf.json()["error"]["code"] == "csrf"
    assert _snapshot(site, mod) == before


@pytest.mark.parametrize(("action", "body"), ACTIONS, ids=[a for a, _ in ACTIONS])
def test_viewer_and_official_cannot_act_over_websocket(
    site: Site, action: str, body: dict[str, Any]
) -> None:
    """A forged `moderate` WebSocket message earns an `error` frame and does nothing."""
    viewer, official, mod = site.guest("시민"), site.login("official"), site.login("mod")
    assert site.post(viewer, "첫 댓글", "a").status_code == 201
    before = _snapshot(site, mod)
    for who in (viewer, official, None):
        with site.ws(who) as ws:
            ws.send_json({"type": "moderate", "action": action, "request_id": "x", **body})
            error = until(ws, "error")
            ws.send_json({"type": "ping"})
            until(ws, "pong")
        assert error["code"] == "forbidden" and error["request_id"] == "x"
    assert _snapshot(site, mod) == before


def test_moderator_reads_and_pages_are_staff_only(site: Site) -> None:
    """Every moderator read and page refuses guests and officials; admin pages refuse
    moderators."""
    viewer, official, mod = site.guest("시민"), site.login("official"), site.login("mod")
    reads = [
        "/api/moderation/broadcasts/1/comments",
        "/api/moderation/broadcasts/1/queue",
        "/api/moderation/broadcasts/1/appeals",
        "/api/moderation/broadcasts/1/restrictions",
        "/api/moderation/words",
        "/api/moderation/audit",
    ]
    pages = ["/moderate/1", "/moderate/audit", "/moderate/audit?format=csv"]
    for who in (viewer, official, None):
        for path in reads + pages + ["/admin/accounts"]:
            assert site.get(who, path).status_code in (401, 403), path
    for path in reads + pages:
        assert site.get(mod, path).status_code == 200, path
    assert site.get(mod, "/admin/accounts").status_code == 403
    denied = site.c.post(
        "/api/admin/accounts",
        headers=mod.headers(),
        json={"username": "x1", "password": PASSWORD, "role": "admin"},
    )
    assert denied.status_code == 403


def test_removal_vanishes_from_viewers_backfill_api_and_replay(site: Site) -> None:
    """A removed comment leaves every open page, the backfill, the HTTP API and replays;
    the audit log keeps its text; undo brings it back."""
    viewer, mod = site.guest("시민"), site.login("mod")
    keep = site.post(viewer, "남는 댓글", "k").json()["id"]
    gone = site.post(viewer, "지워질 댓글", "g").json()["id"]
    with site.ws(None) as watcher:
        until(watcher, "hello")
        response = site.act(mod, "remove", comment_id=gone, reason="spam")
        assert response.status_code == 200, response.text
        deleted = until(watcher, "deleted")
        assert deleted["ids"] == [gone] and deleted["reason"] == "spam"
    assert site.visible_ids() == [keep]
    with site.ws(None) as fresh:
        backfill = until(fresh, "comments")
    assert [i["id"] for i in backfill["items"]] == [keep]
    store = site.c.app_state["services"].comments
    assert site.c.portal is not None
    window = site.c.portal.call(store.window, 1, "2000-01-01", "2999-01-01", 0.0, 1e9)
    assert [c.id for c in window] == [keep]
    entry = site.audit(mod)[0]
    assert entry["action"] == "remove" and entry["comment_text"] == "지워질 댓글"
    assert site.act(mod, "remove", comment_id=gone, reason="spam").status_code == 409
    with site.ws(None) as watcher:
        until(watcher, "hello")
        assert site.act(mod, "restore", comment_id=gone).status_code == 200
        restored = until(watcher, "comments", restored=True)
    assert [i["id"] for i in restored["items"]] == [gone]
    assert site.visible_ids() == [keep, gone]


def test_blocked_word_is_held_pending_for_author_and_approved(site: Site) -> None:
    """A comment with a blocked word (any spelling) is held: its author sees it pending,
    others see nothing, moderators see it in the queue; approval shows it to everyone."""
    author, mod = site.guest("작성자"), site.login("mod")
    assert site.act(mod, "word_add", word="시발").status_code == 200
    assert site.act(mod, "word_add", word="씨 발").status_code == 409  # same word
    with site.ws(author) as mine, site.ws(None) as other, site.ws(mod) as console:
        for ws in (mine, other, console):
            until(ws, "hello")
        mine.send_json({"type": "post", "text": "ㅅ ㅂ 진짜", "client_id": "h1"})
        ack = until(mine, "ack")
        assert ack["status"] == "held" and "held" in ack["notice"]
        held = until(console, "mod", event="held")
        assert held["item"]["id"] == ack["id"] and held["item"]["matched"] == "시발"
        mine.send_json({"type": "post", "text": "평범한 댓글", "client_id": "o1"})
        plain = until(other, "comments")
        assert [i["text"] for i in plain["items"]] == ["평범한 댓글"]  # the held one never came
        queue = site.get(mod, "/api/moderation/broadcasts/1/queue").json()["items"]
        assert [(i["id"], i["cause"]) for i in queue] == [(ack["id"], "blocked_word")]
        assert ack["id"] not in site.visible_ids()
        assert site.act(mod, "approve", comment_id=ack["id"]).status_code == 200
        shown = until(other, "comments", restored=True)
        assert shown["items"][0]["id"] == ack["id"]
    report = site.c.get("/api/broadcasts/1/transparency").json()
    assert report["held_approved"] == 1 and report["held_pending"] == 0


def test_personal_data_is_masked_and_the_author_told(site: Site) -> None:
    """Phone numbers, RRNs and e-mails are masked before anyone sees them, with a notice."""
    author = site.guest("작성자")
    body = site.post(author, "연락처 010-1234-5678, 900101-1234567, a@b.kr", "p").json()
    assert body["comment"]["text"] == "연락처 ***-****-****, ******-*******, a@****"
    assert body["comment"]["flags"] == ["masked"]
    assert "전화번호" in body["notice"] and "주민등록번호" in body["notice"]


def test_timeout_says_until_when_in_seoul_time_and_unban_lifts_it(site: Site) -> None:
    """A timed-out viewer gets a clear error naming the end in Seoul time; unban lifts it."""
    viewer, mod = site.guest("시민"), site.login("mod")
    cid = site.post(viewer, "댓글", "a").json()["id"]
    timeout = site.act(mod, "timeout", comment_id=cid, minutes=10, reason="abuse").json()
    restriction = timeout["result"]["restriction"]
    with site.ws(viewer) as ws:
        until(ws, "hello")
        ws.send_json({"type": "post", "text": "또", "client_id": "b"})
        error = until(ws, "error")
    assert error["code"] == "timed_out" and "KST" in error["message"]
    assert error["until"].endswith("+09:00")
    assert site.post(viewer, "또", "c").status_code == 403
    assert site.post(viewer, "다른 방송엔", "d", broadcast=2).status_code == 201
    assert site.act(mod, "timeout", comment_id=cid, minutes=7, reason="abuse").status_code == 400
    assert site.act(mod, "unban", restriction_id=restriction["id"]).status_code == 200
    assert site.post(viewer, "이제 됨", "e").status_code == 201


def test_ban_everywhere_and_staff_are_protected(site: Site) -> None:
    """A ban everywhere stops posting in every broadcast; staff cannot be banned."""
    viewer, official, mod = site.guest("시민"), site.login("official"), site.login("mod")
    cid = site.post(viewer, "댓글", "a").json()["id"]
    staff_cid = site.post(official, "공지입니다", "s").json()["id"]
    assert site.act(mod, "ban", comment_id=staff_cid, reason="abuse").status_code == 403
    assert (
        site.act(
            mod, "ban", comment_id=cid, scope="everywhere", reason="other", reason_text="반복 광고"
        ).status_code
        == 200
    )
    for broadcast in (1, 2):
        refused = site.post(viewer, "차단됨?", f"x{broadcast}", broadcast=broadcast)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "banned"


def test_a_page_away_during_moderation_catches_up_on_resume(site: Site) -> None:
    """A page that missed a removal drops the comment when it comes back (`deleted`); one
    that missed a restore gets the comment back (`restored`); both before the comments
    written meanwhile."""
    author, reader, mod = site.guest("작성자"), site.guest("독자"), site.login("mod")
    gone, back = (
        site.post(author, text, cid).json()["id"] for text, cid in (("둘", "b"), ("셋", "c"))
    )
    site.act(mod, "remove", comment_id=back, reason="spam")
    with site.ws(reader) as ws:  # the page sees `back` removed, then goes away
        until(ws, "hello")
    last = back
    site.act(mod, "remove", comment_id=gone, reason="abuse")
    site.act(mod, "restore", comment_id=back)
    meanwhile = site.post(author, "넷", "d").json()["id"]
    with site.c.websocket_connect(
        f"/ws/broadcasts/1?after={last}", headers=reader.headers(False)
    ) as ws:
        assert until(ws, "hello")
        frames = [ws.receive_json() for _ in range(3)]
    assert frames[0] == {"type": "deleted", "ids": [gone]}
    assert frames[1]["restored"] is True and [i["id"] for i in frames[1]["items"]] == [back]
    assert [i["id"] for i in frames[2]["items"]] == [meanwhile]


def test_remove_user_removes_everything_they_wrote_here(site: Site) -> None:
    """Removing a user's comments removes all of theirs in this broadcast only."""
    troll, other, mod = site.guest("트롤"), site.guest("시민"), site.login("mod")
    ids = [site.post(troll, f"도배 {i}", f"t{i}").json()["id"] for i in range(3)]
    elsewhere = site.post(troll, "다른 방송", "t9", broadcast=2).json()["id"]
    fine = site.post(other, "정상", "o").json()["id"]
    result = site.act(mod, "remove_user", comment_id=ids[0], reason="spam").json()
    assert result["result"]["removed"] == ids
    assert site.visible_ids() == [fine]
    assert site.visible_ids(2) == [elsewhere]


def test_chat_closed_slow_mode_and_pin_reach_viewers(site: Site) -> None:
    """Closing the chat, slow mode and pinning go out as `state` and are enforced."""
    viewer, mod = site.guest("시민"), site.login("mod")
    cid = site.post(viewer, "고정할 댓글", "a").json()["id"]
    with site.ws(viewer) as ws:
        until(ws, "hello")
        site.act(mod, "chat", closed=True)
        assert until(ws, "state")["closed"] is True
        ws.send_json({"type": "post", "text": "닫혔나", "client_id": "b"})
        assert until(ws, "error")["code"] == "chat_closed"
        site.act(mod, "chat", closed=False)
        site.act(mod, "slow_mode", seconds=60)
        assert until(ws, "state", closed=False, slow_mode=60)
        ws.send_json({"type": "post", "text": "하나", "client_id": "c"})
        until(ws, "ack")
        ws.send_json({"type": "post", "text": "둘", "client_id": "d"})
        assert until(ws, "error")["code"] == "slow_mode"
        site.act(mod, "pin", comment_id=cid)
        pinned = until(ws, "state", slow_mode=60)
        assert pinned["pinned"]["id"] == cid
        site.act(mod, "remove", comment_id=cid, reason="off_topic")  # removal unpins
        assert until(ws, "state", pinned=None)["slow_mode"] == 60
    with site.ws(None) as fresh:
        hello = until(fresh, "hello")
    assert hello["slow_mode"] == 60 and hello["closed"] is False and hello["pinned"] is None


def test_reports_from_enough_distinct_viewers_hide_a_comment(site: Site) -> None:
    """Three established reporters (sessions hours old, comments of their own) on three
    networks hide a comment pending review; repeats and self-reports do not count; an
    official's comment is never hidden by reports."""
    author, official, mod = site.guest("작성자"), site.login("official"), site.login("mod")
    cid = site.post(author, "신고될 댓글", "a").json()["id"]
    staff_cid = site.post(official, "공식 답변", "s").json()["id"]
    reporters = [site.seasoned_guest(f"신고자{i}", f"198.51.{i}.7") for i in range(3)]
    for i, who in enumerate(reporters):
        assert site.post(who, "저도 봤어요", f"r{i}").status_code == 201

    def report(who: Who, comment_id: int) -> Any:
        return site.c.post(
            f"/api/comments/{comment_id}/reports", headers=who.headers(), json={"reason": "abuse"}
        )

    assert report(author, cid).status_code == 400
    assert report(reporters[0], cid).json() == {"reported": cid, "hidden": False}
    assert report(reporters[0], cid).status_code == 409
    assert report(reporters[1], cid).json()["hidden"] is False
    with site.ws(None) as watcher:
        until(watcher, "hello")
        assert report(reporters[2], cid).json()["hidden"] is True
        assert until(watcher, "deleted")["ids"] == [cid]
    assert cid not in site.visible_ids()
    queue = site.get(mod, "/api/moderation/broadcasts/1/queue").json()["items"]
    assert queue[0]["cause"] == "reports" and queue[0]["reports"] == 3
    for who in reporters:
        report(who, staff_cid)
    assert staff_cid in site.visible_ids()
    bad = site.c.post(
        f"/api/comments/{staff_cid}/reports", headers=author.headers(), json={"reason": "rude"}
    )
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "reason"


def test_appeal_once_and_outcome_logged(site: Site) -> None:
    """The author sees why a comment was removed, appeals once, and the outcome is logged."""
    author, stranger, mod = site.guest("작성자"), site.guest("남"), site.login("mod")
    cid = site.post(author, "억울한 댓글", "a").json()["id"]
    with site.ws(author) as mine:
        until(mine, "hello")
        site.act(mod, "remove", comment_id=cid, reason="off_topic")
        notice = until(mine, "moderation", event="removed")
    assert notice["reason"] == "off_topic" and notice["can_appeal"] is True
    status = site.get(author, f"/api/comments/{cid}/moderation").json()
    assert status["removal"]["reason"] == "off_topic" and status["can_appeal"] is True
    assert site.get(stranger, f"/api/comments/{cid}/moderation").status_code == 404

    def appeal(who: Who, text: str) -> Any:
        return site.c.post(
            f"/api/comments/{cid}/appeal", headers=who.headers(), json={"text": text}
        )

    assert appeal(stranger, "대신 항의").status_code == 404
    assert appeal(author, "").status_code == 400
    assert appeal(author, "가" * 301).status_code == 400
    first = appeal(author, "주제와 관련 있었습니다")
    assert first.status_code == 201
    assert appeal(author, "한 번 더").status_code == 409
    appeals = site.get(mod, "/api/moderation/broadcasts/1/appeals").json()["items"]
    assert appeals[0]["text"] == "주제와 관련 있었습니다" and appeals[0]["status"] == "open"
    decided = site.act(
        mod, "appeal_decide", appeal_id=appeals[0]["id"], outcome="reinstate", note="맞는 말씀"
    )
    assert decided.status_code == 200
    assert cid in site.visible_ids()
    assert site.get(author, f"/api/comments/{cid}/moderation").json()["appeal"]["status"] == (
        "reinstated"
    )
    actions = [e["action"] for e in site.audit(mod)]
    assert actions[:3] == ["appeal_reinstate", "appeal", "remove"]


def test_audit_search_and_csv_export(site: Site) -> None:
    """The audit log is searchable and exports as CSV that spreadsheets cannot run."""
    viewer, mod = site.guest("=HYPERLINK(1)"), site.login("mod")
    a = site.post(viewer, "광고 링크 스팸", "a").json()["id"]
    b = site.post(viewer, "욕설", "b").json()["id"]
    site.act(mod, "remove", comment_id=a, reason="spam")
    site.act(mod, "remove", comment_id=b, reason="abuse")
    found = site.get(mod, "/api/moderation/audit?q=광고").json()["items"]
    assert [e["comment_id"] for e in found] == [a]
    page = site.get(mod, "/moderate/audit?q=abuse")
    assert page.status_code == 200 and "욕설" in page.text and "광고 링크" not in page.text
    exported = site.get(mod, "/moderate/audit?action=remove&format=csv")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert rows[0][:4] == ["id", "created_at", "broadcast_id", "action"]
    assert {r[6] for r in rows[1:]} == {str(a), str(b)}
    assert all(r[8] == "'=HYPERLINK(1)" for r in rows[1:])
    assert site.get(mod, "/api/moderation/audit?since=yesterday").status_code == 400


def test_transparency_counts_without_personal_data(site: Site) -> None:
    """The public report counts removals by reason and approved holds, naming no one."""
    viewer, mod = site.guest("홍길동"), site.login("mod")
    ids = [site.post(viewer, f"비밀 댓글 {i}", f"c{i}").json()["id"] for i in range(3)]
    site.act(mod, "remove", comment_id=ids[0], reason="spam")
    site.act(mod, "remove", comment_id=ids[1], reason="spam")
    site.act(mod, "remove", comment_id=ids[2], reason="other", reason_text="홍길동 신상")
    site.act(mod, "restore", comment_id=ids[2])
    report = site.c.get("/api/broadcasts/1/transparency").json()
    assert report["removed_by_reason"] == {"spam": 2} and report["removed"] == 2
    page = site.c.get("/broadcasts/1/transparency")
    assert page.status_code == 200
    for secret in ("홍길동", "비밀 댓글", "신상"):
        assert secret not in page.text and secret not in str(report)
    assert site.c.get("/broadcasts/999/transparency").status_code == 404


def test_admin_creates_staff_with_a_csrf_protected_form(site: Site) -> None:
    """The accounts form carries a CSRF token, refuses a post without it, creates staff."""
    admin = site.login("admin")
    page = site.get(admin, "/admin/accounts")
    assert f'name="csrf_token" value="{admin.csrf}"' in page.text
    form = {
        "username": "newmod",
        "password": PASSWORD,
        "role": "moderator",
        "display_name": "새 모더레이터",
        "department": "",
    }
    forged = site.c.post("/admin/accounts", data=form, headers=admin.headers(False))
    assert forged.status_code == 403
    weak = site.c.post(
        "/admin/accounts",
        data={**form, "password": "short", "csrf_token": admin.csrf},
        headers=admin.headers(False),
    )
    assert weak.status_code == 400 and "10" in weak.text
    made = site.c.post(
        "/admin/accounts",
        data={**form, "csrf_token": admin.csrf},
        headers=admin.headers(False),
        follow_redirects=False,
    )
    assert made.status_code == 303 and made.headers["location"] == "/admin/accounts?created=newmod"
    new = site.login("newmod")
    assert site.get(new, "/moderate/1").status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"action": "explode"}, 400, "action"),
        ({"action": "remove", "comment_id": 1}, 400, "reason"),
        ({"action": "remove", "comment_id": 1, "reason": "other"}, 400, "reason_text"),
        ({"action": "remove", "comment_id": "1", "reason": "spam"}, 400, "comment_id"),
        ({"action": "remove", "comment_id": 999, "reason": "spam"}, 404, "comment_id"),
        ({"action": "slow_mode", "seconds": -1}, 400, "seconds"),
        ({"action": "chat", "closed": "yes"}, 400, "closed"),
        ({"action": "ban", "comment_id": 1, "reason": "spam", "scope": "galaxy"}, 400, "scope"),
        ({"action": "word_add", "word": "...?"}, 400, "word"),
        ({"action": "approve", "comment_id": 1}, 409, "comment_id"),
    ],
)
def test_bad_action_bodies_name_the_field(
    site: Site, body: dict[str, Any], status: int, field: str
) -> None:
    """A malformed action is refused with the field at fault and nothing is written."""
    viewer, mod = site.guest("시민"), site.login("mod")
    site.post(viewer, "댓글", "a")
    response = site.c.post("/api/moderation/broadcasts/1/actions", json=body, headers=mod.headers())
    assert response.status_code == status, response.text
    assert response.json()["error"]["field"] == field
    assert site.audit(mod) == []
    assert (
        site.c.post(
            "/api/moderation/broadcasts/99/actions", json=body, headers=mod.headers()
        ).status_code
        == 404
    )


# -- personal data in names and in staff texts (issue 14) ----------------------------------


@pytest.mark.parametrize(
    "nickname", ["010-1234-5678", "공일공일이삼사오육칠팔", "hong(at)naver.com", "1588ㅡ1234"]
)
def test_a_nickname_with_personal_data_is_refused(site: Site, nickname: str) -> None:
    """A phone number, RRN or address as a nickname would sit beside every comment and in
    exports: 400 personal_data naming `nickname`; an ordinary name with digits is fine."""
    response = site.c.post("/api/session", json={"nickname": nickname})
    assert response.status_code == 400, response.text
    assert response.json()["error"] == {
        "code": "personal_data",
        "field": "nickname",
        "message": "must not contain a phone number, resident registration number or"
        " e-mail address",
    }
    assert site.c.post("/api/session", json={"nickname": "시민2026"}).status_code == 201


def test_an_official_is_warned_before_personal_data_is_published(site: Site) -> None:
    """An answer or status note with personal data is refused with 409 personal_data and
    the masked text; sent again with mask_personal_data it is published masked."""
    citizen, official = site.guest("질문자"), site.login("official")
    asked = site.c.post(
        "/api/broadcasts/1/questions",
        headers=citizen.headers(),
        json={"text": "담당자 연락처는요?", "client_id": "q1"},
    )
    qid = asked.json()["id"]
    text = "담당자 공일공-일이삼사-오육칠팔 로 연락 주세요"

    def answer(**extra: Any) -> Any:
        return site.c.post(
            f"/api/questions/{qid}/answer",
            headers=official.headers(),
            json={"text": text, "mode": "written", **extra},
        )

    warned = answer()
    assert warned.status_code == 409, warned.text
    error = warned.json()["error"]
    assert error["code"] == "personal_data" and error["kinds"] == ["phone"]
    assert error["masked"] == "담당자 ***-****-**** 로 연락 주세요"
    assert site.get(citizen, f"/api/questions/{qid}").json()["question"]["answer"] is None
    published = answer(mask_personal_data=True)
    assert published.status_code == 200, published.text
    assert published.json()["question"]["answer"]["text"] == error["masked"]
    note = site.c.post(
        f"/api/questions/{qid}/status",
        headers=official.headers(),
        json={
            "status": "forwarded",
            "note": "hong@seoul.go.kr 로 전달",
            "department": "교통정책과",
        },
    )
    assert note.status_code == 409 and note.json()["error"]["field"] == "note"


def test_appeal_texts_and_reasons_are_masked(site: Site) -> None:
    """An appeal, a report's reason text and a removal reason are kept and shown with
    personal data masked; the appellant is told."""
    author, other, mod = site.guest("작성자"), site.guest("신고자"), site.login("mod")
    cid = site.post(author, "평범한 댓글", "a").json()["id"]
    reported = site.c.post(
        f"/api/comments/{cid}/reports",
        headers=other.headers(),
        json={"reason": "other", "reason_text": "내 번호 010 9876 5432"},
    )
    assert reported.status_code in (200, 201), reported.text
    site.act(
        mod, "remove", comment_id=cid, reason="other", reason_text="작성자 메일 kim@naver.com 확인"
    )
    status = site.get(author, f"/api/comments/{cid}/moderation").json()
    assert "kim@naver.com" not in json.dumps(status, ensure_ascii=False)
    appealed = site.c.post(
        f"/api/comments/{cid}/appeal",
        headers=author.headers(),
        json={"text": "제 주민번호 900101-1234567 로 확인해 보세요"},
    )
    assert appealed.status_code == 201, appealed.text
    assert "notice" in appealed.json()
    appeals = site.get(mod, "/api/moderation/broadcasts/1/appeals").json()["items"]
    assert appeals[0]["text"] == "제 주민번호 ******-******* 로 확인해 보세요"
    record = json.dumps(site.audit(mod), ensure_ascii=False)
    assert "9876" not in record and "kim@naver.com" not in record


def test_an_oversized_form_is_refused_before_it_is_parsed(site: Site) -> None:
    """The account form (the one urlencoded form) stops reading at 64 KiB: 413 too_large,
    and a normal-sized post of the same form still answers."""
    admin = site.login("admin")
    big = site.c.post(
        "/admin/accounts", headers=admin.headers(False), content=b"username=" + b"a" * (100 << 10)
    )
    assert big.status_code == 413 and big.json()["error"]["code"] == "too_large"
    small = site.c.post(
        "/admin/accounts",
        headers={**admin.headers(False), "content-type": "application/x-www-form-urlencoded"},
        content=b"username=x&csrf_token=wrong",
    )
    assert small.status_code == 403
