"""The question service over a real hub, a real SQLite file and a real broker."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from db import Transaction
from livechat import (
    CommentHub,
    CommentRejected,
    CommentStore,
    Identity,
    NewComment,
    QuestionService,
    QuestionStore,
    Viewer,
)
from livechat.comment import Comment
from livechat.protocol import Command
from tests.livechat.hubkit import (
    BROADCAST,
    citizen,
    frames_until,
    open_hub,
    open_livechat_database,
)
from tests.support import RedisServer

OFFICIAL = Identity("u:1", "김주무관", "official", "교통정책과")
TRANSPORT = Identity("u:3", "박주무관", "official", "도시 교통실")
MODERATOR = Identity("u:2", "운영자", "moderator")


@contextlib.asynccontextmanager
async def open_questions(db: Path | str, broker_url: str = "") -> AsyncIterator[QuestionService]:
    async with open_hub(db, broker_url, burst=1000, rate_per_minute=100000.0) as hub:
        service = QuestionService(hub, QuestionStore(hub.store.db, hub.store))
        await service.start()
        yield service


async def ask(service: QuestionService, who: Identity, text: str, client_id: str) -> int:
    result = await service.ask(BROADCAST, who, client_id, text)
    return result.comment.id


def question_frames(frames: list[dict[str, object]]) -> list[dict[str, object]]:
    return [f for f in frames if f["type"] == "question"]


async def test_asking_records_the_question_and_follows_it(database_url: str) -> None:
    """A post with question=True is a comment flagged question, a questions row (open, 0
    votes) and a follow by the asker; a retry with the same client_id adds nothing."""
    async with open_questions(database_url) as service:
        qid = await ask(service, citizen(1), "지하철 막차 연장은요?", "k1")
        again = await service.ask(BROADCAST, citizen(1), "k1", "지하철 막차 연장은요?")
        assert again.comment.id == qid and not again.created
        question = await service.store.get(qid)
        assert question is not None
        assert (question.status, question.votes, question.text) == (
            "open",
            0,
            "지하철 막차 연장은요?",
        )
        assert await service.store.followed(BROADCAST, citizen(1).key) == {qid}
        assert [q.id for q in await service.store.of_broadcast(BROADCAST)] == [qid]


async def test_one_vote_per_viewer_with_undo(database_url: str) -> None:
    """Voting twice counts once, unvoting takes it back, voting again counts again, and
    the asker may not vote for their own question."""
    async with open_questions(database_url) as service:
        qid = await ask(service, citizen(1), "질문", "k1")
        first = await service.vote(BROADCAST, qid, citizen(2))
        second = await service.vote(BROADCAST, qid, citizen(2))
        assert (first.changed, second.changed, second.question.votes) == (True, False, 1)
        undo = await service.vote(BROADCAST, qid, citizen(2), up=False)
        assert (undo.changed, undo.question.votes) == (True, 0)
        assert (await service.vote(BROADCAST, qid, citizen(2), up=False)).changed is False
        assert (await service.vote(BROADCAST, qid, citizen(2))).question.votes == 1
        with pytest.raises(CommentRejected) as info:
            await service.vote(BROADCAST, qid, citizen(1))
        assert info.value.code == "own_question"
        assert await service.store.vote_count(qid) == 1


async def test_concurrent_votes_through_two_connections_count_once(database_url: str) -> None:
    """Forty simultaneous votes by one viewer through two stores (two writer connections,
    as two processes have) count once; votes of ten viewers count ten."""
    db = database_url
    async with open_questions(db) as service:
        qid = await ask(service, citizen(1), "질문", "k1")
        async with open_livechat_database(db) as second:
            other = QuestionStore(second, CommentStore(second))
            stores = [service.store, other]
            results = await asyncio.gather(
                *[stores[i % 2].vote(qid, citizen(2).key, True) for i in range(40)]
            )
            assert sum(changed for changed, _ in results) == 1
            await asyncio.gather(
                *[stores[i % 2].vote(qid, citizen(10 + i).key, True) for i in range(10)]
            )
        question = await service.store.get(qid)
        assert question is not None
        assert question.votes == 11 == await service.store.vote_count(qid)


async def test_status_moves_follow_the_rules_and_are_timestamped(database_url: str) -> None:
    """An official forwards; only an official of that department (or a moderator) may
    then answer or move it, and marks will_reflect; a viewer is refused; an impossible
    move is refused; every accepted change is one timestamped event."""
    async with open_questions(database_url) as service:
        qid = await ask(service, citizen(1), "질문", "k1")
        with pytest.raises(CommentRejected) as info:
            await service.set_status(BROADCAST, qid, citizen(2), "answered")
        assert info.value.code == "forbidden"
        with pytest.raises(CommentRejected) as info:
            await service.set_status(BROADCAST, qid, OFFICIAL, "forwarded")
        assert info.value.code == "bad_field"  # which department?
        forwarded = await service.set_status(
            BROADCAST, qid, OFFICIAL, "forwarded", "담당 부서에서 검토합니다", "도시교통실"
        )
        assert (forwarded.status, forwarded.department) == ("forwarded", "도시교통실")
        for attempt in (
            service.set_status(BROADCAST, qid, OFFICIAL, "will_reflect"),
            service.answer(BROADCAST, qid, OFFICIAL, "제가 답합니다", live=False),
        ):
            with pytest.raises(CommentRejected) as info:
                await attempt
            assert info.value.code == "forbidden" and "도시교통실" in info.value.message
        reflected = await service.set_status(
            BROADCAST, qid, TRANSPORT, "will_reflect", "내년 예산에 반영"
        )
        assert reflected.status_note == "내년 예산에 반영"
        with pytest.raises(CommentRejected) as info:
            await service.set_status(BROADCAST, qid, OFFICIAL, "not_in_remit")
        assert info.value.code == "bad_transition"
        events = await service.store.events(qid)
        assert [(e.from_status, e.to_status) for e in events] == [
            ("open", "forwarded"),
            ("forwarded", "will_reflect"),
        ]
        assert all(e.at.endswith("+00:00") for e in events)
        assert reflected.version > forwarded.version


async def test_racing_officials_cannot_both_move_from_one_status(database_url: str) -> None:
    """Two officials changing the same open question at once: the status checks run inside
    the write transaction, so exactly one wins when the other's move is then impossible."""
    db = database_url
    async with open_questions(db) as service:
        qid = await ask(service, citizen(1), "질문", "k1")
        async with open_livechat_database(db) as second:
            other = QuestionStore(second, CommentStore(second))
            outcomes = await asyncio.gather(
                service.store.set_status(qid, OFFICIAL, "not_in_remit", "", ""),
                other.set_status(qid, MODERATOR, "will_reflect", "", ""),
                return_exceptions=True,
            )
        failures = [o for o in outcomes if isinstance(o, CommentRejected)]
        assert len(failures) == 1 and failures[0].code == "bad_transition"
        assert len(await service.store.events(qid)) == 1


