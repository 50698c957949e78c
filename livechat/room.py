"""A room: what one process knows of one broadcast — its viewers, its watermark, its
broker subscription — and the loop that reads new comments and fans them out."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from dataclasses import dataclass, field

from livechat import protocol
from livechat.batching import Batching
from livechat.broker import RESYNC, Broker
from livechat.chat_state import ChatState
from livechat.comment import Comment, CommentStatus, CommentWire
from livechat.events import (
    Event,
    FrameOut,
    NewComments,
    Presence,
    StateChanged,
    decode_event,
)
from livechat.plugins import Plugins
from livechat.presence import PresenceGate
from livechat.ring import CommentRing
from livechat.stats import HubStats
from livechat.store import CommentStore
from livechat.viewer import Frame, Viewer

log = logging.getLogger("livechat.hub")


PRESENCE_INTERVAL = 2.0  # seconds between presence reports of a process
PRESENCE_STALE = 3 * PRESENCE_INTERVAL
PRESENCE_THROTTLE = 1.0  # at most one presence frame per room per second
ROOM_LINGER = 15.0  # keep an empty room (and its subscription) this long
POLL_HEALTHY = 5.0  # safety read when nothing woke the room (pub/sub is at-most-once)
POLL_UNHEALTHY = 0.5  # read this often while the broker is down
FETCH_LIMIT = 500
RING_CAPACITY = 2000  # recent comments a room keeps for backfill and resume
BACKFILL_FRAMES = 8  # backfill frames a room keeps encoded for the next viewer
CATCH_UPS = 8  # resume answers a room keeps for the next viewer resuming from the same place


def channel_name(broadcast_id: int) -> str:
    return f"live-seoul:broadcast:{broadcast_id}"


RoomState = ChatState  # the name rooms have always used


@dataclass(frozen=True)
class CatchUp:
    """What a viewer resuming after an id is sent from the ring, up to the watermark it was
    made at: the `hidden` comments among the last ones it may still show (id, status,
    author), with the `deleted` frame naming all of them (right for a viewer who sees none
    of the held ones: not a moderator, not their author); the `restored` frame; the
    backfill frames."""

    hidden: tuple[tuple[int, CommentStatus, str], ...]
    deleted: Frame | None
    restored: Frame | None
    backfill: tuple[Frame, ...]


@dataclass
class Room:
    """Everything it needs is given to it: the comment store, the broker, this process's
    id, the hub's counters and plugins. It owns its tasks (`open`, `close`)."""

    broadcast_id: int
    store: CommentStore
    broker: Broker
    process_id: str
    stats: HubStats
    plugins: Plugins
    watermark: int = 0
    viewers: set[Viewer] = field(default_factory=set)
    state: ChatState = field(default_factory=ChatState)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    presence: dict[str, tuple[int, float]] = field(default_factory=dict)
    last_presence_sent: int = -1
    presence_due: asyncio.TimerHandle | None = None
    # Publishes of this process's count to the others (`livechat.presence`).
    presence_gate: PresenceGate = field(default_factory=PresenceGate)
    presence_publish_due: asyncio.TimerHandle | None = None
    empty_since: float | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    # Sockets per presence key (`Viewer.presence_key`): the viewer count is its size, so
    # one client with many sockets is one viewer.
    present: collections.Counter[str] = field(default_factory=collections.Counter)
    # The backfill frames sent last, by (first id, last id, count): viewers joining or
    # resuming from the same place get the same comments, so a reconnect storm of 10,000
    # encodes (and frames) them once instead of once per viewer.
    backfills: dict[tuple[int, int, int], Frame] = field(default_factory=dict)
    # The same for whole resumes, by (after, upto), each with the ring version it was read
    # at: a storm's viewers mostly resume from one place, and the removal scan of the last
    # 400 comments was the largest cost of a resume left.
    catch_ups: dict[tuple[int, int], tuple[int, CatchUp]] = field(default_factory=dict)

    def add_viewer(self, viewer: Viewer) -> None:
        if viewer not in self.viewers:
            self.viewers.add(viewer)
            self.present[viewer.presence_key] += 1

    def remove_viewer(self, viewer: Viewer) -> None:
        if viewer in self.viewers:
            self.viewers.discard(viewer)
            key = viewer.presence_key
            self.present[key] -= 1
            if self.present[key] <= 0:
                del self.present[key]

    @property
    def local_presence(self) -> int:
        """Distinct people (sessions; addresses for viewers without one) in this process."""
        return len(self.present)

    ring: CommentRing = field(default_factory=lambda: CommentRing(RING_CAPACITY))
    batching: Batching = field(default_factory=Batching)
    stale: bool = False  # broker messages (status changes) may have been lost
    # Comments this process stored, handed over as they are committed (`hand`): when they
    # carry on from the watermark with no gap, the pump sends them without reading the
    # database. Anything else that woke the room (another process's comment, a status
    # change, the safety poll) sets `must_read`: the pump then reads, as it always did.
    handed: list[Comment] = field(default_factory=list)
    must_read: bool = True

    # -- lifecycle ---------------------------------------------------------------------
    async def open(self) -> None:
        """Subscribe (waiting up to 2 s for the subscription), then fill the ring and set
        the watermark: subscribed first, so nothing falls between the two."""
        self.tasks.append(asyncio.create_task(self.listen(), name=f"room-{self.broadcast_id}"))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2.0):
                await self.ready.wait()
        await self.load()

    def start_pump(self) -> None:
        self.tasks.append(asyncio.create_task(self.pump(), name=f"pump-{self.broadcast_id}"))

    async def close(self) -> None:
        """Stop the room's tasks and its pending presence report."""
        if self.presence_due is not None:
            self.presence_due.cancel()
        if self.presence_publish_due is not None:
            self.presence_publish_due.cancel()
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def load(self) -> None:
        """Fill the ring with the newest comments (all statuses) and set the watermark:
        one read, plus one per reshown source (moderation)."""
        latest = await self.store.latest(self.broadcast_id, RING_CAPACITY, None)
        top = latest[-1].id if latest else 0
        reshown = await self.plugins.reshown(self.broadcast_id, top, RING_CAPACITY)
        self.stats.db_room_reads += 1 + len(self.plugins.reshown_sources)
        self.ring.load(latest, len(latest) < RING_CAPACITY, top, reshown)
        self.watermark = top
        self.stale = False

    # -- fan-out -----------------------------------------------------------------------
    def fanout(self, frame: Frame) -> None:
        for viewer in list(self.viewers):
            viewer.offer(frame)
            if viewer.closed:
                self.remove_viewer(viewer)
                if viewer.too_slow:
                    self.stats.slow_disconnects += 1
        self.stats.frames += 1
        self.stats.deliveries += len(frame.items) * len(self.viewers)

    async def pump(self) -> None:
        """Read new comments after the watermark and fan them out: at once when the room
        is quiet; under load, what arrives within the batching window travels together."""
        store = self.store
        loop = asyncio.get_running_loop()
        while True:
            timeout = POLL_HEALTHY if self.broker.healthy else POLL_UNHEALTHY
            try:
                async with asyncio.timeout(timeout):
                    await self.wake.wait()
            except TimeoutError:
                self.must_read = True  # the safety poll
            wait = self.batching.wait(loop.time())
            if wait:
                await asyncio.sleep(wait)  # what arrives meanwhile goes in the same frame
            self.wake.clear()
            rows = self.handed_rows()
            if rows is None:
                self.must_read = False
                try:
                    if self.stale:
                        await self.reload()
                    rows = await store.after(self.broadcast_id, self.watermark, FETCH_LIMIT)
                except Exception:
                    log.exception("reading comments of broadcast %s failed", self.broadcast_id)
                    await asyncio.sleep(0.5)
                    self.must_read = True
                    self.wake.set()
                    continue
                self.stats.db_fanout_reads += 1
            if not rows:
                continue
            self.take(rows)
            if len(rows) == FETCH_LIMIT:
                self.must_read = True
                self.wake.set()

    def catch_up(self, after: int, upto: int, recheck: int) -> CatchUp | None:
        """What a viewer resuming after `after` (<= `upto`) is sent, from the ring;
        `recheck`: how many of the comments up to `after` it may still show; None when
        the ring does not reach back far enough (the database then answers)."""
        key = (after, upto)
        known = self.catch_ups.get(key)
        if known is not None and known[0] == self.ring.version:
            return known[1]
        visible = self.ring.visible_after(after, upto)
        latest = self.ring.latest(after, recheck) if recheck else []
        if visible is None or latest is None:
            return None
        visible_status = CommentStatus.VISIBLE
        hidden = tuple((e.id, e.status, e.author_key) for e in latest if e.status != visible_status)
        back = [e.wire for e in latest if e.status == visible_status and e.reshown]
        answer = CatchUp(
            hidden,
            Frame(protocol.deleted_frame([h[0] for h in hidden])) if hidden else None,
            Frame(protocol.restored_frame(back)) if back else None,
            tuple(
                self.backfill(visible[start : start + FETCH_LIMIT])
                for start in range(0, len(visible), FETCH_LIMIT)
            ),
        )
        if len(self.catch_ups) >= CATCH_UPS and key not in self.catch_ups:
            del self.catch_ups[next(iter(self.catch_ups))]
        self.catch_ups[key] = (self.ring.version, answer)
        return answer

    def backfill(self, items: list[CommentWire]) -> Frame:
        """The backfill frame carrying `items` (non-empty): one encoded before if it carries
        the same comments (compared, so a changed comment is encoded afresh), else a new one."""
        key = (items[0]["id"], items[-1]["id"], len(items))
        carried = tuple(items)
        frame = self.backfills.get(key)
        if frame is None or frame.items != carried:
            frame = Frame(protocol.comments_frame(items, backfill=True), key[1], carried)
            if len(self.backfills) >= BACKFILL_FRAMES:
                del self.backfills[next(iter(self.backfills))]
            self.backfills[key] = frame
        return frame

    def hand(self, comment: Comment | None) -> None:
        """A comment of this broadcast is committed (None: which is not known); wake."""
        if comment is None:
            self.must_read = True
        else:
            self.handed.append(comment)
        self.wake.set()

    def handed_rows(self) -> list[Comment] | None:
        """The handed comments after the watermark, in id order, if they carry on from it
        with no gap and nothing else woke the room; None: read the database (which has
        them all)."""
        handed, self.handed = self.handed, []
        if self.must_read or self.stale:
            return None
        rows = sorted((c for c in handed if c.id > self.watermark), key=lambda c: c.id)
        expected = self.watermark + 1
        for comment in rows:
            if comment.id != expected:
                return None
            expected += 1
        return rows

    def take(self, rows: list[Comment]) -> None:
        """Comments read after the watermark (id order): into the ring, out to viewers."""
        self.ring.extend(rows)
        self.watermark = rows[-1].id
        items = tuple(c.wire() for c in rows if c.status == CommentStatus.VISIBLE)
        if items:
            began = time.perf_counter()
            self.fanout(Frame.comments(items, rows[-1].id))
            writing = time.perf_counter() - began
            self.stats.record_batch(len(items), items[0]["created_at"])
            now = asyncio.get_running_loop().time()
            self.batching.sent(len(items), len(self.viewers), now, writing)
        for comment in rows:
            if comment.status == "held":
                self.plugins.comment_held(self, comment)

    async def reload(self) -> None:
        """After lost broker messages: statuses in the ring may be old; read them again
        (up to the watermark, so the live stream goes on where it was)."""
        latest = await self.store.latest(self.broadcast_id, RING_CAPACITY, self.watermark)
        reshown = await self.plugins.reshown(self.broadcast_id, self.watermark, RING_CAPACITY)
        self.stats.db_room_reads += 1 + len(self.plugins.reshown_sources)
        self.ring.load(latest, len(latest) < RING_CAPACITY, self.watermark, reshown)
        self.stale = False

    async def listen(self) -> None:
        """Follow the broker channel of this broadcast (one subscription per process)."""
        async with self.broker.subscribe(channel_name(self.broadcast_id)) as sub:
            self.ready.set()
            async for message in sub:
                if message is RESYNC:
                    self.stale = True
                    self.must_read = True
                    self.wake.set()
                    continue
                assert isinstance(message, bytes)
                decoded = decode_event(message)
                if decoded is None:
                    continue
                sender, event = decoded
                if sender == self.process_id:
                    continue  # applied locally already
                self.apply(event, sender)

    def apply(self, event: Event, sender: str | None = None) -> None:
        """Apply one broker event (`sender`: the process it came from; None: this one)."""
        if not isinstance(event, Presence):
            self.must_read = True  # a status change must not race a handed comment
        if isinstance(event, NewComments):
            self.wake.set()
        elif isinstance(event, Presence):
            if sender is not None:
                self.presence[sender] = (event.count, time.monotonic())
                self.send_presence()
        elif isinstance(event, FrameOut):
            if event.change is not None:
                self.ring.set_status(
                    list(event.change.ids), event.change.status, event.change.reshown
                )
            self.fanout(Frame(event.frame))
        elif isinstance(event, StateChanged):
            self.state = event.state
            self.fanout(Frame(protocol.encode({"type": "state", **self.state.public()})))
        self.plugins.room_event(self, event)

    def viewer_count(self) -> int:
        now = time.monotonic()
        total = self.local_presence
        for proc, (count, seen) in self.presence.items():
            if proc != self.process_id and now - seen < PRESENCE_STALE:
                total += count
        return total

    def send_presence(self) -> None:
        """Send the viewer count, at most once per PRESENCE_THROTTLE: when thousands join at
        once, each join must not cost a frame to everyone (that would be O(n²) frames)."""
        if self.presence_due is None:
            loop = asyncio.get_running_loop()
            self.presence_due = loop.call_later(PRESENCE_THROTTLE, self._flush_presence)

    def _flush_presence(self) -> None:
        self.presence_due = None
        count = self.viewer_count()
        if count != self.last_presence_sent:
            self.last_presence_sent = count
            self.fanout(Frame(protocol.presence_frame(count)))
