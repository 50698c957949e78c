"""The room's ring of recent comments: pure behaviour, a model check, and the hub serving
joins and resumes from it (the database only when the ring does not reach back)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livechat import Comment, Frame, Identity, Viewer, protocol
from livechat import room as room_module
from livechat.batching import MAX_WINDOW, WRITE_SHARE, Batching, window_for
from livechat.comment import CommentStatus
from livechat.ring import CommentRing
from tests.livechat.hubkit import BROADCAST, citizen, comment_ids, frames_until, has_ids, open_hub
from tests.support import RedisServer


def comment(i: int, status: str = "visible", author: str = "g:a") -> Comment:
    return Comment(
        i,
        BROADCAST,
        author,
        "시민",
        "viewer",
        "",
        f"c{i}",
        f"#{i}",
        "2026-12-01T00:00:00+00:00",
        status=status,
    )


# -- pure -------------------------------------------------------------------------------
def test_a_full_ring_forgets_the_oldest_and_says_so() -> None:
    """Past its capacity the ring drops the oldest; questions from below the floor get
    None (ask the database), questions above it get every visible comment in order."""
    ring = CommentRing(3)
    ring.load([], True, 0)
    ring.extend([comment(2), comment(5, "held"), comment(9), comment(11)])
    assert ring.floor == 2 and ring.top == 11 and len(ring) == 3
    assert ring.visible_after(1, 11) is None
    assert [w["id"] for w in ring.visible_after(2, 11) or []] == [9, 11]
    assert [w["id"] for w in ring.visible_after(9, 11) or []] == [11]
    assert ring.visible_after(11, 11) == []


def test_ids_must_rise() -> None:
    """The ring only takes comments above its top (a read after the watermark)."""
    ring = CommentRing(10)
    ring.load([comment(4)], True, 4)
    with pytest.raises(ValueError):
        ring.extend([comment(4)])


def test_a_status_change_that_overtakes_the_read_is_kept() -> None:
    """A removal announced before the room has read the comment applies when it arrives."""
    ring = CommentRing(10)
    ring.load([comment(1)], True, 1)
    ring.set_status([3], "removed")
    ring.extend([comment(2), comment(3)])
    assert [w["id"] for w in ring.visible_after(0, 3) or []] == [1, 2]


def test_a_loaded_ring_is_complete_only_when_the_database_had_no_more() -> None:
    """Loaded from a full page, the floor sits just below the oldest loaded comment."""
    ring = CommentRing(2)
    ring.load([comment(7), comment(8)], False, 8)
    assert ring.floor == 6 and not ring.covers(5) and ring.covers(6)
    assert ring.recent_visible(3, 8) is None  # older visible ones may exist
    assert [w["id"] for w in ring.recent_visible(2, 8) or []] == [7, 8]


def test_batching_window_grows_with_viewers_times_rate() -> None:
    """Quiet rooms send at once; the window grows with viewers × rate, up to a bound."""
    assert window_for(200, 10) <= 0.002
    assert window_for(500, 50) < window_for(2000, 100) <= MAX_WINDOW
    assert window_for(100_000, 1000) == MAX_WINDOW
    batching = Batching()
    assert batching.wait(100.0) == 0.0  # never sent: at once
    window = batching.sent(50, 2000, 100.0)
    assert window > 0 and batching.wait(100.0) == pytest.approx(window)
    assert batching.wait(100.0 + window) == 0.0
    assert batching.rate(110.0) < 0.01 * batching.rate(100.0)  # a quiet room forgets


def test_batching_window_widens_with_the_time_spent_writing() -> None:
    """A room whose last send took long to write waits longer before the next: at most
    1 / WRITE_SHARE of its time goes on writing, whatever its load says, up to the bound."""
    load_only = window_for(2000, 100)
    assert window_for(2000, 100, writing=0.001) == load_only  # fast writes: the load rules
    assert window_for(2000, 100, writing=0.05) == pytest.approx(WRITE_SHARE * 0.05)
    assert window_for(2000, 100, writing=0.05) > load_only
    assert window_for(20, 1, writing=1.0) == MAX_WINDOW
    batching = Batching()
    window = batching.sent(1, 5000, 100.0, writing=0.04)  # one comment, a slow write
    assert window == pytest.approx(WRITE_SHARE * 0.04)
    assert batching.wait(100.0) == pytest.approx(window)


# A script of ring operations: new comments (with a status), status changes of earlier
# ones (index into what exists), with a small capacity so the floor moves.
ops = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(1, 3), st.sampled_from(["visible", "held"])),
        st.tuples(
            st.just("set"), st.integers(0, 40), st.sampled_from(["visible", "removed", "held"])
        ),
    ),
    min_size=1,
    max_size=60,
)


@given(ops, st.integers(1, 12), st.integers(0, 60))
@settings(max_examples=200, deadline=None)
def test_ring_answers_like_the_database_or_not_at_all(
    script: list[tuple[str, int, str]], capacity: int, probe: int
) -> None:
    """Against a model of the comments table: whatever the ring answers (visible after an
    id, the latest window, the recent visible) is what the database would; it answers
    None only when it does not reach back."""
    ring = CommentRing(capacity)
    ring.load([], True, 0)
    table: dict[int, str] = {}  # id -> status: the database
    reshown: set[int] = set()
    next_id = 1
    for kind, n, status in script:
        if kind == "add":
            new = []
            for _ in range(n):
                next_id += 1 + next_id % 3  # ids of other broadcasts fall between
                table[next_id] = status
                new.append(comment(next_id, status))
            ring.extend(new)
        elif table:
            target = sorted(table)[n % len(table)]
            table[target] = status
            back = status == "visible"
            if back:
                reshown.add(target)
            ring.set_status([target], status, reshown=back)
    top = max(table, default=0)
    after = min(probe, top)
    visible = ring.visible_after(after, top)
    expected = [i for i in sorted(table) if i > after and table[i] == "visible"]
    if visible is not None:
        assert [w["id"] for w in visible] == expected
    else:
        assert after < ring.floor
    latest = ring.latest(after, 4)
    window = [i for i in sorted(table) if i <= after][-4:]
    if latest is not None:
        assert [(e.id, e.status) for e in latest] == [(i, table[i]) for i in window]
        assert {e.id for e in latest if e.reshown} == reshown & set(window)
    recent = ring.recent_visible(3, top)
    if recent is not None:
        assert [w["id"] for w in recent] == [i for i in sorted(table) if table[i] == "visible"][-3:]


# -- the hub ------------------------------------------------------------------------------


async def test_a_reconnect_storm_reads_the_database_only_to_open_the_room(
    database_url: str, broker_url: str
) -> None:
    """500 viewers resuming from different points after a restart each get exactly what
    they missed; the room costs at most five reads in all (ring, settings) and no viewer
    costs one."""
    db = database_url
    async with open_hub(db, broker_url, burst=10_000) as hub:
        ids = [
            (await hub.post(BROADCAST, citizen(i % 7), f"c{i}", f"m{i}")).comment.id
            for i in range(300)
        ]
    async with open_hub(db, broker_url, burst=10_000) as hub:  # the restarted worker
        viewers = [(Viewer(None, 100), ids[(i * 37) % 300]) for i in range(500)]
        for viewer, after in viewers:
            await hub.join(BROADCAST, viewer, after)
        for viewer, after in viewers[:50]:
            missed = [i for i in ids if i > after]
            frames = await frames_until(viewer, has_ids(len(missed)))
            assert comment_ids(frames) == missed
        assert hub.stats.db_room_reads <= 5
        assert hub.stats.db_backfill_reads == 0
        assert hub.stats.ring_backfills == 500


async def test_resume_from_before_the_ring_asks_the_database(
    database_url: str, broker_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the ring does not reach back to `after`, the missed comments come from the
    database, exactly, then live."""
    monkeypatch.setattr(room_module, "RING_CAPACITY", 10)
    async with open_hub(database_url, broker_url, burst=10_000) as hub:
        witness = Viewer(None, 1000)
        await hub.join(BROADCAST, witness, None)
        ids = [
            (await hub.post(BROADCAST, citizen(1), f"c{i}", f"m{i}")).comment.id for i in range(40)
        ]
        await frames_until(witness, has_ids(40))
        assert hub.rooms[BROADCAST].ring.floor > ids[5]
        viewer = Viewer(None, 1000)
        await hub.join(BROADCAST, viewer, ids[5])
        assert hub.stats.db_backfill_reads == 1
        late = (await hub.post(BROADCAST, citizen(1), "late", "live")).comment.id
        frames = await frames_until(viewer, has_ids(35))
        assert comment_ids(frames) == [*ids[6:], late]


