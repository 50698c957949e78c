from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from livechat import CommentRejected, Identity, NewComment, Viewer
from tests.livechat.hubkit import BROADCAST, citizen, comment_ids, frames_until, has_ids, open_hub
from tests.support import RedisServer


async def test_post_is_stored_before_ack_and_delivered(database_url: str, broker_url: str) -> None:
    """When post() returns, the comment is in the database and then reaches viewers."""
    async with open_hub(database_url, broker_url) as hub:
        viewer = Viewer(None, 64)
        await hub.join(BROADCAST, viewer, None)
        result = await hub.post(BROADCAST, citizen(1), "c1", "안녕하세요 <b>")
        stored = await hub.store.get(result.comment.id)
        assert stored is not None and stored.text == "안녕하세요 <b>"
        frames = await frames_until(viewer, has_ids(1))
        assert frames[0]["type"] == "hello"
        item = next(f for f in frames if f["type"] == "comments")["items"][0]
        assert item["text"] == "안녕하세요 <b>" and item["client_id"] == "c1"
        assert item["author"] == "시민1" and item["role"] == "viewer"


async def test_retry_with_same_client_id_is_stored_once(database_url: str, broker_url: str) -> None:
    """A post retried with its client_id returns the first comment and stores nothing new."""
    async with open_hub(database_url, broker_url) as hub:
        first = await hub.post(BROADCAST, citizen(1), "same", "한 번만")
        again = await hub.post(BROADCAST, citizen(1), "same", "한 번만")
        assert (first.created, again.created) == (True, False)
        assert again.comment.id == first.comment.id
        page = await hub.store.visible_page(BROADCAST, 0, 10)
        assert [c.id for c in page] == [first.comment.id]


async def test_a_post_not_marked_retry_is_looked_up_only_when_refused(
    database_url: str, broker_url: str
) -> None:
    """A first send (`retry=False`, no read before the limits) sent again unmarked costs
    a token yet gets the stored comment, and still gets it once the limit is spent; a
    retry marked as one costs nothing."""
    async with open_hub(database_url, broker_url, burst=3, rate_per_minute=1) as hub:
        first = await hub.post(BROADCAST, citizen(1), "a", "하나", retry=False)
        marked = await hub.post(BROADCAST, citizen(1), "a", "하나", retry=True)
        unmarked = await hub.post(BROADCAST, citizen(1), "a", "하나", retry=False)
        assert [r.created for r in (first, marked, unmarked)] == [True, False, False]
        assert marked.comment.id == unmarked.comment.id == first.comment.id
        second = await hub.post(BROADCAST, citizen(1), "b", "둘", retry=False)  # the 3rd token
        with pytest.raises(CommentRejected) as info:
            await hub.post(BROADCAST, citizen(1), "c", "셋", retry=False)
        assert info.value.code == "rate_limited"
        late = await hub.post(BROADCAST, citizen(1), "a", "하나", retry=False)
        assert not late.created and late.comment.id == first.comment.id
        page = await hub.store.visible_page(BROADCAST, 0, 10)
        assert [c.id for c in page] == [first.comment.id, second.comment.id]


async def test_ids_increase_and_order_is_kept(database_url: str, broker_url: str) -> None:
    """Viewers get comments in increasing id order, each once."""
    async with open_hub(database_url, broker_url, burst=1000) as hub:
        viewer = Viewer(None, 1000)
        await hub.join(BROADCAST, viewer, None)
        posted = [
            (await hub.post(BROADCAST, citizen(1), f"c{i}", f"#{i}")).comment.id for i in range(60)
        ]
        frames = await frames_until(viewer, has_ids(60))
        assert comment_ids(frames) == posted == sorted(posted)


async def test_events_are_coalesced_under_load(database_url: str, broker_url: str) -> None:
    """In a busy room (many viewers, many comments at once) comments travel in far fewer
    frames than comments, and in order."""
    async with open_hub(database_url, broker_url, burst=1000) as hub:
        viewers = [Viewer(None, 1000) for _ in range(1000)]
        for viewer in viewers:
            await hub.join(BROADCAST, viewer, None)
        await asyncio.gather(*(hub.post(BROADCAST, citizen(i), f"c{i}", "와!") for i in range(200)))
        frames = await frames_until(viewers[0], has_ids(200))
        comment_frames = [f for f in frames if f["type"] == "comments"]
        assert len(comment_frames) < 50
        assert comment_ids(frames) == sorted(comment_ids(frames))


