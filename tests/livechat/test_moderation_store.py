"""Moderation over a real hub and a real database, on both engines: every action changes
what it changes and writes its audit row in one transaction."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from livechat import (
    AccessStore,
    CommentAccess,
    CommentHub,
    CommentStore,
    Identity,
    ModerationStore,
    NewComment,
    OpsStore,
    QuestionService,
    QuestionStore,
)
from livechat.moderation.moderation_store import Conflict
from livechat.moderation.moderator import ModerationError, Moderator
from livechat.network import address_key
from tests.livechat.hubkit import BROADCAST, citizen, open_hub
from web.moderation.author_notices import NOTICES

MODERATOR = Identity("u:2", "운영자", "moderator")
OFFICIAL = Identity("u:1", "김주무관", "official", "교통정책과")


@contextlib.asynccontextmanager
async def open_moderation(url: str) -> AsyncIterator[Moderator]:
    async with open_hub(url, burst=1000, rate_per_minute=100_000.0) as hub:
        moderator = Moderator(hub, ModerationStore(hub.store.db, hub.store), NOTICES)
        await moderator.install()
        try:
            yield moderator
        finally:
            await moderator.stop()


async def post(hub: CommentHub, who: Identity, client_id: str, text: str) -> int:
    return (await hub.post(BROADCAST, who, client_id, text)).comment.id


async def test_remove_restore_and_the_audit_log(database_url: str) -> None:
    """Removing records the reason and one audit row; restoring forgets the reason; the
    audit search finds both (case-insensitively for ASCII) and the transparency counts
    agree; a second removal of a removed comment changes nothing."""
    async with open_moderation(database_url) as moderator:
        hub = moderator.hub
        cid = await post(hub, citizen(1), "a", "Spam spam 광고")
        await moderator.perform(
            MODERATOR, BROADCAST, {"action": "remove", "comment_id": cid, "reason": "spam"}
        )
        removal = await moderator.store.removal(cid)
        assert removal is not None and removal.reason == "spam"
        with pytest.raises(ModerationError) as info:
            await moderator.perform(
                MODERATOR, BROADCAST, {"action": "remove", "comment_id": cid, "reason": "spam"}
            )
        assert info.value.code == "conflict"
        assert len(await moderator.store.search_audit(action="remove")) == 1
        counts = await moderator.store.transparency(BROADCAST)
        assert (counts["comments"], counts["removed"], counts["removed_by_reason"]) == (
            1,
            1,
            {"spam": 1},
        )
        await moderator.perform(MODERATOR, BROADCAST, {"action": "restore", "comment_id": cid})
        assert await moderator.store.removal(cid) is None
        stored = await hub.store.get(cid)
        assert stored is not None and stored.status == "visible"
        found = await moderator.store.search_audit(query="SPAM")
        assert [e.action for e in found] == ["restore", "remove"]
        assert all(e.comment_id == cid and e.target_name == "시민1" for e in found)
        assert [c.id for c in await moderator.store.reshown_among_latest(BROADCAST, cid, 10)] == [
            cid
        ]


async def test_restrictions_bind_the_author_and_their_place(database_url: str) -> None:
    """A timeout binds its author in the broadcast, and another identity posting from the
    same place until the shorter end; lifting it frees both."""
    async with open_moderation(database_url) as moderator:
        hub = moderator.hub
        first = await hub.post(BROADCAST, citizen(1), "a", "첫 글", address="203.0.113.9")
        result = await moderator.perform(
            MODERATOR,
            BROADCAST,
            {"action": "timeout", "comment_id": first.comment.id, "minutes": 10, "reason": "abuse"},
        )
        restriction = result["restriction"]
        found = await moderator.store.active_restriction(citizen(1).key, BROADCAST)
        assert found is not None and found.kind == "timeout"
        elsewhere = await moderator.store.active_restriction(
            citizen(2).key, BROADCAST, origin=address_key("203.0.113.9")
        )
        assert elsewhere is not None and elsewhere.id == restriction["id"]
        assert [r.id for r in await moderator.store.restrictions(BROADCAST)] == [restriction["id"]]
        await moderator.perform(
            MODERATOR,
            BROADCAST,
            {
                "action": "unban",
                "restriction_id": restriction["id"],
                "reason": "other",
                "reason_text": "실수",
            },
        )
        assert await moderator.store.active_restriction(citizen(1).key, BROADCAST) is None


async def test_the_authors_own_restriction_comes_before_their_places(database_url: str) -> None:
    """An author's own restrictions answer first (a ban before a timeout); another identity
    at the same place gets the place's binding that ends last, ending at the shorter of the
    restriction's end and the place's bound."""
    async with open_moderation(database_url) as moderator:
        hub, place = moderator.hub, "203.0.113.9"
        first = await hub.post(BROADCAST, citizen(1), "a", "첫 글", address=place)
        third = await hub.post(BROADCAST, citizen(3), "c", "셋째 글", address=place)

        async def restrict(comment_id: int, action: str, **extra: object) -> int:
            body = {"action": action, "comment_id": comment_id, "reason": "abuse", **extra}
            return int((await moderator.perform(MODERATOR, BROADCAST, body))["restriction"]["id"])

        short = await restrict(first.comment.id, "timeout", minutes=10)
        ban = await restrict(first.comment.id, "ban")
        half = await restrict(third.comment.id, "timeout", minutes=30)
        store, origin = moderator.store, address_key(place)
        own = await store.active_restriction(citizen(1).key, BROADCAST, origin=origin)
        assert own is not None and (own.id, own.kind, own.until) == (ban, "ban", None)
        timed = await store.active_restriction(citizen(3).key, BROADCAST, origin=origin)
        assert timed is not None and timed.id == half
        other = await store.active_restriction(citizen(2).key, BROADCAST, origin=origin)
        # the ban binds the place for 24 hours: its bound ends last
        assert other is not None and other.id == ban and other.until is not None
        assert other.until > (timed.until or "")
        assert short not in {own.id, timed.id, other.id}
        assert await store.active_restriction(citizen(2).key, BROADCAST) is None


async def test_words_reports_and_appeals(database_url: str) -> None:
    """A blocked word is unique by its folded spelling; reports from two networks hide a
    comment for review (one audit row); an appeal of a removal, once, and reinstating it
    shows the comment again."""
    async with open_moderation(database_url) as moderator:
        hub, store = moderator.hub, moderator.store
        await moderator.perform(MODERATOR, BROADCAST, {"action": "word_add", "word": "바보"})
        with pytest.raises(ModerationError) as info:
            await moderator.perform(MODERATOR, BROADCAST, {"action": "word_add", "word": "바보"})
        assert info.value.code == "conflict"
        assert [w.word for w in await store.words()] == ["바보"]
        target = await post(hub, citizen(1), "t", "평범한 글")
        for n, address in enumerate(("198.51.100.1", "203.0.113.1", "192.0.2.1")):
            await post(hub, citizen(10 + n), "own", "저도 한마디")  # established viewers
            await moderator.report(
                citizen(10 + n), target, "abuse", "", address=address, session_age=86_400.0
            )
        held = await hub.store.get(target)
        assert held is not None and held.status == "held"
        with pytest.raises(Conflict):  # once per reporter
            await store.report(held, citizen(10).key, "spam", "", None)
        assert [c.id for c in await store.held(BROADCAST)] == [target]
        assert (await store.report_counts([target]))[target] == {"abuse": 3}
        assert [e.action for e in await store.search_audit(action="auto_hide")] == ["auto_hide"]
        gone = await post(hub, citizen(2), "g", "지워질 글")
        await moderator.perform(
            MODERATOR, BROADCAST, {"action": "remove", "comment_id": gone, "reason": "off_topic"}
        )
        await moderator.appeal(citizen(2), gone, "주제에 맞는 글입니다")
        with pytest.raises(ModerationError):
            await moderator.appeal(citizen(2), gone, "다시")
        [appeal] = await store.appeals(BROADCAST, "open")
        await moderator.perform(
            MODERATOR,
            BROADCAST,
            {"action": "appeal_decide", "appeal_id": appeal.id, "outcome": "reinstate"},
        )
        back = await hub.store.get(gone)
        assert back is not None and back.status == "visible"
        assert (await store.appeals(BROADCAST))[0].status == "reinstated"
        counts = await store.transparency(BROADCAST)
        assert counts["held_pending"] == 1 and counts["appeals"] == {"reinstated": 1}


async def test_a_pinned_live_answer_goes_through_the_audit(database_url: str) -> None:
    """An official pinning a live answer pins it like a moderator would: the chat settings
    name it and the moderation log records the pin by the official."""
    async with open_moderation(database_url) as moderator:
        hub = moderator.hub
        questions = QuestionService(hub, QuestionStore(hub.store.db, hub.store))
        questions.pinner = moderator.pin
        await questions.start()
        qid = (await questions.ask(BROADCAST, citizen(1), "q1", "배차 간격은?")).comment.id
        answered = await questions.answer(
            BROADCAST, qid, OFFICIAL, "10분입니다", live=True, client_id="ans", pin=True
        )
        assert answered.comment_id is not None
        assert (await hub.store.get_chat_settings(BROADCAST)).pinned_id == answered.comment_id
        [entry] = await moderator.store.search_audit(action="pin")
        assert (entry.actor_name, entry.comment_id) == ("김주무관", answered.comment_id)
        reply = await hub.store.get(answered.comment_id)
        assert reply is not None and reply.reply_to == qid and reply.flags == "answer"
        assert reply.wire()["reply_to"] == qid and reply.wire()["flags"] == ["answer"]


async def test_forgetting_an_author_reaches_the_moderation_record(database_url: str) -> None:
    """Deleting an account renames its comments and its entries in the moderation record
    in one transaction; with removal, its comments are taken down and emptied."""
    async with open_moderation(database_url) as moderator:
        hub = moderator.hub
        cid = await post(hub, citizen(1), "a", "내 글")
        await moderator.perform(
            MODERATOR,
            BROADCAST,
            {"action": "timeout", "comment_id": cid, "minutes": 1, "reason": "spam"},
        )
        removed = await hub.store.forget_author(citizen(1).key, "탈퇴한 사용자", remove=True)
        assert removed == {BROADCAST: [cid]}
        comment = await hub.store.get(cid)
        assert comment is not None and (comment.status, comment.text, comment.author_name) == (
            "removed",
            "",
            "탈퇴한 사용자",
        )
        assert {e.target_name for e in await moderator.store.search_audit()} == {"탈퇴한 사용자"}
        assert [r.author_name for r in await moderator.store.restrictions(BROADCAST)] == [
            "탈퇴한 사용자"
        ]


async def test_access_and_retention(database_url: str) -> None:
    """Who may take part is stored per broadcast; retention deletes only old visible
    comments that nothing refers to, finding the referring columns in the live schema."""
    async with open_hub(database_url, burst=1000) as hub:
        access = AccessStore(hub.store.db)
        await access.set(BROADCAST, CommentAccess(accounts_only=True))
        assert await AccessStore(hub.store.db).get(BROADCAST) == CommentAccess(accounts_only=True)
        comments: CommentStore = hub.store
        old = (datetime.now(UTC) - timedelta(days=40)).isoformat(timespec="microseconds")
        kept, _ = await comments.insert(
            NewComment(BROADCAST, citizen(1), "pinned", "고정", created_at=old)
        )
        await comments.insert(NewComment(BROADCAST, citizen(1), "old", "오래됨", created_at=old))
        fresh, _ = await comments.insert(NewComment(BROADCAST, citizen(1), "new", "새 글"))
        moderation = ModerationStore(comments.db, comments)
        await moderation.update_chat(MODERATOR, BROADCAST, "pin", {"pinned_comment_id": kept.id})
        ops = OpsStore(comments.db, comments)
        referrers = await ops.referrers()
        assert ("chat_settings", "pinned_comment_id") in referrers
        assert ("questions", "comment_id") in referrers
        assert ("comment_reports", "comment_id") in referrers
        cutoff = (datetime.now(UTC) - timedelta(days=30)).isoformat(timespec="microseconds")
        assert await ops.prune(cutoff, batch=1) == 1
        assert [c.id for c in await comments.latest(BROADCAST, 10)] == [kept.id, fresh.id]
        assert await ops.counts_since(cutoff) == {BROADCAST: 1}