async def test_removals_and_restores_while_away_come_from_the_ring(
    database_url: str, broker_url: str
) -> None:
    """A status change announced through the hub (as moderation does) reaches the ring:
    a resuming page hears `deleted` for what was removed and gets back what was restored,
    without reading the database."""
    async with open_hub(database_url, broker_url, burst=10_000) as hub:
        witness = Viewer(None, 1000)
        await hub.join(BROADCAST, witness, None)
        ids = [
            (await hub.post(BROADCAST, citizen(1), f"c{i}", f"m{i}")).comment.id for i in range(4)
        ]
        await frames_until(witness, has_ids(4))
        gone = await hub.store.get(ids[1])
        assert gone is not None
        await hub.store.set_status([ids[1], ids[2]], "removed")
        removed = [c for c in [await hub.store.get(i) for i in ids[1:3]] if c]
        hub.broadcast_frame(BROADCAST, {"type": "deleted", "ids": ids[1:3]}, removed)
        await hub.store.set_status([ids[2]], "visible")
        back = await hub.store.get(ids[2])
        assert back is not None
        hub.broadcast_frame(
            BROADCAST,
            {"type": "comments", "items": [back.wire()], "restored": True},
            [back],
            reshown=True,
        )
        reads = hub.stats.db_backfill_reads
        viewer = Viewer(None, 100)
        await hub.join(BROADCAST, viewer, ids[3])
        frames = await frames_until(viewer, lambda got: len(got) >= 3)
        assert hub.stats.db_backfill_reads == reads
        assert frames[1] == {"type": "deleted", "ids": [ids[1]]}
        assert frames[2] == {"type": "comments", "items": [back.wire()], "restored": True}
        assert protocol.restored_frame([back.wire()]) == protocol.encode(frames[2])


