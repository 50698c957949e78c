"""A room: what one process knows of one broadcast — its viewers, its watermark, its
broker subscription — and the loop that reads new comments and fans them out."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from livechat import protocol
from livechat.batching import Batching
from livechat.broker import RESYNC
from livechat.comment import Comment
from livechat.presence import PresenceGate
from livechat.ring import CommentRing
from livechat.viewer import Frame, Viewer

if TYPE_CHECKING:
    from livechat.hub import CommentHub

log = logging.getLogger("livechat.hub")

PRESENCE_INTERVAL = 2.0  # seconds between presence reports of a process
PRESENCE_STALE = 3 * PRESENCE_INTERVAL
PRESENCE_THROTTLE = 1.0  # at most one presence frame per room per second
ROOM_LINGER = 15.0  # keep an empty room (and its subscription) this long
POLL_HEALTHY = 5.0  # safety read when nothing woke the room (pub/sub is at-most-once)
POLL_UNHEALTHY = 0.5  # read this often while the broker is down
FETCH_LIMIT = 500
RING_CAPACITY = 2000  # recent comments a room keeps for backfill and resume


def channel_name(broadcast_id: int) -> str:
    return f"live-seoul:broadcast:{broadcast_id}"


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
    # Publishes of this process's count to the others (`livechat.presence`).
    presence_gate: PresenceGate = field(default_factory=PresenceGate)
    presence_publish_due: asyncio.TimerHandle | None = None
    empty_since: float | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    # Sockets per presence key (`Viewer.presence_key`): the viewer count is its size, so
    # one client with many sockets is one viewer.
    present: collections.Counter[str] = field(default_factory=collections.Counter)

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

    async def load(self) -> None:
        """Fill the ring with the newest comments (all statuses) and set the watermark:
        one read, plus one per reshown source (moderation)."""
        hub = self.hub
        latest = await hub.store.latest(self.broadcast_id, RING_CAPACITY, None)
        top = latest[-1].id if latest else 0
        reshown: set[int] = set()
        for source in hub.reshown_sources:
            reshown.update(await source(self.broadcast_id, top, RING_CAPACITY))
        hub.stats["db_room_reads"] += 1 + len(hub.reshown_sources)
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
                    self.hub.stats["slow_disconnects"] += 1
        self.hub.stats["frames"] += 1
        self.hub.stats["deliveries"] += len(frame.items) * len(self.viewers)

    async def pump(self) -> None:
        """Read new comments after the watermark and fan them out: at once when the room
        is quiet; under load, what arrives within the batching window travels together."""
        store = self.hub.store
        loop = asyncio.get_running_loop()
        while True:
            timeout = POLL_HEALTHY if self.hub.broker.healthy else POLL_UNHEALTHY
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self.wake.wait()
            wait = self.batching.wait(loop.time())
            if wait:
                await asyncio.sleep(wait)  # what arrives meanwhile goes in the same frame
            self.wake.clear()
            try:
                if self.stale:
                    await self.reload()
                rows = await store.after(self.broadcast_id, self.watermark, FETCH_LIMIT)
            except Exception:
                log.exception("reading comments of broadcast %s failed", self.broadcast_id)
                await asyncio.sleep(0.5)
                self.wake.set()
                continue
            self.hub.stats["db_fanout_reads"] += 1
            if not rows:
                continue
            self.take(rows)
            if len(rows) == FETCH_LIMIT:
                self.wake.set()

    def take(self, rows: list[Comment]) -> None:
        """Comments read after the watermark (id order): into the ring, out to viewers."""
        self.ring.extend(rows)
        self.watermark = rows[-1].id
        items = tuple(c.wire() for c in rows if c.status == "visible")
        if items:
            self.fanout(Frame.comments(items, rows[-1].id))
            self.hub.record_batch(len(items), items[0]["created_at"])
            self.batching.sent(len(items), len(self.viewers), asyncio.get_running_loop().time())
        for comment in rows:
            if comment.status == "held":
                self.hub.notify_held(comment)

    async def reload(self) -> None:
        """After lost broker messages: statuses in the ring may be old; read them again
        (up to the watermark, so the live stream goes on where it was)."""
        hub = self.hub
        latest = await hub.store.latest(self.broadcast_id, RING_CAPACITY, self.watermark)
        reshown: set[int] = set()
        for source in hub.reshown_sources:
            reshown.update(await source(self.broadcast_id, self.watermark, RING_CAPACITY))
        hub.stats["db_room_reads"] += 1 + len(hub.reshown_sources)
        self.ring.load(latest, len(latest) < RING_CAPACITY, self.watermark, reshown)
        self.stale = False

    async def listen(self) -> None:
        """Follow the broker channel of this broadcast (one subscription per process)."""
        async with self.hub.broker.subscribe(channel_name(self.broadcast_id)) as sub:
            self.ready.set()
            async for message in sub:
                if message is RESYNC:
                    self.stale = True
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
            changed = event.get("status")
            if isinstance(changed, dict):
                self.ring.set_status(
                    [i for i in changed.get("ids", ()) if isinstance(i, int)],
                    str(changed.get("status")), bool(changed.get("reshown")))
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
        total = self.local_presence
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