async def test_live_answer_is_a_chat_comment_that_replies_to_the_question(
    database_url: str,
) -> None:
    """A live answer is stored as a comment (flag answer, reply_to the question, the
    official's role and department), reaches viewers, and marks the question answered."""
    async with open_questions(database_url) as service:
        hub: CommentHub = service.hub
        qid = await ask(service, citizen(1), "버스 배차 간격은?", "k1")
        viewer = Viewer(None, 64)
        await hub.join(BROADCAST, viewer, None)
        result = await service.answer(
            BROADCAST, qid, OFFICIAL, "다음 달부터 10분으로 줄입니다", live=True, client_id="ans1"
        )
        assert result.question.status == "answered" and result.comment_id is not None
        answer = result.question.answer
        assert answer is not None and answer.live and answer.department == "교통정책과"
        frames = await frames_until(
            viewer,
            lambda fs: any(
                i.get("reply_to") == qid for f in fs if f["type"] == "comments" for i in f["items"]
            ),
        )
        item = next(
            i
            for f in frames
            if f["type"] == "comments"
            for i in f["items"]
            if i.get("reply_to") == qid
        )
        assert item["flags"] == ["answer"] and item["role"] == "official"
        assert item["department"] == "교통정책과"
        retry = await service.answer(
            BROADCAST, qid, OFFICIAL, "다음 달부터 10분으로 줄입니다", live=True, client_id="ans1"
        )
        assert retry.comment_id is None
        assert len(await service.store.events(qid)) == 1
        hub.leave(BROADCAST, viewer)


