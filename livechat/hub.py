"""The comment hub: one per process. Persist, then publish; fan out without stalling.

Data flow of a comment (see `docs/architecture.md`):

1. `CommentHub.post` validates and rate-limits, then stores the comment (SQLite assigns
   the id) and only then acknowledges it.
2. It wakes the local `Room` of that broadcast and publishes a small notification on the
   broker, so rooms in other processes wake too.
3. A woken room reads every comment after its watermark from the database (one query per
   room, not per viewer), keeps it in its ring of recent comments, encodes one `comments`
   frame and writes the same bytes to every viewer. A quiet room sends each comment at
   once; a busy one batches what arrives within a window that grows with viewers × rate
   (`livechat.batching`).
4. A viewer whose transport cannot take more queues frames; when its queue is full it is
   closed (4008) and told to resume: a slow client never slows anyone else.
5. Joining and resuming viewers are served from the room's ring (`livechat.ring`); the
   database only when the ring does not reach back far enough.

Because rooms read from the database, delivery is in id order with no gap and no
duplicate, whatever order notifications arrive in, and a room that missed notifications
(the broker was down) catches up by reading again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from livechat import protocol
from livechat.admission import Admission, wait_seconds
from livechat.broker import Broker, BrokerUnavailable
from livechat.chat_state import ChatState
from livechat.comment import Comment, CommentFlag, CommentStatus, CommentWire
from livechat.events import (
    Event,
    FrameOut,
    NewComments,
    Presence,
    StateChanged,
    StatusChange,
    encode_event,
)
from livechat.identity import MODERATORS, Identity
from livechat.network import address_key
from livechat.plugins import Plugin, Plugins, PostDecision
from livechat.ratelimit import Bucket, RateLimiter, retry_after
from livechat.room import (
    FETCH_LIMIT,
    PRESENCE_INTERVAL,
    ROOM_LINGER,
    Room,
    channel_name,
)
from livechat.stats import HubStats
from livechat.store import CommentStore, NewComment
from livechat.text import CommentRejected, validate_comment
from livechat.viewer import CLOSE, CLOSE_TOO_SLOW, Frame, Viewer

log = logging.getLogger("livechat.hub")


@dataclass(frozen=True)
class HubLimits:
    max_chars: int = 300
    rate_per_minute: float = 20.0
    burst: int = 5
    address_rate_per_minute: float = 120.0
    address_burst: int = 30
    send_queue_frames: int = 64
    backfill: int = 50
    max_message_bytes: int = 8192
    max_connections: int = 20000
    connections_per_address: int = 50
    admission_rate: float = 1500.0
    admission_burst: int = 3000

    def public(self) -> dict[str, Any]:
        return {
            "max_chars": self.max_chars,
            "rate_per_minute": self.rate_per_minute,
            "burst": self.burst,
            "max_message_bytes": self.max_message_bytes,
        }


# A resuming page may still show this many of the comments it saw (livechat.js keeps at
# most 400); those among them removed meanwhile are sent as `deleted`.
RECHECK_ON_RESUME = 400


def gone_for(
    who: Identity | None, hidden: Iterable[tuple[int, CommentStatus | str, str]]
) -> list[int]:
    """Ids among `hidden` (id, status, author) that `who`'s page must drop: removed ones,
    and held ones unless they are shown there — to their author (as pending) and to the
    moderators (in the console)."""
    sees_held = who is not None and who.role in MODERATORS
    return [
        i
        for i, status, author in hidden
        if status != CommentStatus.HELD or not (sees_held or (who and author == who.key))
    ]


class ChatWindow(Protocol):
    """When a broadcast takes live comments (livechat knows no schedule: `web` supplies it)."""

    async def closed_reason(self, broadcast_id: int) -> str | None:
        """None while live comments are taken; else why not (`planned`, `ended`, …)."""

    def forget(self, broadcast_id: int) -> None:
        """The broadcast's status changed: answer from fresh data from now on."""


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
        self.chat_window: ChatWindow | None = None
        self.admission = Admission(
            limits.max_connections,
            limits.admission_rate,
            limits.admission_burst,
            limits.connections_per_address,
        )
        self._identity_limits = RateLimiter(limits.burst, limits.rate_per_minute)
        self._address_limits = RateLimiter(limits.address_burst, limits.address_rate_per_minute)
        self._last_post: dict[tuple[int, str], float] = {}
        self._outbox: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(maxsize=10_000)
        self._tasks: list[asyncio.Task[None]] = []
        self._room_lock = asyncio.Lock()
        self.plugins = Plugins()
        self.stats = HubStats()

    # -- plugins -----------------------------------------------------------------------
    def register(self, plugin: Plugin, *, first: bool = False) -> None:
        """Plug `plugin` in under every interface of `livechat.plugins` it implements
        (`first`: its policy runs before the others'). Raises `ValueError` if one of its
        message types is handled already."""
        self.plugins.add(plugin, first=first)

    def unregister(self, plugin: Plugin) -> None:
        """Unplug `plugin` (its message types become unknown again)."""
        self.plugins.remove(plugin)

    @property
    def message_types(self) -> frozenset[str]:
        """Client message types beyond post/resume/ping that this hub handles."""
        return self.plugins.message_types

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
        await room.close()

    # -- rooms -------------------------------------------------------------------------
    async def room(self, broadcast_id: int) -> Room:
        room = self.rooms.get(broadcast_id)
        if room is not None:
            return room
        async with self._room_lock:
            room = self.rooms.get(broadcast_id)
            if room is not None:
                return room
            room = Room(
                broadcast_id, self.store, self.broker, self.process_id, self.stats, self.plugins
            )
            await room.open()
            settings = await self.store.get_chat_settings(broadcast_id)
            pinned_id = settings.pinned_id
            self.stats.db_room_reads += 1
            pinned = None
            if pinned_id is not None:
                entry = room.ring.get(pinned_id)
                if entry is not None:
                    pinned = entry.wire if entry.status == CommentStatus.VISIBLE else None
                else:
                    comment = await self.store.get(pinned_id)
                    self.stats.db_room_reads += 1
                    if comment is not None and comment.status == CommentStatus.VISIBLE:
                        pinned = comment.wire()
            room.state = settings.with_pinned(pinned)
            room.start_pump()
            self.rooms[broadcast_id] = room
            return room

    async def join(self, broadcast_id: int, viewer: Viewer, after: int | None) -> Room:
        """Add `viewer` and queue its backfill, then the live stream: no gap, no duplicate.

        Without `after`, the backfill is the recent visible comments; with it, every visible
        comment after that id (in frames of at most FETCH_LIMIT).
        """
        room = await self.room(broadcast_id)
        window = await self._window_closed(broadcast_id)
        room.empty_since = None
        upto = room.watermark
        room.add_viewer(viewer)
        viewer.push(Frame(self.hello(room, viewer, window)))
        if after is None:
            recent = room.ring.recent_visible(self.limits.backfill, upto)
            if recent is not None:
                self.stats.ring_backfills += 1
                self._push_backfill(room, viewer, recent)
            else:
                viewer.hold()
                try:
                    self.stats.db_backfill_reads += 1
                    found = await self.store.recent(broadcast_id, self.limits.backfill, upto)
                    self._push_backfill(room, viewer, [c.wire() for c in found])
                finally:
                    viewer.release()
        elif self._missed_from_ring(room, viewer, after, upto):
            self.stats.ring_backfills += 1
        else:
            viewer.hold()
            try:
                await self._queue_missed(room, viewer, after, upto)
            finally:
                viewer.release()
        self._report_presence(room)
        return room

    def _missed_from_ring(self, room: Room, viewer: Viewer, after: int, upto: int) -> bool:
        """`_queue_missed` from the room's ring, with no await (so nothing interleaves);
        False, having sent nothing, when the ring does not reach back to `after` or `after`
        is beyond the watermark (the database then says whether to `reset`)."""
        if after > upto:
            return False
        catch_up = room.catch_up(after, upto, RECHECK_ON_RESUME if after > 0 else 0)
        if catch_up is None:
            return False
        viewer.skip_upto = 0
        deleted = catch_up.deleted
        if deleted is not None and viewer.identity is not None:
            gone = gone_for(viewer.identity, catch_up.hidden)
            if len(gone) < len(catch_up.hidden):  # it is shown some held ones: its own frame
                deleted = Frame(protocol.deleted_frame(gone)) if gone else None
        for frame in (deleted, catch_up.restored, *catch_up.backfill):
            if frame is not None:
                viewer.push(frame)
        return True

    async def _queue_missed(self, room: Room, viewer: Viewer, after: int, upto: int) -> None:
        broadcast_id = room.broadcast_id
        if after > upto:
            # Ahead of this room (it has not read the newest yet), or beyond every comment
            # there is (a restored backup, a forged id): then resume from the real newest
            # and say so, or no live comment would reach the viewer until ids pass `after`.
            newest = await self.store.last_id(broadcast_id)
            if after > newest:
                viewer.push(Frame(protocol.reset_frame(newest)))
                after = newest
        viewer.skip_upto = after if after > upto else 0
        self.stats.db_backfill_reads += 1
        if after > 0:
            # What was removed while the viewer was away: it may still be on their page.
            hidden = await self.store.hidden_among_latest(broadcast_id, after, RECHECK_ON_RESUME)
            gone = gone_for(viewer.identity, hidden)
            if gone:
                viewer.push(Frame(protocol.deleted_frame(gone)))
            for supplement in self.plugins.resume:
                for text in await supplement.resume_frames(broadcast_id, viewer, after):
                    viewer.push(Frame(text))
        cursor = after
        while cursor < upto:
            page = await self.store.visible_page(broadcast_id, cursor, FETCH_LIMIT, upto)
            if not page:
                break
            self._push_backfill(room, viewer, [c.wire() for c in page])
            cursor = page[-1].id

    @staticmethod
    def _push_backfill(room: Room, viewer: Viewer, items: list[CommentWire]) -> None:
        # Past the live-frame bound: backfill may exceed it once.
        if items:
            viewer.push(room.backfill(items))

    async def resume(self, broadcast_id: int, viewer: Viewer, after: int) -> None:
        """Send every visible comment after `after` up to the watermark, then go on live."""
        room = await self.room(broadcast_id)
        viewer.drop_queued_comments()
        upto = room.watermark
        if self._missed_from_ring(room, viewer, after, upto):
            self.stats.ring_backfills += 1
            return
        viewer.hold()
        try:
            await self._queue_missed(room, viewer, after, upto)
        finally:
            viewer.release()

    async def handle_command(
        self, broadcast_id: int, viewer: Viewer, command: protocol.Command
    ) -> None:
        """Run a registered command (moderation, questions); unknown ones earn an error."""
        handler = self.plugins.commands.get(command.type)
        if handler is None:
            viewer.offer_direct(
                protocol.error_frame("unknown_type", f"unknown message type {command.type!r}")
            )
            return
        try:
            await handler.run_command(broadcast_id, viewer, command)
        except CommentRejected as exc:
            viewer.offer_direct(protocol.error_frame(exc.code, exc.message, None, **exc.extra))

    async def admit(self, broadcast_id: int, address: str = "") -> float:
        """0 if a new connection from `address` may join `broadcast_id` (it is then counted
        open until `admission.release`), else seconds to wait: for the broadcast's rate, the
        client's turn (`livechat.admission.Backlog`). The caps are this process's; the
        admission rates are shared by every process through the broker (this process's
        own while the broker keeps none)."""
        admission = self.admission
        refused = admission.refusal(address)
        if refused:
            return refused
        waits = await self.broker.take(admission.buckets(broadcast_id, address))
        if waits is None:
            return admission.admit(broadcast_id, time.monotonic(), address)
        if waits[-1]:  # the broadcast's bucket (the last) is short
            turn = admission.turn(broadcast_id, time.monotonic(), waits[-1])
            return max([turn, *(float(wait_seconds(w)) for w in waits[:-1] if w)])
        if max(waits):
            return wait_seconds(max(waits))
        # Checked again: other connections may have been admitted during the await.
        refused = admission.refusal(address)
        if refused:
            return refused
        admission.opened(address)
        return 0

    def leave(self, broadcast_id: int, viewer: Viewer) -> None:
        viewer.closed = True
        room = self.rooms.get(broadcast_id)
        if room is None:
            return
        room.remove_viewer(viewer)
        if not room.viewers:
            room.empty_since = time.monotonic()
        self._report_presence(room)

    def _report_presence(self, room: Room) -> None:
        room.send_presence()
        self._publish_presence(room)

    def _publish_presence(self, room: Room) -> None:
        """Tell the other processes this room's count, coalesced by `room.presence_gate`
        (a burst of joins costs one publish now and one with the final count later)."""
        delay = room.presence_gate.request(time.monotonic())
        if delay is None:
            return
        if delay == 0.0:
            self._enqueue(room.broadcast_id, Presence(room.local_presence))
            return

        def publish_latest() -> None:
            room.presence_publish_due = None
            room.presence_gate.fired(time.monotonic())
            if self.rooms.get(room.broadcast_id) is room:
                self._enqueue(room.broadcast_id, Presence(room.local_presence))

        room.presence_publish_due = asyncio.get_running_loop().call_later(delay, publish_latest)

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
        retry: bool = True,
        now: float | None = None,
    ) -> PostResult:
        """Validate, rate-limit, store, then publish. Raises `CommentRejected`.

        A post with a `client_id` already stored for this author returns the stored
        comment (`created=False`) and is never refused. `retry`: the client may have sent
        it before; the stored copy is looked for first, so a retry costs no limit. False
        (the socket's first send of a comment, most posts) skips that read: a post that
        was stored after all then costs a token if the limits allow it, and is looked for
        only when something would refuse it.
        """
        if retry:
            existing = await self.store.find(broadcast_id, author.key, client_id)
            if existing is not None:
                return PostResult(existing, False)
        try:
            if video_offset is None:  # a replay comment carries its place in the recording
                window = await self._window_closed(broadcast_id)
                if window is not None:
                    raise CommentRejected(
                        "chat_closed",
                        f"comments are taken only while the broadcast is live (it is {window})",
                        reason=window,
                    )
            text = validate_comment(raw_text, self.limits.max_chars)
            decision = PostDecision(text=text, origin=address_key(address) if address else "")
            if question:
                decision.flags.add(CommentFlag.QUESTION)
            for policy in self.plugins.policies:
                await policy.check_post(broadcast_id, author, client_id, decision)
            clock = time.monotonic() if now is None else now
            if not author.is_staff:
                await self._check_rates(broadcast_id, author, address, clock)
        except CommentRejected as exc:
            if not retry:  # refused, unless it is a retry the client did not mark
                existing = await self.store.find(broadcast_id, author.key, client_id)
                if existing is not None:
                    return PostResult(existing, False)
            self.stats.reject(exc.code)
            raise
        comment, created = await self.store.insert(
            NewComment(
                broadcast_id,
                author,
                client_id,
                decision.text,
                status=decision.status,
                flags=",".join(sorted(decision.flags)),
                video_offset=video_offset,
                origin=decision.origin,
            )
        )
        if created:
            self.stats.accepted += 1
            for listener in self.plugins.stored:
                try:
                    await listener.comment_stored(comment)
                except Exception:  # the comment is stored: acknowledge it regardless
                    log.exception("stored hook failed for comment %s", comment.id)
            self.comment_stored(broadcast_id, comment)
        return PostResult(comment, created, decision.notice)

    async def _check_rates(
        self, broadcast_id: int, author: Identity, address: str, now: float
    ) -> None:
        """Slow mode, then the identity's and the address's token buckets: shared by every
        process through the broker when it can (Redis), else kept in this process."""
        room = self.rooms.get(broadcast_id)
        slow = room.state.slow_mode if room else 0
        limits = self.limits
        buckets = [Bucket(f"id:{author.key}", limits.burst, limits.rate_per_minute / 60)]
        if address:
            buckets.append(
                Bucket(f"addr:{address}", limits.address_burst, limits.address_rate_per_minute / 60)
            )
        if slow:  # one comment every `slow` s is a bucket of one token
            buckets.append(Bucket(f"slow:{broadcast_id}:{author.key}", 1, 1 / slow))
        waits = await self.broker.take(buckets)
        if waits is None:
            waits = self._take_locally(broadcast_id, author, address, slow, now)
        wait = waits[-1] if slow else 0.0
        if wait:
            raise CommentRejected(
                "slow_mode",
                f"slow mode: one comment every {slow} s; wait {wait:.0f} s",
                retry_after=retry_after(wait),
            )
        if waits[0]:
            raise CommentRejected(
                "rate_limited",
                f"too many comments; try again in {max(1, round(waits[0]))} s",
                retry_after=retry_after(waits[0]),
            )
        if address and waits[1]:
            raise CommentRejected(
                "rate_limited",
                f"too many comments from your network; try again in {max(1, round(waits[1]))} s",
                retry_after=retry_after(waits[1]),
            )

    def _take_locally(
        self, broadcast_id: int, author: Identity, address: str, slow: int, now: float
    ) -> list[float]:
        """`Broker.take`'s answer from this process's own buckets (same order)."""
        slow_wait = 0.0
        if slow:
            last = self._last_post.get((broadcast_id, author.key))
            if last is not None and now - last < slow:
                slow_wait = slow - (now - last)
        waits = [0.0, 0.0] if address else [0.0]
        if not slow_wait:
            waits[0] = self._identity_limits.check(author.key, now)
            if address and not waits[0]:
                waits[1] = self._address_limits.check(address, now)
            if slow and not any(waits):
                self._last_post[(broadcast_id, author.key)] = now
        return [*waits, slow_wait] if slow else waits

    def comment_stored(self, broadcast_id: int, comment: Comment | None = None) -> None:
        """A comment of `broadcast_id` is committed (`comment`, when the caller has it: the
        local room may then send it without reading it back): wake the local room, tell
        the others."""
        room = self.rooms.get(broadcast_id)
        if room is not None:
            room.hand(comment)
        self._enqueue(broadcast_id, NewComments())

    # -- events to every process -------------------------------------------------------
    def broadcast_event(self, broadcast_id: int, event: Event) -> None:
        """Apply `event` to the local room now and publish it to every other process."""
        room = self.rooms.get(broadcast_id)
        if room is not None:
            room.apply(event)
        self._enqueue(broadcast_id, event)

    def broadcast_frame(
        self,
        broadcast_id: int,
        frame: dict[str, Any],
        changed: list[Comment] | None = None,
        reshown: bool = False,
    ) -> None:
        """Send one server frame to every viewer of `broadcast_id` on every process.

        `changed`: comments whose status this frame announces (all now in one status;
        `reshown`: a moderator put them back), so every room's ring learns it too."""
        change = None
        if changed:
            change = StatusChange(tuple(c.id for c in changed), changed[0].status, reshown)
        self.broadcast_event(broadcast_id, FrameOut(protocol.encode(frame), change))

    def broadcast_state(self, broadcast_id: int, state: ChatState) -> None:
        """The chat settings of `broadcast_id` changed: every room sends a `state` frame."""
        self.broadcast_event(broadcast_id, StateChanged(state))

    def publish(self, channel: str, message: bytes) -> None:
        """Queue `message` for `channel` behind the events already queued (never blocks;
        dropped and counted as a publish failure when the queue is full)."""
        try:
            self._outbox.put_nowait((channel, message))
        except asyncio.QueueFull:
            self.stats.publish_failures += 1

    def _enqueue(self, broadcast_id: int, event: Event) -> None:
        self.publish(channel_name(broadcast_id), encode_event(event, self.process_id))

    async def _publisher(self) -> None:
        """Publish in order, off the request path: a slow broker never delays an ack."""
        while True:
            channel, message = await self._outbox.get()
            try:
                if not self.broker.healthy:
                    # Down: don't wait on it. Every room catches up from the database when
                    # the broker is back (RESYNC), and polls it meanwhile.
                    raise BrokerUnavailable("broker down")
                await self.broker.publish(channel, message)
            except BrokerUnavailable:
                # Comment notifications are recovered by RESYNC + the database.
                self.stats.publish_failures += 1
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
                self._publish_presence(room)
                room.send_presence()
            cutoff = now - 3600
            for key in [k for k, t in self._last_post.items() if t < cutoff]:
                del self._last_post[key]

    async def _window_closed(self, broadcast_id: int) -> str | None:
        """Why live comments are not taken now (`planned`, `ended`, …), or None."""
        return (
            None if self.chat_window is None else await self.chat_window.closed_reason(broadcast_id)
        )

    def hello(self, room: Room, viewer: Viewer, window: str | None = None) -> str:
        """`closed` is true when a moderator closed the chat or the broadcast is not live
        (`window`: its status); `closed_reason` says which."""
        you = viewer.identity.public() if viewer.identity else None
        closed = room.state.closed or window is not None
        extra: dict[str, Any] = {"closed": closed, "pinned": room.state.pinned}
        if closed:
            extra["closed_reason"] = window or "moderator"
        return protocol.hello_frame(
            room.broadcast_id,
            you,
            self.limits.public(),
            room.state.slow_mode,
            room.viewer_count(),
            room.watermark,
            extra,
        )


__all__ = [
    "CLOSE",
    "CLOSE_TOO_SLOW",
    "ChatWindow",
    "CommentHub",
    "CommentRejected",
    "Frame",
    "HubLimits",
    "PostDecision",
    "PostResult",
    "Room",
    "Viewer",
]