async def test_a_quiet_room_sends_each_comment_at_once(database_url: str, broker_url: str) -> None:
    """With one viewer and comments one by one, each comment is its own frame (no batching
    delay): the viewer has comment n before comment n + 1 is posted."""
    async with open_hub(database_url, broker_url, burst=1000) as hub:
        viewer = Viewer(None, 1000)
        await hub.join(BROADCAST, viewer, None)
        for i in range(5):
            posted = (await hub.post(BROADCAST, citizen(1), f"q{i}", f"#{i}")).comment.id
            frames = await frames_until(
                viewer, lambda got: any(f["type"] == "comments" for f in got)
            )
            assert comment_ids(frames) == [posted]


async def test_a_comment_posted_here_is_sent_without_reading_it_back(
    database_url: str, broker_url: str
) -> None:
    """A comment this process stored reaches its viewers without the room reading the
    database; one stored behind the room's back (as by another process) leaves a gap, and
    the room then reads, sending both in order, each once."""
    async with open_hub(database_url, broker_url, burst=1000) as hub:
        viewer = Viewer(None, 1000)
        await hub.join(BROADCAST, viewer, None)
        first = (await hub.post(BROADCAST, citizen(1), "h0", "첫째")).comment.id
        assert comment_ids(await frames_until(viewer, has_ids(1))) == [first]
        reads = hub.stats.db_fanout_reads
        second = (await hub.post(BROADCAST, citizen(1), "h1", "둘째")).comment.id
        assert comment_ids(await frames_until(viewer, has_ids(1))) == [second]
        assert hub.stats.db_fanout_reads == reads
        behind, _ = await hub.store.insert(
            NewComment(BROADCAST, citizen(2), "elsewhere", "다른 곳")
        )
        third = (await hub.post(BROADCAST, citizen(1), "h2", "셋째")).comment.id
        frames = await frames_until(viewer, has_ids(2))
        assert comment_ids(frames) == [behind.id, third]
        assert hub.stats.db_fanout_reads == reads + 1


async def test_slow_viewer_is_closed_without_slowing_others(
    database_url: str, broker_url: str
) -> None:
    """A viewer that never reads is closed as too slow; a reading viewer gets everything."""
    async with open_hub(database_url, broker_url, burst=1000, send_queue_frames=5) as hub:
        slow, fast = Viewer(None, 5), Viewer(None, 5)
        await hub.join(BROADCAST, slow, None)
        await hub.join(BROADCAST, fast, None)
        received: list[int] = []

        async def read_fast() -> None:
            frames = await frames_until(fast, has_ids(30))
            received.extend(comment_ids(frames))

        reader = asyncio.create_task(read_fast())
        for i in range(30):
            await hub.post(BROADCAST, citizen(i), f"c{i}", f"m{i}")
            await asyncio.sleep(0)  # let the room pump run between posts
        await reader
        assert len(received) == 30
        assert slow.too_slow and slow.closed
        assert hub.stats.slow_disconnects >= 1


async def test_resume_after_gives_exactly_the_missed(database_url: str, broker_url: str) -> None:
    """Reconnecting with the last id seen yields exactly the comments after it, then live."""
    async with open_hub(database_url, broker_url, burst=1000) as hub:
        ids = [
            (await hub.post(BROADCAST, citizen(1), f"c{i}", f"m{i}")).comment.id for i in range(10)
        ]
        viewer = Viewer(None, 100)
        await hub.join(BROADCAST, viewer, ids[3])
        later = (await hub.post(BROADCAST, citizen(1), "late", "live")).comment.id
        frames = await frames_until(viewer, has_ids(7))
        assert comment_ids(frames) == [*ids[4:], later]


async def test_resume_removes_what_was_removed_while_away(
    database_url: str, broker_url: str
) -> None:
    """A page that was away while a comment it shows was removed hears of it on resume
    (`deleted`, before the missed comments); a held comment stays on its author's page,
    where it shows as pending, and in the moderators' console, and leaves everyone
    else's."""
    async with open_hub(database_url, broker_url, burst=1000) as hub:
        ids = [
            (await hub.post(BROADCAST, citizen(i % 2), f"c{i}", f"m{i}")).comment.id
            for i in range(4)
        ]
        await hub.store.set_status([ids[1]], "removed")  # by citizen 1
        await hub.store.set_status([ids[2]], "held")  # by citizen 0
        missed = (await hub.post(BROADCAST, citizen(1), "late", "while away")).comment.id
        moderator = Identity("u:9", "운영자", "moderator")
        for who, expected in (
            (None, [ids[1], ids[2]]),
            (citizen(0), [ids[1]]),
            (moderator, [ids[1]]),
        ):
            viewer = Viewer(who, 100)
            await hub.join(BROADCAST, viewer, ids[3])
            frames = await frames_until(viewer, has_ids(1))
            kinds = [f["type"] for f in frames]
            assert kinds == ["hello", "deleted", "comments"]
            assert frames[1]["ids"] == expected
            assert comment_ids(frames) == [missed]