async def test_a_status_change_on_one_process_reaches_the_ring_of_another(
    database_url: str,
) -> None:
    """Two hubs (two workers) on one database and one Redis: a removal announced on one
    is in the other's ring, so a page resuming on the other hears of it."""
    server = RedisServer()
    server.start()
    db = database_url
    try:
        async with (
            open_hub(db, server.url, burst=10_000) as a,
            open_hub(db, server.url, burst=10_000) as b,
        ):
            watch_a, watch_b = Viewer(None, 1000), Viewer(None, 1000)
            await a.join(BROADCAST, watch_a, None)
            await b.join(BROADCAST, watch_b, None)
            ids = [
                (await a.post(BROADCAST, citizen(1), f"c{i}", f"m{i}")).comment.id for i in range(3)
            ]
            await frames_until(watch_b, has_ids(3))
            await a.store.set_status([ids[0]], "removed")
            removed = await a.store.get(ids[0])
            assert removed is not None
            a.broadcast_frame(BROADCAST, {"type": "deleted", "ids": [ids[0]]}, [removed])
            await frames_until(watch_b, lambda got: any(f["type"] == "deleted" for f in got))
            entry = b.rooms[BROADCAST].ring.get(ids[0])
            assert entry is not None and entry.status == "removed"
            viewer = Viewer(None, 100)
            await b.join(BROADCAST, viewer, ids[2])
            frames = await frames_until(viewer, lambda got: len(got) >= 2)
            assert frames[1] == {"type": "deleted", "ids": [ids[0]]}
            assert b.stats.db_backfill_reads == 0
    finally:
        server.stop()


