"""The comment hub: one per process. Persist, then publish; fan out without stalling.

Data flow of a comment (see `docs/architecture.md`):

1. `CommentHub.post` validates and rate-limits, then stores the comment (SQLite assigns
   the id) and only then acknowledges it.
2. It wakes the local `Room` of that broadcast and publishes a small notification on the
   broker, so rooms in other processes wake too.
3. A woken room reads every comment after its watermark from the database (one query per
   room, not per viewer), encodes one `comments` frame and puts the same string into each
   viewer's bounded queue. Under load it waits one tick between reads, so many comments
   travel in one frame; when the room is quiet the first comment goes at once.
4. A viewer whose queue is full is closed (4008) and told to resume: a slow client never
   slows anyone else.

Because rooms read from the database, delivery is in id order with no gap and no
duplicate, whatever order notifications arrive in, and a room that missed notifications
(the broker was down) catches up by reading again.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from livechat import protocol
from livechat.admission import Admission
from livechat.broker import RESYNC, Broker, BrokerUnavailable
from livechat.comment import Comment
from livechat.identity import Identity
from livechat.ratelimit import RateLimiter
from livechat.store import CommentStore
from livechat.text import CommentRejected, validate_comment

log = logging.getLogger("livechat.hub")

PRESENCE_INTERVAL = 2.0  # seconds between presence reports of a process
PRESENCE_STALE = 3 * PRESENCE_INTERVAL
PRESENCE_THROTTLE = 1.0  # at most one presence frame per room per second
ROOM_LINGER = 15.0  # keep an empty room (and its subscription) this long
POLL_HEALTHY = 5.0  # safety read when nothing woke the room (pub/sub is at-most-once)
POLL_UNHEALTHY = 0.5  # read this often while the broker is down
FETCH_LIMIT = 500
CLOSE_TOO_SLOW = 4008


def channel_name(broadcast_id: int) -> str:
    return f"live-seoul:broadcast:{broadcast_id}"


@dataclass(frozen=True)
class HubLimits:
    max_chars: int = 300
    rate_per_minute: float = 20.0
    burst: int = 5
    address_rate_per_minute: float = 120.0
    address_burst: int = 30
    send_queue_frames: int = 64
    tick_seconds: float = 0.125
    backfill: int = 50
    max_message_bytes: int = 8192
    max_connections: int = 20000
    admission_rate: float = 300.0
    admission_burst: int = 600

    def public(self) -> dict[str, Any]:
        return {
            "max_chars": self.max_chars,
            "rate_per_minute": self.rate_per_minute,
            "burst": self.burst,
            "max_message_bytes": self.max_message_bytes,
        }


@dataclass(frozen=True)
class Frame:
    """An encoded frame; `max_id` is the highest comment id it carries (0 if none)."""

    text: str
    max_id: int = 0
    items: tuple[dict[str, Any], ...] = ()


CLOSE = Frame("")  # sentinel: the viewer must be closed as too slow


class FrameQueue:
    """A FIFO of frames with one consumer: `asyncio.Queue`'s subset we need, at a fraction of
    its cost (fan-out puts a frame into thousands of these per tick)."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: collections.deque[Frame] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, frame: Frame) -> None:
        self._items.append(frame)
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def get_nowait(self) -> Frame:
        return self._items.popleft()

    async def get(self) -> Frame:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.popleft()

    def qsize(self) -> int:
        return len(self._items)

    def empty(self) -> bool:
        return not self._items


class Viewer:
    """One connection's view of a room: a bounded queue the transport drains."""

    def __init__(self, identity: Identity | None, max_frames: int) -> None:
        self.identity = identity
        self.queue = FrameQueue()
        self.max_frames = max_frames
        self.closed = False
        self.too_slow = False
        self.skip_upto = 0  # ids the viewer already has (resumed ahead of this room)
        self._ready = True
        self._pending: list[Frame] = []

    def offer(self, frame: Frame) -> None:
        """Queue `frame` without waiting; a viewer that is too far behind gets CLOSE."""
        if self.closed:
            return
        if not self._ready:
            self._pending.append(frame)
            return
        if frame.max_id and frame.max_id <= self.skip_upto:
            return
        if frame.max_id and self.skip_upto and frame.items:
            kept = [i for i in frame.items if i["id"] > self.skip_upto]
            if len(kept) != len(frame.items):
                frame = Frame(protocol.comments_frame(kept), frame.max_id, tuple(kept))
        if self.queue.qsize() >= self.max_frames:
            self.too_slow = True
            self.closed = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(CLOSE)
            return
        self.queue.put_nowait(frame)

    def offer_direct(self, text: str) -> None:
        """Queue a frame for this viewer alone (ack, error), ahead of nothing."""
        if self.closed:
            return
        if self.queue.qsize() >= self.max_frames:
            self.offer(Frame(text))  # closes it as too slow
            return
        self.queue.put_nowait(Frame(text))

    def drop_queued_comments(self) -> None:
        """Forget comment frames not yet sent (a `resume` re-sends them in order)."""
        kept = []
        while not self.queue.empty():
            frame = self.queue.get_nowait()
            if not frame.max_id:
                kept.append(frame)
        for frame in kept:
            self.queue.put_nowait(frame)
        self._pending = [f for f in self._pending if not f.max_id]

    def hold(self) -> None:
        self._ready = False

    def release(self) -> None:
        self._ready = True
        pending, self._pending = self._pending, []
        for frame in pending:
            self.offer(frame)

    async def next_frame(self) -> Frame:
        return await self.queue.get()