async def test_resume_ahead_of_room_skips_already_seen(database_url: str, broker_url: str) -> None:
    """A viewer that saw ids this room has not read yet (another process was quicker) gets
    no duplicates: they are skipped when the room reaches them."""
    async with open_hub(database_url, broker_url, burst=1000) as hub:
        ahead, witness = Viewer(None, 100), Viewer(None, 100)
        await hub.join(BROADCAST, witness, None)
        # Stored without waking this room: as if written by another process just now.
        seen, _ = await hub.store.insert(NewComment(BROADCAST, citizen(2), "y", "elsewhere"))
        await hub.join(BROADCAST, ahead, seen.id)
        after = (await hub.post(BROADCAST, citizen(1), "x", "after")).comment.id
        assert comment_ids(await frames_until(witness, has_ids(2))) == [seen.id, after]
        frames = await frames_until(ahead, has_ids(1))
        assert comment_ids(frames) == [after]
        assert "reset" not in [f["type"] for f in frames]


async def test_resume_beyond_the_newest_id_is_clamped(database_url: str, broker_url: str) -> None:
    """`after` beyond every stored comment (a restored backup, a forged id) is lowered to the
    newest id: the viewer is told (`reset` with the real last id) and gets live comments at
    once, on connect and on a `resume` message alike."""
    async with open_hub(database_url, broker_url, burst=1000) as hub:
        newest = (await hub.post(BROADCAST, citizen(1), "a", "before")).comment.id
        viewer = Viewer(None, 100)
        await hub.join(BROADCAST, viewer, 10**6)
        live = (await hub.post(BROADCAST, citizen(1), "b", "live")).comment.id
        frames = await frames_until(viewer, has_ids(1))
        assert [f["type"] for f in frames] == ["hello", "reset", "comments"]
        assert frames[1]["last_id"] == newest
        assert comment_ids(frames) == [live]
        await hub.resume(BROADCAST, viewer, 10**9)
        again = (await hub.post(BROADCAST, citizen(1), "c", "again")).comment.id
        frames = await frames_until(viewer, has_ids(1))
        assert frames[0] == {"type": "reset", "last_id": live}
        assert comment_ids(frames) == [again]


async def test_rate_limit_per_identity(database_url: str, broker_url: str) -> None:
    """After the burst an identity is told how long to wait; another identity is unaffected."""
    async with open_hub(database_url, broker_url, burst=2, rate_per_minute=6) as hub:
        await hub.post(BROADCAST, citizen(1), "a", "1", now=0.0)
        await hub.post(BROADCAST, citizen(1), "b", "2", now=0.0)
        with pytest.raises(CommentRejected) as info:
            await hub.post(BROADCAST, citizen(1), "c", "3", now=0.0)
        assert info.value.code == "rate_limited"
        # 10 s by this process's clock; Redis's clock has moved on a little meanwhile
        assert 9.5 <= float(str(info.value.extra["retry_after"])) <= 10.0
        await hub.post(BROADCAST, citizen(2), "a", "other", now=0.0)


async def test_rate_limit_per_address(database_url: str, broker_url: str) -> None:
    """Many identities from one address share the address bucket."""
    async with open_hub(database_url, broker_url, address_burst=3) as hub:
        for i in range(3):
            await hub.post(BROADCAST, citizen(i), "a", "x", address="10.0.0.1", now=0.0)
        with pytest.raises(CommentRejected) as info:
            await hub.post(BROADCAST, citizen(9), "a", "x", address="10.0.0.1", now=0.0)
        assert "network" in info.value.message