async def test_changes_reach_viewers_on_another_process(
    database_url: str, redis_server: RedisServer
) -> None:
    """Two hubs on one file and one Redis: an ask, a vote and a written answer made on one
    arrive as `question` frames, in version order, on the other."""
    db = database_url
    async with open_questions(db, redis_server.url) as a, open_questions(db, redis_server.url) as b:
        viewer = Viewer(None, 64)
        await b.hub.join(BROADCAST, viewer, None)
        await a.hub.room(BROADCAST)
        qid = await ask(a, citizen(1), "질문", "k1")
        await a.vote(BROADCAST, qid, citizen(2))
        await a.answer(BROADCAST, qid, OFFICIAL, "서면으로 답합니다", live=False)
        frames = await frames_until(viewer, lambda fs: len(question_frames(fs)) >= 3)
        got = question_frames(frames)
        assert [f["event"] for f in got] == ["asked", "votes", "answered"]
        versions = [f["question"]["version"] for f in got]
        assert versions == sorted(versions)
        last = got[-1]["question"]
        assert last["answer"]["live"] is False and last["votes"] == 1
        b.hub.leave(BROADCAST, viewer)


async def test_moderation_hides_the_question(database_url: str) -> None:
    """Removing or holding the underlying comment takes the question off every list and
    makes it unvotable; the tally no longer counts it."""
    async with open_questions(database_url) as service:
        keep = await ask(service, citizen(1), "좋은 질문", "k1")
        gone = await ask(service, citizen(2), "나쁜 질문", "k2")
        await service.hub.store.set_status([gone], "removed")
        assert [q.id for q in await service.store.of_broadcast(BROADCAST)] == [keep]
        assert (await service.store.tallies(BROADCAST))[BROADCAST].received == 1
        with pytest.raises(CommentRejected) as info:
            await service.vote(BROADCAST, gone, citizen(3))
        assert info.value.code == "not_found"


async def test_follow_notifications_until_seen(database_url: str) -> None:
    """The asker follows automatically and is notified of an answer until marking it
    seen; a later follower is told only of changes after following."""
    async with open_questions(database_url) as service:
        qid = await ask(service, citizen(1), "질문", "k1")
        assert await service.store.notifications(citizen(1).key) == []
        await service.set_status(BROADCAST, qid, OFFICIAL, "forwarded", "", "복지정책과")
        assert await service.store.follow(citizen(2).key, qid)
        await service.answer(BROADCAST, qid, MODERATOR, "답변", live=False)
        mine = await service.store.notifications(citizen(1).key)
        assert len(mine) == 1 and mine[0].last_seen_status == "open"
        assert [e.to_status for e in mine[0].events] == ["forwarded", "answered"]
        theirs = await service.store.notifications(citizen(2).key)
        assert [e.to_status for e in theirs[0].events] == ["answered"]
        assert await service.store.mark_seen(citizen(1).key) == 1
        assert await service.store.notifications(citizen(1).key) == []
        assert await service.store.unfollow(citizen(2).key, qid)
        assert await service.store.notifications(citizen(2).key) == []