@dataclass
class RoomState:
    slow_mode: int = 0
    closed: bool = False
    pinned: dict[str, Any] | None = None

    def public(self) -> dict[str, Any]:
        return {"slow_mode": self.slow_mode, "closed": self.closed, "pinned": self.pinned}


@dataclass
class Room:
    broadcast_id: int
    hub: CommentHub
    watermark: int = 0
    viewers: set[Viewer] = field(default_factory=set)
    state: RoomState = field(default_factory=RoomState)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    presence: dict[str, tuple[int, float]] = field(default_factory=dict)
    last_presence_sent: int = -1
    presence_due: asyncio.TimerHandle | None = None
    empty_since: float | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    # -- fan-out -----------------------------------------------------------------------
    def fanout(self, frame: Frame) -> None:
        for viewer in list(self.viewers):
            viewer.offer(frame)
            if viewer.closed:
                self.viewers.discard(viewer)
                if viewer.too_slow:
                    self.hub.stats["slow_disconnects"] += 1
        self.hub.stats["frames"] += 1
        self.hub.stats["deliveries"] += len(frame.items) * len(self.viewers)

    async def pump(self) -> None:
        """Read new comments after the watermark and fan them out, coalescing under load."""
        store = self.hub.store
        tick = self.hub.limits.tick_seconds
        while True:
            timeout = POLL_HEALTHY if self.hub.broker.healthy else POLL_UNHEALTHY
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self.wake.wait()
            self.wake.clear()
            try:
                rows = await store.after(self.broadcast_id, self.watermark, FETCH_LIMIT)
            except Exception:
                log.exception("reading comments of broadcast %s failed", self.broadcast_id)
                await asyncio.sleep(0.5)
                self.wake.set()
                continue
            if not rows:
                continue
            self.watermark = rows[-1].id
            items = tuple(c.wire() for c in rows if c.status == "visible")
            if items:
                self.fanout(Frame(protocol.comments_frame(list(items)), rows[-1].id, items))
                self.hub.record_batch(len(items), items[0]["created_at"])
            for comment in rows:
                if comment.status == "held":
                    self.hub.notify_held(comment)
            if len(rows) == FETCH_LIMIT:
                self.wake.set()
            elif tick > 0:
                await asyncio.sleep(tick)  # coalesce: what arrives meanwhile goes in one frame

    async def listen(self) -> None:
        """Follow the broker channel of this broadcast (one subscription per process)."""
        async with self.hub.broker.subscribe(channel_name(self.broadcast_id)) as sub:
            self.ready.set()
            async for message in sub:
                if message is RESYNC:
                    self.wake.set()
                    continue
                assert isinstance(message, bytes)
                try:
                    event = json.loads(message)
                except ValueError:
                    continue
                if event.get("proc") == self.hub.process_id:
                    continue  # applied locally already
                self.apply(event)

    def apply(self, event: dict[str, Any]) -> None:
        """Apply one broker event (from this process or another)."""
        kind = event.get("t")
        if kind == "c":
            self.wake.set()
        elif kind == "p":
            proc, count = event.get("proc"), event.get("n")
            if isinstance(proc, str) and isinstance(count, int):
                self.presence[proc] = (count, time.monotonic())
                self.send_presence()
        elif kind == "frame":
            text = event.get("frame")
            if isinstance(text, str):
                self.fanout(Frame(text))
        elif kind == "state":
            data = event.get("state", {})
            self.state = RoomState(
                slow_mode=int(data.get("slow_mode", 0)),
                closed=bool(data.get("closed", False)),
                pinned=data.get("pinned"),
            )
            self.fanout(Frame(protocol.encode({"type": "state", **self.state.public()})))
        for hook in self.hub.event_hooks:
            hook(self, event)

    def viewer_count(self) -> int:
        now = time.monotonic()
        total = len(self.viewers)
        for proc, (count, seen) in self.presence.items():
            if proc != self.hub.process_id and now - seen < PRESENCE_STALE:
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


