"""Comments, moderation and questions are stamped by the database's clock, never the
host's: with this process's clock days off, every stamp still lies between two readings of
the database's clock, and a timeout set by a host that runs behind still binds. Both
engines."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from livechat import Identity, QuestionService, QuestionStore
from tests.clock import SkewedHosts, between, database_now
from tests.livechat.hubkit import BROADCAST, citizen, open_hub
from tests.livechat.test_moderation_store import MODERATOR, OFFICIAL, open_moderation

BEHIND = -timedelta(days=2)  # this host's clock, against the database's


async def test_comments_and_moderation_carry_the_database_clock(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Posted comments (one insert and a batch of concurrent ones), audit rows, a removal,
    a restriction, a blocked word, a report and an appeal: each stamp is the database's;
    a 10-minute timeout from a host two days behind is active, and ends 10 minutes after
    the database's now."""
    SkewedHosts(monkeypatch, BEHIND)
    async with open_moderation(database_url) as moderator:
        hub, store, db = moderator.hub, moderator.store, moderator.store.db
        before = await database_now(db)
        first = (await hub.post(BROADCAST, citizen(1), "a", "첫 글")).comment
        batch = [
            (await hub.post(BROADCAST, citizen(n), f"b{n}", f"글 {n}")).comment for n in range(2, 6)
        ]
        await moderator.perform(
            MODERATOR, BROADCAST, {"action": "remove", "comment_id": batch[0].id, "reason": "spam"}
        )
        await moderator.appeal(citizen(2), batch[0].id, "주제에 맞는 글입니다")
        [appeal] = await store.appeals(BROADCAST, "open")
        await moderator.perform(
            MODERATOR,
            BROADCAST,
            {"action": "appeal_decide", "appeal_id": appeal.id, "outcome": "uphold"},
        )
        await moderator.perform(MODERATOR, BROADCAST, {"action": "word_add", "word": "바보"})
        await store.report(batch[1], citizen(9).key, "abuse", "", None)
        result = await moderator.perform(
            MODERATOR,
            BROADCAST,
            {"action": "timeout", "comment_id": first.id, "minutes": 10, "reason": "abuse"},
        )
        after = await database_now(db)

        stored = [await hub.store.get(c.id) for c in [first, *batch]]
        stamps = {f"comment {c.id}": c.created_at for c in stored if c is not None}
        stamps |= {f"returned {c.id}": c.created_at for c in [first, *batch]}
        stamps |= {f"audit {e.id} {e.action}": e.created_at for e in await store.search_audit()}
        removal = await store.removal(batch[0].id)
        assert removal is not None
        stamps["removal"] = removal.removed_at
        [appeal] = await store.appeals(BROADCAST)
        assert appeal.decided_at is not None
        stamps |= {"appeal": appeal.created_at, "appeal decided": appeal.decided_at}
        stamps |= {f"word {w.word}": w.created_at for w in await store.words()}
        stamps["report"] = await db.fetchval("SELECT created_at FROM comment_reports")
        restriction = await store.active_restriction(citizen(1).key, BROADCAST)
        assert restriction is not None and restriction.id == result["restriction"]["id"]
        stamps["restriction"] = restriction.created_at
        assert len(stamps) == 2 * 5 + 5 + 1 + 2 + 1 + 1 + 1, stamps  # 5 audit rows
        wrong = {k: v for k, v in stamps.items() if not between(v, before, after)}
        assert not wrong, (before, after, wrong)
        assert restriction.until is not None
        ends, ten = datetime.fromisoformat(restriction.until), timedelta(minutes=10)
        # 10 minutes from the database's now. SQLite's `before` and `after` are to the
        # millisecond, the timeout's own `now` to the microsecond: within the same
        # millisecond as `after` it ends up to 999 µs past after + 10 minutes.
        assert datetime.fromisoformat(before[:23] + "+00:00") + ten <= ends
        assert ends < datetime.fromisoformat(after) + ten + timedelta(milliseconds=1)
        assert [r.id for r in await store.restrictions(BROADCAST)] == [restriction.id]


async def test_questions_carry_the_database_clock(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A question's row, its vote, follow, status change, answer (with its live comment)
    and their events are stamped by the database's clock."""
    SkewedHosts(monkeypatch, BEHIND)
    async with open_hub(database_url, burst=1000, rate_per_minute=100_000.0) as hub:
        service = QuestionService(hub, QuestionStore(hub.store.db, hub.store))
        await service.start()
        store, db = service.store, hub.store.db
        before = await database_now(db)
        asked = await service.ask(BROADCAST, citizen(1), "q", "버스 노선은 언제 바뀌나요?")
        question_id = asked.comment.id
        await store.vote(question_id, citizen(2).key, True)
        await store.follow(citizen(3).key, question_id)
        await store.set_status(question_id, MODERATOR, "forwarded", "", OFFICIAL.department)
        official = Identity(OFFICIAL.key, OFFICIAL.name, OFFICIAL.role, OFFICIAL.department)
        answered, comment_id = await store.answer(
            question_id, BROADCAST, official, "다음 달입니다.", "live-1"
        )
        after = await database_now(db)
        assert comment_id is not None
        answer = await hub.store.get(comment_id)
        assert answer is not None and answered.answer is not None
        stamps = {
            "question": asked.comment.created_at,
            "updated": answered.updated_at,
            "answered": answered.answer.at,
            "answer comment": answer.created_at,
            "vote": await db.fetchval("SELECT voted_at FROM question_votes"),
        }
        for n, (at,) in enumerate(await db.fetch("SELECT followed_at FROM question_follows")):
            stamps[f"follow {n}"] = at
        for n, (at,) in enumerate(await db.fetch("SELECT at FROM question_events")):
            stamps[f"event {n}"] = at
        assert len(stamps) == 5 + 2 + 2, stamps
        wrong = {k: v for k, v in stamps.items() if not between(v, before, after)}
        assert not wrong, (before, after, wrong)
