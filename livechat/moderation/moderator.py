"""The moderation service: policies the hub runs before storing, and moderators' actions.

`Moderator.install()` registers it on one process's `CommentHub` (`hub.register`; `stop()`
unregisters it), as a plugin with these parts (`livechat.plugins`):

- a **policy** run before a comment is stored: chat closed, timeouts and bans (a clear
  error saying until when, in Seoul time), personal-data masking (the author is told), and
  blocked words (the comment is stored `held`: its author sees it pending, nobody else
  sees it until a moderator approves it);
- the **`moderate` WebSocket command**, checked against the sender's role on every
  message: anyone else earns an `error` frame (`forbidden`) and nothing happens;
- hooks that show held comments and moderation events to the moderators of a room, and
  tell an author what happened to their comment.

Every action writes the database first (with its audit row, in one transaction) and then
goes out through `hub.broadcast_event` / `broadcast_frame` / `broadcast_state`, which
reach every viewer on every process. Blocked-word changes travel on one control channel per process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from livechat import protocol
from livechat.broker import RESYNC
from livechat.chat_state import ChatState
from livechat.comment import Comment, CommentFlag, CommentStatus
from livechat.events import Event, ModerationNotice
from livechat.hub import RECHECK_ON_RESUME, CommentHub, PostDecision, Viewer
from livechat.identity import MODERATORS, STAFF, Identity, Role
from livechat.moderation.moderation import (
    Blocklist,
    Reason,
    ReasonError,
    blocked_word_key,
    mask_personal_data,
    parse_reason,
)
from livechat.moderation.moderation_store import (
    AuditEntry,
    Change,
    Conflict,
    ModerationStore,
    pseudonym,
)
from livechat.moderation.reporting import report_weight
from livechat.network import address_key, network_block
from livechat.plugins import RoomView
from livechat.ratelimit import Bucket, RateLimiter
from livechat.text import CommentRejected, clean_text, grapheme_count, has_visible

log = logging.getLogger("livechat.moderation.moderator")

# A moderation request as decoded from JSON: every value is checked before use.
Body = Mapping[str, object]

TIMEOUT_MINUTES = (1, 5, 10, 30, 1440)
SLOW_MODE_MAX = 3600
WORD_MAX = 50
APPEAL_MAX = 300
NOTE_MAX = 200
_NOT_REMOVED = (CommentStatus.VISIBLE, CommentStatus.HELD)
CONTROL_CHANNEL = "live-seoul:moderation"
REFRESH_SECONDS = 15.0  # reload blocked words even if a control message was lost
SEOUL = ZoneInfo("Asia/Seoul")


class ModerationError(Exception):
    """An action cannot be done: a stable code (`bad_field`, `forbidden`, `not_found`,
    `conflict`, `rate_limited`), the field at fault, why. `web.http.errors` maps codes to HTTP."""

    def __init__(self, code: str, field: str | None, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
        self.message = message


def seoul_time(iso_utc: str) -> str:
    """`2026-05-01 15:30 KST` for an ISO-8601 UTC time."""
    return datetime.fromisoformat(iso_utc).astimezone(SEOUL).strftime("%Y-%m-%d %H:%M KST")


def mod_item(comment: Comment, **extra: Any) -> dict[str, Any]:
    """A comment as moderators see it: every status, and a pseudonym for its author."""
    return {
        **comment.wire(),
        "status": comment.status,
        "author_ref": pseudonym(comment.author_key),
        **extra,
    }


def _int(body: Body, name: str, lo: int = 1, hi: int = 2**62) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ModerationError("bad_field", name, f"`{name}` must be an integer from {lo} to {hi}")
    return value


def _reason(body: Body) -> tuple[Reason, str]:
    """A reason and its text (shown to the author, kept in the record: personal data masked)."""
    try:
        why, text = parse_reason(body.get("reason"), body.get("reason_text", ""))
        return why, mask_personal_data(text).text
    except ReasonError as exc:
        raise ModerationError("bad_field", exc.field, exc.message) from None


def _optional_reason(body: Body) -> tuple[str, str]:
    if body.get("reason") in (None, ""):
        return "", ""
    return _reason(body)


def _short_text(body: Body, name: str, limit: int, required: bool) -> str:
    value = body.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ModerationError("bad_field", name, f"`{name}` must be a string")
    text = clean_text(value)
    if not has_visible(text):
        if required:
            raise ModerationError("bad_field", name, f"`{name}` must not be empty")
        return ""
    if grapheme_count(text) > limit or len(text) > 4 * limit:
        raise ModerationError("bad_field", name, f"`{name}` is at most {limit} characters")
    return text


@dataclass(frozen=True)
class AuthorNotices:
    """What an author is told in words, and where they appeal a removal. The web layer
    supplies them (`web.moderation.author_notices`): livechat builds no user-facing text or URL."""

    held: str  # the comment waits for a moderator
    masked: Callable[[frozenset[str]], str]  # personal data of these kinds was hidden
    appeal_url: Callable[[int], str]  # where the author of comment N appeals its removal


@dataclass(frozen=True)
class ModerationConfig:
    report_hide_threshold: float = 3.0  # weight of reports that hides (reporting.py); 0: never
    reports_per_address: int = 20  # reports an hour from one address (IPv6: its /64)...
    reports_per_network: int = 60  # ...and from one network block (IPv4 /24, IPv6 /64)
    restriction_origin_hours: int = 24  # a timeout/ban binds the author's address this long


class Moderator:
    """One per process. Install on the hub after `hub.start()`; `stop()` before the hub's."""

    def __init__(
        self,
        hub: CommentHub,
        store: ModerationStore,
        notices: AuthorNotices,
        config: ModerationConfig | None = None,
    ) -> None:
        self.hub = hub
        self.store = store
        self.notices = notices
        self.config = config or ModerationConfig()
        self.blocklist = Blocklist()
        self._report_limits = (  # used while no shared (Redis) buckets answer
            RateLimiter(self.config.reports_per_address, self.config.reports_per_address / 60),
            RateLimiter(self.config.reports_per_network, self.config.reports_per_network / 60),
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._actions = {
            "remove": self._remove,
            "restore": self._restore,
            "remove_user": self._remove_user,
            "timeout": self._timeout,
            "ban": self._ban,
            "unban": self._unban,
            "slow_mode": self._slow_mode,
            "chat": self._chat,
            "pin": self._pin,
            "unpin": self._unpin,
            "approve": self._approve,
            "reject": self._reject,
            "word_add": self._word_add,
            "word_remove": self._word_remove,
            "appeal_decide": self._appeal_decide,
        }

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(self._actions)

    @property
    def message_types(self) -> tuple[str, ...]:
        return ("moderate",)

    # -- lifecycle ---------------------------------------------------------------------
    async def install(self) -> None:
        await self.reload_words()
        self.hub.register(self)
        self.hub.store.forget_hooks.append(self.store.forget_in)
        ready = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self._listen(ready), name="moderation-control"),
            asyncio.create_task(self._refresh(), name="moderation-refresh"),
        ]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2.0):
                await ready.wait()

    async def stop(self) -> None:
        self.hub.unregister(self)
        with contextlib.suppress(ValueError):
            self.hub.store.forget_hooks.remove(self.store.forget_in)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def reload_words(self) -> None:
        words = await self.store.words()
        self.blocklist = Blocklist([w.word for w in words])

    async def _listen(self, ready: asyncio.Event) -> None:
        while True:
            try:
                async with self.hub.broker.subscribe(CONTROL_CHANNEL) as sub:
                    ready.set()
                    async for message in sub:
                        if message is not RESYNC:
                            assert isinstance(message, bytes)
                            with contextlib.suppress(ValueError):
                                if json.loads(message).get("proc") == self.hub.process_id:
                                    continue
                        await self.reload_words()
                        self._to_all_moderators(await self._words_frame())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("moderation control channel failed; resubscribing")
                await asyncio.sleep(1.0)

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            with contextlib.suppress(Exception):
                await self.reload_words()

    # -- the policy --------------------------------------------------------------------
    async def check_post(
        self, broadcast_id: int, author: Identity, client_id: str, decision: PostDecision
    ) -> None:
        """Closed chat, restrictions, masking, blocked words. Staff are exempt."""
        if author.is_staff:
            return
        hub = self.hub
        room = hub.rooms.get(broadcast_id)
        closed = (
            room.state.closed if room else (await hub.store.get_chat_settings(broadcast_id)).closed
        )
        if closed:
            raise CommentRejected("chat_closed", "comments are closed for this broadcast")
        restriction = await self.store.active_restriction(
            author.key, broadcast_id, origin=decision.origin
        )
        if restriction is not None and restriction.author_key != author.key:
            assert restriction.until is not None  # an address is bound for a bounded time
            raise CommentRejected(
                "address_restricted",
                "comments from your network are paused until"
                f" {seoul_time(restriction.until)} (Seoul time) after a moderator's action",
                until=datetime.fromisoformat(restriction.until)
                .astimezone(SEOUL)
                .isoformat(timespec="seconds"),
            )
        if restriction is not None:
            scope = "this broadcast" if restriction.broadcast_id is not None else "everywhere"
            if restriction.until is None:
                raise CommentRejected(
                    "banned",
                    f"you are banned from commenting ({scope}) until a moderator lifts the ban",
                    until=None,
                    scope=scope,
                    reason=restriction.reason,
                )
            until = datetime.fromisoformat(restriction.until).astimezone(SEOUL)
            code = "timed_out" if restriction.kind == "timeout" else "banned"
            raise CommentRejected(
                code,
                f"you cannot comment ({scope}) until {seoul_time(restriction.until)} (Seoul time)",
                until=until.isoformat(timespec="seconds"),
                scope=scope,
                reason=restriction.reason,
            )
        original = decision.text
        masked = mask_personal_data(decision.text)
        notices = []
        if masked.changed:
            decision.text = masked.text
            decision.flags.add(CommentFlag.MASKED)
            notices.append(self.notices.masked(masked.kinds))
        if self.blocklist.match(original) is not None:
            decision.status = CommentStatus.HELD
            notices.append(self.notices.held)
        if notices:
            decision.notice = " ".join(notices)

    # -- hooks: moderators and authors on this process ---------------------------------
    async def resume_frames(self, broadcast_id: int, viewer: Viewer, after: int) -> list[str]:
        """A page that was away while comments it had seen were put back gets them again
        (`restored`: re-inserted in place, harmless where they never left)."""
        comments = await self.store.reshown_among_latest(broadcast_id, after, RECHECK_ON_RESUME)
        if not comments:
            return []
        return [protocol.restored_frame([c.wire() for c in comments])]

    async def reshown(self, broadcast_id: int, upto: int, window: int) -> list[int]:
        """For a room's ring: which of its comments were put back by a moderator."""
        return [c.id for c in await self.store.reshown_among_latest(broadcast_id, upto, window)]

    def _moderators(self, room: RoomView) -> list[Viewer]:
        return [v for v in room.viewers if v.identity is not None and v.identity.role in MODERATORS]

    def comment_held(self, room: RoomView, comment: Comment) -> None:
        word = self.blocklist.match(comment.text)
        frame = protocol.encode(
            {
                "type": "mod",
                "event": "held",
                "item": mod_item(comment, cause="blocked_word", matched=word),
            }
        )
        for viewer in self._moderators(room):
            viewer.offer_direct(frame)

    def room_event(self, room: RoomView, event: Event) -> None:
        if not isinstance(event, ModerationNotice):
            return
        if event.frame is not None:
            for viewer in self._moderators(room):
                viewer.offer_direct(event.frame)
        author_key, author_frame = event.author_key, event.author_frame
        if author_key is not None and author_frame is not None:
            for viewer in list(room.viewers):
                if viewer.identity is not None and viewer.identity.key == author_key:
                    viewer.offer_direct(author_frame)

    def _to_all_moderators(self, frame: str) -> None:
        for room in list(self.hub.rooms.values()):
            for viewer in self._moderators(room):
                viewer.offer_direct(frame)

    def _emit(
        self,
        broadcast_id: int,
        mod: dict[str, Any] | None = None,
        author_key: str | None = None,
        author: dict[str, Any] | None = None,
    ) -> None:
        frame = None if mod is None else protocol.encode({"type": "mod", **mod})
        if author_key is not None and author is not None:
            author_frame = protocol.encode({"type": "moderation", **author})
            notice = ModerationNotice(frame, author_key, author_frame)
        else:
            notice = ModerationNotice(frame)
        self.hub.broadcast_event(broadcast_id, notice)

    def _emit_action(
        self,
        broadcast_id: int,
        action: str,
        entries: list[AuditEntry],
        items: list[Comment] | None = None,
        **extra: Any,
    ) -> None:
        self._emit(
            broadcast_id,
            {
                "event": "action",
                "action": action,
                "entries": [e.public() for e in entries],
                "items": [mod_item(c) for c in items or []],
                **extra,
            },
        )

    async def _words_frame(self) -> str:
        words = await self.store.words()
        return protocol.encode(
            {"type": "mod", "event": "words", "words": [w.public() for w in words]}
        )

    async def _publish_state(self, broadcast_id: int, settings: ChatState) -> dict[str, Any]:
        pinned = None
        if settings.pinned_id is not None:
            comment = await self.hub.store.get(settings.pinned_id)
            if comment is not None and comment.status == CommentStatus.VISIBLE:
                pinned = comment.wire()
        state = settings.with_pinned(pinned)
        self.hub.broadcast_state(broadcast_id, state)
        return state.public()

    # -- WebSocket ---------------------------------------------------------------------
    async def run_command(
        self, broadcast_id: int, viewer: Viewer, command: protocol.Command
    ) -> None:
        """`{"type": "moderate", "action": …, "request_id": …}` from a WebSocket."""
        body = command.body
        request_id = body.get("request_id")
        if not isinstance(request_id, str) or len(request_id) > 64:
            request_id = None
        actor = viewer.identity
        if actor is None or actor.role not in MODERATORS:
            viewer.offer_direct(
                protocol.error_frame(
                    "forbidden",
                    "moderation needs a moderator or admin account",
                    None,
                    request_id=request_id,
                )
            )
            return
        try:
            result = await self.perform(actor, broadcast_id, body)
        except ModerationError as exc:
            viewer.offer_direct(
                protocol.error_frame(
                    exc.code, exc.message, None, field=exc.field, request_id=request_id
                )
            )
            return
        viewer.offer_direct(
            protocol.encode(
                {
                    "type": "moderated",
                    "request_id": request_id,
                    "action": body.get("action"),
                    "result": result,
                }
            )
        )

    # -- actions -----------------------------------------------------------------------
    async def perform(self, actor: Identity, broadcast_id: int, body: Body) -> dict[str, Any]:
        """Run one moderator action on `broadcast_id`. Raises `ModerationError`.

        The role is checked here too, whatever the caller checked.
        """
        if actor.role not in MODERATORS:
            raise ModerationError(
                "forbidden", None, "moderation needs a moderator or admin account"
            )
        action = body.get("action")
        handler = self._actions.get(action) if isinstance(action, str) else None
        if handler is None:
            raise ModerationError(
                "bad_field", "action", f"`action` must be one of {', '.join(self._actions)}"
            )
        try:
            return await handler(actor, broadcast_id, body)
        except Conflict as exc:
            raise ModerationError("conflict", exc.field, exc.message) from None

    async def _comment(self, broadcast_id: int, body: Body, name: str = "comment_id") -> Comment:
        comment_id = _int(body, name)
        comment = await self.store.comment(comment_id)
        if comment is None or comment.broadcast_id != broadcast_id:
            raise ModerationError(
                "not_found", name, f"no comment {comment_id} in broadcast {broadcast_id}"
            )
        return comment

    @staticmethod
    def _not_staff(comment: Comment) -> None:
        if comment.role in STAFF or comment.author_key.startswith("u:"):
            raise ModerationError(
                "forbidden", "comment_id", "staff accounts cannot be timed out, banned or purged"
            )

    async def _removed(
        self, broadcast_id: int, action: str, change: Change, reason: str, reason_text: str
    ) -> None:
        ids = [c.id for c in change.changed]
        if not ids:
            return
        self.hub.broadcast_frame(
            broadcast_id, {"type": "deleted", "ids": ids, "reason": reason}, change.changed
        )
        self._emit_action(broadcast_id, action, change.entries, change.changed)
        for comment in change.changed:
            self._emit(
                broadcast_id,
                author_key=comment.author_key,
                author={
                    "event": "removed",
                    "id": comment.id,
                    "client_id": comment.client_id,
                    "reason": reason,
                    "reason_text": reason_text,
                    "can_appeal": True,
                    "appeal_url": self.notices.appeal_url(comment.id),
                },
            )
        pinned = (await self.hub.store.get_chat_settings(broadcast_id)).pinned_id
        if pinned in ids:
            settings, _ = await self.store.update_chat(
                Identity("system", "system", Role.SYSTEM),
                broadcast_id,
                "unpin",
                {"pinned_comment_id": None},
            )
            await self._publish_state(broadcast_id, settings)

    def _shown(self, broadcast_id: int, action: str, change: Change, author_event: str) -> None:
        if not change.changed:
            return
        items = [c.wire() for c in change.changed]
        self.hub.broadcast_frame(
            broadcast_id,
            {"type": "comments", "items": items, "restored": True},
            change.changed,
            True,
        )
        self._emit_action(broadcast_id, action, change.entries, change.changed)
        for comment in change.changed:
            self._emit(
                broadcast_id,
                author_key=comment.author_key,
                author={"event": author_event, "id": comment.id, "client_id": comment.client_id},
            )

    async def _remove(self, actor: Identity, broadcast_id: int, body: Body) -> dict[str, Any]:
        comment = await self._comment(broadcast_id, body)
        reason, text = _reason(body)
        change = await self.store.set_status(
            actor,
            "remove",
            [comment],
            CommentStatus.REMOVED,
            from_statuses=_NOT_REMOVED,
            reason=reason,
            reason_text=text,
        )
        if not change.changed:
            raise ModerationError("conflict", "comment_id", "already removed")
        await self._removed(broadcast_id, "remove", change, reason, text)
        return {"removed": [comment.id]}

    async def _restore(self, actor: Identity, broadcast_id: int, body: Body) -> dict[str, Any]:
        comment = await self._comment(broadcast_id, body)
        reason, text = _optional_reason(body)
        change = await self.store.set_status(
            actor,
            "restore",
            [comment],
            CommentStatus.VISIBLE,
            from_statuses=(CommentStatus.REMOVED,),
            reason=reason,
            reason_text=text,
        )
        if not change.changed:
            raise ModerationError("conflict", "comment_id", "the comment is not removed")
        self._shown(broadcast_id, "restore", change, "restored")
        return {"restored": [comment.id]}

    async def _remove_user(self, actor: Identity, broadcast_id: int, body: Body) -> dict[str, Any]:
        comment = await self._comment(broadcast_id, body)
        self._not_staff(comment)
        reason, text = _reason(body)
        written = await self.store.by_author(broadcast_id, comment.author_key)
        change = await self.store.set_status(
            actor,
            "remove_user",
            written,
            CommentStatus.REMOVED,
            from_statuses=_NOT_REMOVED,
            reason=reason,
            reason_text=text,
            detail={"of_comment": comment.id},
        )
        await self._removed(broadcast_id, "remove_user", change, reason, text)
        return {"removed": [c.id for c in change.changed]}

    async def _restrict(
        self, actor: Identity, broadcast_id: int, body: Body, kind: str
    ) -> dict[str, Any]:
        comment = await self._comment(broadcast_id, body)
        self._not_staff(comment)
        reason, text = _reason(body)
        now = await self.store.db.now()  # the database's clock: what `until` is compared with
        if kind == "timeout":
            minutes = _int(body, "minutes", 1, 1440)
            if minutes not in TIMEOUT_MINUTES:
                raise ModerationError(
                    "bad_field", "minutes", f"`minutes` must be one of {TIMEOUT_MINUTES}"
                )
            until: str | None = (now + timedelta(minutes=minutes)).isoformat(
                timespec="microseconds"
            )
            scope_id: int | None = broadcast_id
            detail: dict[str, Any] = {"minutes": minutes}
        else:
            scope = body.get("scope", "broadcast")
            if scope not in ("broadcast", "everywhere"):
                raise ModerationError(
                    "bad_field", "scope", "`scope` must be broadcast or everywhere"
                )
            until, scope_id, detail = None, (broadcast_id if scope == "broadcast" else None), {}
        hours = self.config.restriction_origin_hours
        origin_until = None
        if hours > 0:
            bound = now + timedelta(hours=hours)
            if until is not None:
                bound = min(bound, datetime.fromisoformat(until))
            origin_until = bound.isoformat(timespec="microseconds")
        restriction, entry = await self.store.restrict(
            actor, comment, kind, until, scope_id, reason, text, detail, origin_until
        )
        public = restriction.public()
        self._emit_action(broadcast_id, kind, [entry], restriction=public)
        self._emit(
            broadcast_id,
            author_key=comment.author_key,
            author={
                "event": "restricted",
                "kind": kind,
                "scope": public["scope"],
                "reason": reason,
                "until": (
                    datetime.fromisoformat(until).astimezone(SEOUL).isoformat(timespec="seconds")
                    if until
                    else None
                ),
                "until_text": seoul_time(until) if until else None,
            },
        )
        return {"restriction": public}

    async def _timeout(self, actor: Identity, broadcast_id: int, body: Body) -> dict[str, Any]:
        return await self._restrict(actor, broadcast_id, body, "timeout")

    async def _ban(self, actor: Identity, broadcast_id: int, body: Body) -> dict[str, Any]:
        return await self._restrict(actor, broadcast_id, body, "ban")

    async def _unban(self, actor: Identity, broadcast_id: int, body: Body) -> dict[str, Any]:
        restriction_id = _int(body, "restriction_id")
        reason, text = _optional_reason(body)
        restriction, entry = await self.store.lift(
            actor, broadcast_id, restriction_id, reason, text
        )
        self._emit_action(broadcast_id, "unban", [entry], lifted=restriction.id)
        self._emit(
            broadcast_id,
            author_key=restriction.author_key,
            author={"event": "unrestricted", "kind": restriction.kind},
        )
        return {"lifted": restriction.id}

    async def _chat_change(
        self,
        actor: Identity,
        broadcast_id: int,
        action: str,
        values: dict[str, Any],
        body: Body,
        comment: Comment | None = None,
    ) -> dict[str, Any]:
        reason, text = _optional_reason(body)
        settings, entry = await self.store.update_chat(
            actor, broadcast_id, action, values, comment=comment, reason=reason, reason_text=text
        )
        state = await self._publish_state(broadcast_id, settings)
        self._emit_action(broadcast_id, action, [entry], state=state)
        return {"state": state}

    async def _slow_mode(self, actor: Identity, broadcast_id: int, body: Body) -> dict[str, Any]:
        seconds = _int(body, "seconds", 0, SLOW_MODE_MAX)
        return await self._chat_change(
            actor, broadcast_id, "slow_mode", {"slow_mode_seconds": seconds}, body
        )

    async def _chat(self, actor: Identity, broadcast_id: int, body: Body) -> dict[str, Any]:
        closed = body.get("closed")
        if not isinstance(closed, bool):
            raise ModerationError("bad_field", "closed", "`closed` must be true or false")
        return await self._chat_change(
            actor,
            broadcast_id,
            "chat_close" if closed else "chat_open",
            {"closed": int(closed)},
            body,
        )

    async def _pin(self, actor: Identity, broadcast_id: int, body: Body) -> dict[str, Any]:
        comment = await self._comment(broadcast_id, body)
        if comment.status != CommentStatus.VISIBLE:
            raise ModerationError("conflict", "comment_id", "only a visible comment can be pinned")
        return await self._chat_change(
            actor, broadcast_id, "pin", {"pinned_comment_id": comment.id}, body, comment
        )

    async def pin(self, actor: Identity, broadcast_id: int, comment: Comment) -> dict[str, Any]:
        """Pin `comment` for `actor` (an official pinning a live answer): audited and
        published like a moderator's pin."""
        if comment.status != CommentStatus.VISIBLE:
            raise ModerationError("conflict", "comment_id", "only a visible comment can be pinned")
        return await self._chat_change(
            actor, broadcast_id, "pin", {"pinned_comment_id": comment.id}, {}, comment
        )

    async def _unpin(self, actor: Identity, broadcast_id: int, body: Body) -> dict[str, Any]:
        return await self._chat_change(
            actor, broadcast_id, "unpin", {"pinned_comment_id": None}, body
        )

    async def _approve(self, actor: Identity, broadcast_id: int, body: Body) -> dict[str, Any]:
        comment = await self._comment(broadcast_id, body)
        change = await self.store.set_status(
            actor, "approve", [comment], CommentStatus.VISIBLE, from_statuses=(CommentStatus.HELD,)
        )
        if not change.changed:
            raise ModerationError("conflict", "comment_id", "the comment is not held")
        self._shown(broadcast_id, "approve", change, "approved")
        return {"approved": [comment.id]}

    async def _reject(self, actor: Identity, broadcast_id: int, body: Body) -> dict[str, Any]:
        comment = await self._comment(broadcast_id, body)
        reason, text = _reason(body)
        change = await self.store.set_status(
            actor,
            "reject",
            [comment],
            CommentStatus.REMOVED,
            from_statuses=(CommentStatus.HELD,),
            reason=reason,
            reason_text=text,
        )
        if not change.changed:
            raise ModerationError("conflict", "comment_id", "the comment is not held")
        await self._removed(broadcast_id, "reject", change, reason, text)
        return {"rejected": [comment.id]}

    async def _word_add(self, actor: Identity, broadcast_id: int, body: Body) -> dict[str, Any]:
        word = _short_text(body, "word", WORD_MAX, required=True)
        folded = blocked_word_key(word)
        if not folded:
            raise ModerationError(
                "bad_field", "word", "`word` has no letters left to match once normalised"
            )
        blocked, entry = await self.store.add_word(actor, word, folded)
        await self._words_changed(broadcast_id, entry)
        return {"word": blocked.public()}

    async def _word_remove(self, actor: Identity, broadcast_id: int, body: Body) -> dict[str, Any]:
        word_id = _int(body, "word_id")
        entry = await self.store.remove_word(actor, word_id)
        await self._words_changed(broadcast_id, entry)
        return {"removed": word_id}

    async def _words_changed(self, broadcast_id: int, entry: AuditEntry) -> None:
        await self.reload_words()
        with contextlib.suppress(Exception):  # other processes also reload on a timer
            await self.hub.broker.publish(
                CONTROL_CHANNEL, json.dumps({"proc": self.hub.process_id, "what": "words"}).encode()
            )
        self._to_all_moderators(await self._words_frame())
        self._emit_action(broadcast_id, entry.action, [entry])

    async def _appeal_decide(
        self, actor: Identity, broadcast_id: int, body: Body
    ) -> dict[str, Any]:
        appeal_id = _int(body, "appeal_id")
        found = await self.store.appeal(appeal_id)
        if found is None or found.broadcast_id != broadcast_id:
            raise ModerationError("not_found", "appeal_id", f"no appeal {appeal_id}")
        outcome = body.get("outcome")
        if outcome not in ("reinstate", "uphold"):
            raise ModerationError("bad_field", "outcome", "`outcome` must be reinstate or uphold")
        note = mask_personal_data(_short_text(body, "note", NOTE_MAX, required=False)).text
        appeal, change = await self.store.decide_appeal(
            actor, appeal_id, outcome == "reinstate", note
        )
        if change.changed:
            items = [c.wire() for c in change.changed]
            self.hub.broadcast_frame(
                broadcast_id,
                {"type": "comments", "items": items, "restored": True},
                change.changed,
                True,
            )
        self._emit_action(
            broadcast_id, "appeal_decide", change.entries, change.changed, appeal=appeal.public()
        )
        self._emit(
            broadcast_id,
            author_key=appeal.author_key,
            author={"event": "appeal_decided", "id": appeal.comment_id, "appeal": appeal.public()},
        )
        return {"appeal": appeal.public()}

    # -- what viewers do ---------------------------------------------------------------
    async def report(
        self,
        reporter: Identity,
        comment_id: int,
        reason: object,
        reason_text: object,
        *,
        address: str = "",
        session_age: float | None = None,
    ) -> dict[str, Any]:
        """A viewer reports a comment (신고). Enough weight of reporters that are not one
        person (`livechat.moderation.reporting`) hides it for review. Reports from one `address` and
        one network block are capped per hour, however many identities they bring."""
        comment = await self.store.comment(comment_id)
        if comment is None:
            raise ModerationError("not_found", "comment_id", f"no comment {comment_id}")
        if comment.status != CommentStatus.VISIBLE:
            raise ModerationError(
                "conflict", "comment_id", "this comment is already under review or removed"
            )
        if comment.author_key == reporter.key:
            raise ModerationError("bad_field", "comment_id", "you cannot report your own comment")
        try:
            why, text = parse_reason(reason, reason_text)
        except ReasonError as exc:
            raise ModerationError("bad_field", exc.field, exc.message) from None
        await self._take_report(reporter, address)
        text = mask_personal_data(text).text  # read by moderators, kept in the record
        threshold = self.config.report_hide_threshold
        hide_at = threshold if threshold > 0 and comment.role not in STAFF else None
        weight = report_weight(
            session_age,
            await self.store.has_commented(comment.broadcast_id, reporter.key),
            reporter.is_staff,
        )
        try:
            count, change = await self.store.report(
                comment,
                reporter.key,
                why,
                text,
                hide_at,
                network=network_block(address) if address else "",
                weight=weight,
            )
        except Conflict as exc:
            raise ModerationError("conflict", exc.field, exc.message) from None
        bid = comment.broadcast_id
        if change.changed:
            self.hub.broadcast_frame(
                bid, {"type": "deleted", "ids": [comment.id], "reason": "reported"}, change.changed
            )
            held = change.changed[0]
            self._emit(
                bid, {"event": "held", "item": mod_item(held, cause=Reason.REPORTS, reports=count)}
            )
            self._emit_action(bid, "auto_hide", change.entries, change.changed)
            self._emit(
                bid,
                author_key=comment.author_key,
                author={"event": "held", "id": comment.id, "client_id": comment.client_id},
            )
        else:
            self._emit(bid, {"event": "reported", "comment_id": comment.id, "reports": count})
        return {"reported": comment.id, "hidden": bool(change.changed)}

    async def _take_report(self, reporter: Identity, address: str) -> None:
        """One report from `address` and its network block (shared buckets, else local)."""
        if not address or reporter.is_staff:
            return
        caps = (self.config.reports_per_address, self.config.reports_per_network)
        keys = [f"report:a:{address_key(address)}", f"report:n:{network_block(address)}"]
        waits = await self.hub.broker.take(
            [Bucket(k, cap, cap / 3600) for k, cap in zip(keys, caps, strict=True)]
        )
        if waits is None:
            now = time.monotonic()
            waits = [lim.peek(k, now) for lim, k in zip(self._report_limits, keys, strict=True)]
            if not any(waits):
                for lim, k in zip(self._report_limits, keys, strict=True):
                    lim.check(k, now)
        if any(waits):
            retry = max(1, round(max(waits)))
            raise ModerationError(
                "rate_limited", None, f"too many reports from your network; try again in {retry} s"
            )

    async def appeal(self, author: Identity, comment_id: int, raw_text: object) -> dict[str, Any]:
        """The author of a removed comment appeals, once, with a short text."""
        comment = await self.store.comment(comment_id)
        if comment is None or comment.author_key != author.key:
            raise ModerationError("not_found", "comment_id", f"no comment {comment_id} of yours")
        masked = mask_personal_data(
            _short_text({"text": raw_text}, "text", APPEAL_MAX, required=True)
        )
        text = masked.text
        try:
            appeal, entry = await self.store.add_appeal(comment, author, text)
        except Conflict as exc:
            raise ModerationError("conflict", exc.field, exc.message) from None
        self._emit(
            comment.broadcast_id,
            {
                "event": "appeal",
                "appeal": appeal.public(),
                "item": mod_item(comment),
                "removal": await self._removal_public(comment.id),
            },
        )
        self._emit_action(comment.broadcast_id, "appeal", [entry])
        if masked.changed:
            return {"appeal": appeal.public(), "notice": self.notices.masked(masked.kinds)}
        return {"appeal": appeal.public()}

    async def _removal_public(self, comment_id: int) -> dict[str, Any] | None:
        removal = await self.store.removal(comment_id)
        if removal is None:
            return None
        return {
            "reason": removal.reason,
            "reason_text": removal.reason_text,
            "removed_at": removal.removed_at,
        }

    async def status_for_author(self, author: Identity, comment_id: int) -> dict[str, Any]:
        """What happened to one's own comment: status, removal reason, appeal."""
        comment = await self.store.comment(comment_id)
        if comment is None or comment.author_key != author.key:
            raise ModerationError("not_found", "comment_id", f"no comment {comment_id} of yours")
        appeal = await self.store.appeal_for(comment_id)
        return {
            "id": comment.id,
            "broadcast_id": comment.broadcast_id,
            "text": comment.text,
            "status": comment.status,
            "removal": await self._removal_public(comment_id),
            "appeal": appeal.public() if appeal else None,
            "can_appeal": comment.status == CommentStatus.REMOVED and appeal is None,
        }


__all__ = [
    "MODERATORS",
    "TIMEOUT_MINUTES",
    "ModerationConfig",
    "ModerationError",
    "Moderator",
    "mod_item",
    "seoul_time",
]