async def test_viewers_resuming_from_one_place_share_one_encoded_backfill(
    database_url: str, broker_url: str
) -> None:
    """A storm resumes mostly from the same id: the backfill is encoded once and the same
    frame goes to each viewer; a different place, or a changed comment, gets its own."""
    async with open_hub(database_url, broker_url, burst=10_000) as hub:
        watcher = Viewer(None, 100)
        room = await hub.join(BROADCAST, watcher, None)
        ids = [
            (await hub.post(BROADCAST, citizen(1), f"c{i}", f"m{i}")).comment.id for i in range(30)
        ]
        await frames_until(watcher, has_ids(30))  # the room has taken all thirty
        assert room.watermark == ids[-1]

        def backfill_of(after: int) -> object:
            viewer = Viewer(None, 100)
            assert hub._missed_from_ring(room, viewer, after, room.watermark)
            frames = []
            while not viewer.queue.empty():
                frames.append(viewer.queue.get_nowait())
            (frame,) = [f for f in frames if '"backfill":true' in f.text]
            return frame

        first, second = backfill_of(ids[9]), backfill_of(ids[9])
        assert first is second
        assert [item["id"] for item in json.loads(first.text)["items"]] == ids[10:]
        elsewhere = backfill_of(ids[19])
        assert elsewhere is not first
        assert [item["id"] for item in json.loads(elsewhere.text)["items"]] == ids[20:]

    fresh = room_module.Room.backfill
    items = [comment(i).wire() for i in (1, 2)]
    holder = room_module.Room(BROADCAST, None, None, "p", None, None)  # type: ignore[arg-type]
    shown = fresh(holder, items)
    assert fresh(holder, [dict(w) for w in items]) is shown  # equal comments: reused
    changed = [items[0], {**items[1], "text": "고친 글"}]
    assert "고친 글" in fresh(holder, changed).text  # same ids, other content: encoded afresh


async def test_resumes_from_one_place_share_their_removals_until_the_ring_changes(
    database_url: str, broker_url: str
) -> None:
    """Viewers resuming from the same id share one answer (the removals among what they
    saw, one frame for all guests); a held comment stays for its author and moderators; a
    removal made after that is in the next viewer's answer."""
    async with open_hub(database_url, broker_url, burst=10_000) as hub:
        watcher = Viewer(None, 100)
        room = await hub.join(BROADCAST, watcher, None)
        posted = [
            (await hub.post(BROADCAST, citizen(2 if i == 3 else 1), f"c{i}", f"m{i}")).comment
            for i in range(20)
        ]
        ids = [c.id for c in posted]
        await frames_until(watcher, has_ids(20))

        def change(i: int, status: CommentStatus) -> None:  # as moderation announces it
            frame = {"type": "deleted", "ids": [ids[i]]}
            hub.broadcast_frame(BROADCAST, frame, changed=[replace(posted[i], status=status)])

        def deleted_for(who: Identity | None) -> Frame | None:
            viewer = Viewer(who, 100)
            assert hub._missed_from_ring(room, viewer, ids[9], room.watermark)
            frames = []
            while not viewer.queue.empty():
                frames.append(viewer.queue.get_nowait())
            found = [f for f in frames if f.text.startswith('{"type":"deleted"')]
            return found[0] if found else None

        def named(frame: Frame | None) -> list[int]:
            return json.loads(frame.text)["ids"] if frame is not None else []

        change(2, CommentStatus.REMOVED)
        change(3, CommentStatus.HELD)
        first, second = deleted_for(None), deleted_for(citizen(9))
        assert first is second and named(first) == [ids[2], ids[3]]
        assert named(deleted_for(citizen(2))) == [ids[2]]  # its author still sees it, held
        moderator = Identity("u:2", "운영자", "moderator")
        assert named(deleted_for(moderator)) == [ids[2]]
        change(5, CommentStatus.REMOVED)
        later = deleted_for(None)
        assert later is not first and named(later) == [ids[2], ids[3], ids[5]]