async def test_two_hubs_share_a_stream(database_url: str, redis_server: RedisServer) -> None:
    """Two hubs (as two processes would) on one Redis and one database see each other's posts."""
    db = database_url
    async with open_hub(db, redis_server.url) as a, open_hub(db, redis_server.url) as b:
        viewer_b = Viewer(None, 100)
        await b.join(BROADCAST, viewer_b, None)
        await asyncio.wait_for(b.rooms[BROADCAST].ready.wait(), 5)
        posted = (await a.post(BROADCAST, citizen(1), "x", "from A")).comment.id
        frames = await frames_until(viewer_b, has_ids(1))
        assert comment_ids(frames) == [posted]


async def test_presence_counts_viewers_across_hubs(
    database_url: str, redis_server: RedisServer
) -> None:
    """The viewer count adds up the viewers of every process."""
    db = database_url
    async with open_hub(db, redis_server.url) as a, open_hub(db, redis_server.url) as b:
        va, vb1, vb2 = Viewer(None, 100), Viewer(None, 100), Viewer(None, 100)
        await a.join(BROADCAST, va, None)
        await b.join(BROADCAST, vb1, None)
        await b.join(BROADCAST, vb2, None)
        frames = await frames_until(
            va, lambda fs: any(f["type"] == "presence" and f["viewers"] == 3 for f in fs)
        )
        assert frames[-1] == {"type": "presence", "viewers": 3}


async def test_rate_limits_and_slow_mode_hold_across_hubs(
    database_url: str, redis_server: RedisServer
) -> None:
    """With Redis, an identity's burst and slow mode are shared by every process: moving
    between two workers gains nothing."""
    db = database_url
    limits = {"burst": 3, "rate_per_minute": 1.0}
    async with (
        open_hub(db, redis_server.url, **limits) as a,
        open_hub(db, redis_server.url, **limits) as b,
    ):
        for i, hub in enumerate((a, b, a)):
            await hub.post(BROADCAST, citizen(1), f"k{i}", f"{i}")
        for hub in (a, b):
            with pytest.raises(CommentRejected) as info:
                await hub.post(BROADCAST, citizen(1), "over", "one too many")
            assert info.value.code == "rate_limited"
            assert 50 < float(str(info.value.extra["retry_after"])) <= 60
        for hub in (a, b):
            await hub.join(BROADCAST, Viewer(None, 100), None)
            room = hub.rooms[BROADCAST]
            room.state = replace(room.state, slow_mode=30)  # as the moderators' `state` sets it
        await a.post(BROADCAST, citizen(2), "s1", "first")
        with pytest.raises(CommentRejected) as info:
            await b.post(BROADCAST, citizen(2), "s2", "second, on the other worker")
        assert info.value.code == "slow_mode"
        assert 25 < float(str(info.value.extra["retry_after"])) <= 30


async def test_limits_fall_back_to_the_process_while_redis_is_down(
    database_url: str, redis_server: RedisServer
) -> None:
    """Without Redis the limits still hold, kept by the process (nothing waits on Redis)."""
    async with open_hub(database_url, redis_server.url, burst=2, rate_per_minute=1.0) as hub:
        redis_server.stop()
        for i in range(2):
            await hub.post(BROADCAST, citizen(1), f"k{i}", f"{i}")
        with pytest.raises(CommentRejected) as info:
            await hub.post(BROADCAST, citizen(1), "over", "one too many")
        assert info.value.code == "rate_limited"


async def test_redis_outage_loses_nothing(database_url: str, redis_server: RedisServer) -> None:
    """With Redis down, posts are accepted and delivered locally; once it is back, the other
    process's viewers catch up from the database."""
    db = database_url
    async with (
        open_hub(db, redis_server.url, burst=1000) as a,
        open_hub(db, redis_server.url, burst=1000) as b,
    ):
        va, vb = Viewer(None, 1000), Viewer(None, 1000)
        await a.join(BROADCAST, va, None)
        await b.join(BROADCAST, vb, None)
        before = (await a.post(BROADCAST, citizen(1), "c0", "before")).comment.id
        await frames_until(vb, has_ids(1))
        redis_server.stop()
        during = [
            (await a.post(BROADCAST, citizen(1), f"d{i}", f"during {i}")).comment.id
            for i in range(20)
        ]
        local = await frames_until(va, has_ids(21))
        assert comment_ids(local) == [before, *during]
        redis_server.start()
        after = (await a.post(BROADCAST, citizen(1), "after", "after")).comment.id
        remote = await frames_until(vb, has_ids(21), timeout=30)
        assert comment_ids(remote) == [*during, after]