PostHook = Callable[["CommentHub", int, Identity, str, "PostDecision"], Awaitable[None]]


CommandHandler = Callable[["CommentHub", int, Viewer, dict[str, Any]], Awaitable[None]]


@dataclass
class PostDecision:
    """What the moderation policy decided for a comment about to be stored."""

    text: str
    status: str = "visible"
    flags: set[str] = field(default_factory=set)
    notice: str | None = None


@dataclass(frozen=True)
class PostResult:
    comment: Comment
    created: bool
    notice: str | None = None


class CommentHub:
    """Posts and fans out comments for every broadcast this process serves."""

    def __init__(self, store: CommentStore, broker: Broker, limits: HubLimits) -> None:
        self.store = store
        self.broker = broker
        self.limits = limits
        self.process_id = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.rooms: dict[int, Room] = {}
        self.admission = Admission(limits.max_connections, limits.admission_rate,
                                   limits.admission_burst)
        self._identity_limits = RateLimiter(limits.burst, limits.rate_per_minute)
        self._address_limits = RateLimiter(limits.address_burst, limits.address_rate_per_minute)
        self._last_post: dict[tuple[int, str], float] = {}
        self._outbox: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue(maxsize=10_000)
        self._tasks: list[asyncio.Task[None]] = []
        self._room_lock = asyncio.Lock()
        self.policies: list[PostHook] = []
        self.event_hooks: list[Callable[[Room, dict[str, Any]], None]] = []
        self.held_hooks: list[Callable[[Comment], None]] = []
        # Run once a new comment is committed, before viewers are woken (questions).
        self.stored_hooks: list[Callable[[Comment], Awaitable[None]]] = []
        self.commands: dict[str, CommandHandler] = {}
        self.stats: dict[str, int] = {
            "accepted": 0, "rejected": 0, "frames": 0, "deliveries": 0,
            "slow_disconnects": 0, "publish_failures": 0, "batches_total": 0,
            "batch_items_total": 0,
        }
        self.lag: dict[str, float] = {"fanout_lag_seconds_sum": 0.0,
                                      "fanout_lag_seconds_count": 0.0}
        self.rejections: dict[str, int] = {}

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._publisher(), name="hub-publisher"),
            asyncio.create_task(self._housekeeping(), name="hub-housekeeping"),
        ]

    async def stop(self, drain_seconds: float = 1.0) -> None:
        """Close every room; give queued notifications `drain_seconds` to reach the broker
        (other processes would otherwise learn of the last comments only by polling)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(drain_seconds):
                await self._outbox.join()
        for room in list(self.rooms.values()):
            await self._close_room(room)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _close_room(self, room: Room) -> None:
        self.rooms.pop(room.broadcast_id, None)
        if room.presence_due is not None:
            room.presence_due.cancel()
        for task in room.tasks:
            task.cancel()
        for task in room.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- rooms -------------------------------------------------------------------------
    async def room(self, broadcast_id: int) -> Room:
        room = self.rooms.get(broadcast_id)
        if room is not None:
            return room
        async with self._room_lock:
            room = self.rooms.get(broadcast_id)
            if room is not None:
                return room
            room = Room(broadcast_id, self)
            # Subscribe before reading the watermark, so nothing falls between the two.
            room.tasks.append(asyncio.create_task(room.listen(), name=f"room-{broadcast_id}"))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2.0):
                    await room.ready.wait()
            room.watermark = await self.store.last_id(broadcast_id)
            slow, closed, pinned_id = await self.store.get_chat_settings(broadcast_id)
            pinned = None
            if pinned_id is not None:
                comment = await self.store.get(pinned_id)
                if comment is not None and comment.status == "visible":
                    pinned = comment.wire()
            room.state = RoomState(slow_mode=slow, closed=closed, pinned=pinned)
            room.tasks.append(asyncio.create_task(room.pump(), name=f"pump-{broadcast_id}"))
            self.rooms[broadcast_id] = room
            return room

    async def join(self, broadcast_id: int, viewer: Viewer, after: int | None) -> Room:
        """Add `viewer` and queue its backfill, then the live stream: no gap, no duplicate.

        Without `after`, the backfill is the recent visible comments; with it, every visible
        comment after that id (in frames of at most FETCH_LIMIT).
        """
        room = await self.room(broadcast_id)
        room.empty_since = None
        viewer.hold()
        upto = room.watermark
        room.viewers.add(viewer)
        viewer.queue.put_nowait(Frame(self.hello(room, viewer)))
        try:
            if after is None:
                recent = await self.store.recent(broadcast_id, self.limits.backfill, upto)
                if recent:
                    self._queue_backfill(viewer, recent)
            else:
                await self._queue_missed(broadcast_id, viewer, after, upto)
        finally:
            viewer.release()
        self._report_presence(room)
        return room

    async def _queue_missed(self, broadcast_id: int, viewer: Viewer, after: int,
                            upto: int) -> None:
        viewer.skip_upto = after if after > upto else 0
        cursor = after
        while cursor < upto:
            page = await self.store.visible_page(broadcast_id, cursor, FETCH_LIMIT, upto)
            if not page:
                break
            self._queue_backfill(viewer, page)
            cursor = page[-1].id

    @staticmethod
    def _queue_backfill(viewer: Viewer, comments: list[Comment]) -> None:
        # Straight into the queue: backfill may exceed the live-frame bound once.
        items = [c.wire() for c in comments]
        viewer.queue.put_nowait(
            Frame(protocol.comments_frame(items, backfill=True), comments[-1].id, tuple(items))
        )

    async def resume(self, broadcast_id: int, viewer: Viewer, after: int) -> None:
        """Send every visible comment after `after` up to the watermark, then go on live."""
        room = await self.room(broadcast_id)
        viewer.drop_queued_comments()
        viewer.hold()
        upto = room.watermark
        try:
            await self._queue_missed(broadcast_id, viewer, after, upto)
        finally:
            viewer.release()

    async def handle_command(self, broadcast_id: int, viewer: Viewer,
                             command: protocol.Command) -> None:
        """Run a registered command (moderation, questions); unknown ones earn an error."""
        handler = self.commands.get(command.type)
        if handler is None:
            viewer.offer_direct(protocol.error_frame("unknown_type",
                                                     f"unknown message type {command.type!r}"))
            return
        try:
            await handler(self, broadcast_id, viewer, command.body)
        except CommentRejected as exc:
            viewer.offer_direct(protocol.error_frame(exc.code, exc.message, None, **exc.extra))

    def leave(self, broadcast_id: int, viewer: Viewer) -> None:
        viewer.closed = True
        room = self.rooms.get(broadcast_id)
        if room is None:
            return
        room.viewers.discard(viewer)
        if not room.viewers:
            room.empty_since = time.monotonic()
        self._report_presence(room)

    def _report_presence(self, room: Room) -> None:
        room.send_presence()
        self._enqueue(room.broadcast_id, {"t": "p", "n": len(room.viewers)})

    # -- posting -----------------------------------------------------------------------
    async def post(
        self,
        broadcast_id: int,
        author: Identity,
        client_id: str,
        raw_text: object,
        *,
        address: str = "",
        video_offset: float | None = None,
        question: bool = False,
        now: float | None = None,
    ) -> PostResult:
        """Validate, rate-limit, store, then publish. Raises `CommentRejected`.

        A retry with a `client_id` already stored for this author returns the stored
        comment (`created=False`) without counting against any limit.
        """
        existing = await self.store.find(broadcast_id, author.key, client_id)
        if existing is not None:
            return PostResult(existing, False)
        try:
            text = validate_comment(raw_text, self.limits.max_chars)
            decision = PostDecision(text=text)
            if question:
                decision.flags.add("question")
            for policy in self.policies:
                await policy(self, broadcast_id, author, client_id, decision)
            clock = time.monotonic() if now is None else now
            if not author.is_staff:
                self._check_rates(broadcast_id, author, address, clock)
        except CommentRejected as exc:
            self.stats["rejected"] += 1
            self.rejections[exc.code] = self.rejections.get(exc.code, 0) + 1
            raise
        comment, created = await self.store.insert(
            broadcast_id, author, client_id, decision.text, status=decision.status,
            flags=",".join(sorted(decision.flags)), video_offset=video_offset,
        )
        if created:
            self.stats["accepted"] += 1
            for hook in self.stored_hooks:
                try:
                    await hook(comment)
                except Exception:  # the comment is stored: acknowledge it regardless
                    log.exception("stored hook failed for comment %s", comment.id)
            self.comment_stored(broadcast_id)
        return PostResult(comment, created, decision.notice)

    def _check_rates(self, broadcast_id: int, author: Identity, address: str,
                     now: float) -> None:
        room = self.rooms.get(broadcast_id)
        slow = room.state.slow_mode if room else 0
        if slow:
            last = self._last_post.get((broadcast_id, author.key))
            if last is not None and now - last < slow:
                wait = slow - (now - last)
                raise CommentRejected(
                    "slow_mode", f"slow mode: one comment every {slow} s; wait {wait:.0f} s",
                    retry_after=round(wait, 1),
                )
        wait = self._identity_limits.check(author.key, now)
        if wait:
            raise CommentRejected(
                "rate_limited", f"too many comments; try again in {max(1, round(wait))} s",
                retry_after=round(wait, 1),
            )
        if address:
            wait = self._address_limits.check(address, now)
            if wait:
                raise CommentRejected(
                    "rate_limited",
                    f"too many comments from your network; try again in {max(1, round(wait))} s",
                    retry_after=round(wait, 1),
                )
        if slow:
            self._last_post[(broadcast_id, author.key)] = now

    def record_batch(self, size: int, oldest_created_at: str) -> None:
        """Count a fanned-out batch and its lag (oldest comment's age when it went out)."""
        stats = self.stats
        stats["batches_total"] += 1
        stats["batch_items_total"] += size
        try:
            lag = (datetime.now(UTC) - datetime.fromisoformat(oldest_created_at)).total_seconds()
        except ValueError:
            return
        self.lag["fanout_lag_seconds_sum"] += max(0.0, lag)
        self.lag["fanout_lag_seconds_count"] += 1

    def comment_stored(self, broadcast_id: int) -> None:
        """A comment of `broadcast_id` is committed: wake the local room, tell the others."""
        room = self.rooms.get(broadcast_id)
        if room is not None:
            room.wake.set()
        self._enqueue(broadcast_id, {"t": "c"})

    # -- events to every process -------------------------------------------------------
    def broadcast_event(self, broadcast_id: int, event: dict[str, Any]) -> None:
        """Apply `event` to the local room now and publish it to every other process."""
        room = self.rooms.get(broadcast_id)
        if room is not None:
            room.apply(event)
        self._enqueue(broadcast_id, event)

    def broadcast_frame(self, broadcast_id: int, frame: dict[str, Any]) -> None:
        """Send one server frame to every viewer of `broadcast_id` on every process."""
        self.broadcast_event(broadcast_id, {"t": "frame", "frame": protocol.encode(frame)})

    def notify_held(self, comment: Comment) -> None:
        for hook in self.held_hooks:
            hook(comment)

    def _enqueue(self, broadcast_id: int, event: dict[str, Any]) -> None:
        event = {**event, "proc": self.process_id}
        try:
            self._outbox.put_nowait((broadcast_id, json.dumps(event).encode()))
        except asyncio.QueueFull:
            self.stats["publish_failures"] += 1  # rooms catch up from the database

    async def _publisher(self) -> None:
        """Publish in order, off the request path: a slow broker never delays an ack."""
        while True:
            broadcast_id, message = await self._outbox.get()
            try:
                if not self.broker.healthy:
                    # Down: don't wait on it. Every room catches up from the database when
                    # the broker is back (RESYNC), and polls it meanwhile.
                    raise BrokerUnavailable("broker down")
                await self.broker.publish(channel_name(broadcast_id), message)
            except BrokerUnavailable:
                # Comment notifications are recovered by RESYNC + the database.
                self.stats["publish_failures"] += 1
            finally:
                self._outbox.task_done()

    async def _housekeeping(self) -> None:
        while True:
            await asyncio.sleep(PRESENCE_INTERVAL)
            now = time.monotonic()
            for room in list(self.rooms.values()):
                if not room.viewers and room.empty_since and now - room.empty_since > ROOM_LINGER:
                    await self._close_room(room)
                    continue
                self._enqueue(room.broadcast_id, {"t": "p", "n": len(room.viewers)})
                room.send_presence()
            cutoff = now - 3600
            for key in [k for k, t in self._last_post.items() if t < cutoff]:
                del self._last_post[key]

    def hello(self, room: Room, viewer: Viewer) -> str:
        you = viewer.identity.public() if viewer.identity else None
        return protocol.hello_frame(
            room.broadcast_id, you, self.limits.public(), room.state.slow_mode,
            room.viewer_count(), room.watermark, {"closed": room.state.closed,
                                                   "pinned": room.state.pinned},
        )


__all__ = [
    "CLOSE",
    "CLOSE_TOO_SLOW",
    "CommentHub",
    "CommentRejected",
    "Frame",
    "HubLimits",
    "PostDecision",
    "PostResult",
    "Room",
    "Viewer",
]