async def test_websocket_commands_check_roles(database_url: str) -> None:
    """Over the socket a viewer's vote works but a forged answer or status change earns an
    `error` frame (forbidden) naming the command; the question is unchanged."""
    async with open_questions(database_url) as service:
        hub = service.hub
        qid = await ask(service, citizen(1), "질문", "k1")
        viewer = Viewer(citizen(2), 64)
        await hub.join(BROADCAST, viewer, None)
        await hub.handle_command(
            BROADCAST, viewer, Command("vote", {"type": "vote", "question_id": qid})
        )
        for forged in (
            {"type": "set_question_status", "question_id": qid, "status": "answered"},
            {"type": "answer", "question_id": qid, "text": "가짜 답변"},
        ):
            await hub.handle_command(BROADCAST, viewer, Command(str(forged["type"]), forged))
        await hub.handle_command(
            BROADCAST, viewer, Command("vote", {"type": "vote", "question_id": "x"})
        )
        frames = await frames_until(
            viewer, lambda fs: sum(f["type"] in ("error", "question_done") for f in fs) >= 4
        )
        done = [f for f in frames if f["type"] == "question_done"]
        errors = [f for f in frames if f["type"] == "error"]
        assert done[0]["voted"] is True and done[0]["votes"] == 1
        assert [(e["code"], e["command"]) for e in errors] == [
            ("forbidden", "set_question_status"),
            ("forbidden", "answer"),
            ("bad_field", "vote"),
        ]
        question = await service.store.get(qid)
        assert question is not None and question.status == "open" and question.answer is None
        hub.leave(BROADCAST, viewer)


async def test_a_question_and_its_row_commit_together(database_url: str) -> None:
    """A question comment and its row are one transaction: storing the comment through the
    comment store alone records the question, and when that transaction fails after the
    row was written, neither the comment nor the row is left (no orphan to adopt)."""
    async with open_questions(database_url) as service:
        comments = service.hub.store
        stored, _ = await comments.insert(
            NewComment(BROADCAST, citizen(1), "direct", "직접 질문", flags="question")
        )
        assert await service.store.followed(BROADCAST, citizen(1).key) == {stored.id}

        async def crash(tx: Transaction, comment: Comment) -> None:
            raise RuntimeError("the process died here")

        comments.insert_hooks.append(crash)
        with pytest.raises(RuntimeError):
            await comments.insert(
                NewComment(BROADCAST, citizen(2), "lost", "잃어버린 질문", flags="question")
            )
        comments.insert_hooks.remove(crash)
        assert await comments.find(BROADCAST, citizen(2).key, "lost") is None
        assert [q.text for q in await service.store.of_broadcast(BROADCAST)] == ["직접 질문"]
        assert await service.store.followed(BROADCAST, citizen(2).key) == set()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(2, 6), st.booleans()), min_size=1, max_size=25))
def test_vote_count_always_equals_the_voters(ops: list[tuple[int, bool]]) -> None:
    """After any run of votes and unvotes (split over two writer connections), the stored
    count equals the number of distinct current voters, and never goes below zero."""

    async def run(db: Path) -> None:
        async with open_questions(db) as service:
            qid = await ask(service, citizen(1), "질문", "k1")
            expected: set[int] = set()
            async with open_livechat_database(db) as second:
                other = QuestionStore(second, CommentStore(second))
                for i, (voter, up) in enumerate(ops):
                    store = (service.store, other)[i % 2]
                    await store.vote(qid, citizen(voter).key, up)
                    (expected.add if up else expected.discard)(voter)
            question = await service.store.get(qid)
            assert question is not None
            assert question.votes == len(expected) == await service.store.vote_count(qid)

    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(Path(tmp) / "q.db"))


async def test_vote_flips_are_rate_limited_and_counted_right(database_url: str) -> None:
    """Flipping a vote floods every open page with `question` frames; after the burst an
    identity is told to wait (rate_limited, retry_after), the count stays right, and
    another viewer is not affected."""
    async with open_questions(database_url) as service:
        limited = QuestionService(service.hub, service.store, vote_burst=4, votes_per_minute=1.0)
        qid = await ask(service, citizen(1), "질문", "k1")
        for i in range(4):
            await limited.vote(BROADCAST, qid, citizen(2), up=i % 2 == 0)
        with pytest.raises(CommentRejected) as info:
            await limited.vote(BROADCAST, qid, citizen(2))
        assert info.value.code == "rate_limited"
        assert float(str(info.value.extra["retry_after"])) > 0
        assert (await limited.vote(BROADCAST, qid, citizen(3))).question.votes == 1
        assert await service.store.vote_count(qid) == 1
