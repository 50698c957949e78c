"""The question track on top of the comment hub: ask, vote, answer, change status.

Asking is posting: `CommentHub.post(..., question=True)` stores a comment flagged
`question`; the question store's insert hook writes the question's row in the comment's own
transaction, and this service's stored-hook announces it before viewers are woken. Every
later change (votes, status, answers) is committed first and then sent to every viewer of
the broadcast on every process as one server frame:

    {"type": "question", "event": "asked" | "votes" | "status" | "answered",
     "question": {...}}

`question.version` grows with each change, so a page that receives two updates out of order
keeps the newer. A live answer is also a chat comment (flags `answer`, `reply_to` the
question id), so a replay shows it at the moment it was given.

WebSocket commands (`vote`, `unvote`, `answer`, `set_question_status`) check roles on the
server; a refused command earns an `error` frame naming the command and the question.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from livechat import protocol
from livechat.access import AccessStore
from livechat.access import check_vote as check_vote_access
from livechat.comment import Comment, CommentFlag, CommentStatus
from livechat.hub import CommentHub, PostResult, Viewer
from livechat.identity import Identity
from livechat.network import address_key, network_block
from livechat.personal_data import mask_for_publishing
from livechat.questions.question_store import QuestionStore
from livechat.questions.questions import (
    STATUSES,
    VOTE_BURST,
    VOTES_PER_ADDRESS,
    VOTES_PER_MINUTE,
    VOTES_PER_NETWORK,
    Question,
    check_department,
    check_vote,
    clean_answer,
    clean_department,
    clean_note,
    require_answerer,
)
from livechat.ratelimit import Bucket, RateLimiter, retry_after
from livechat.text import CommentRejected, validate_comment

log = logging.getLogger("livechat.questions")

COMMANDS = ("vote", "unvote", "answer", "set_question_status")


@dataclass(frozen=True)
class VoteResult:
    question: Question
    changed: bool
    voted: bool


@dataclass(frozen=True)
class AnswerResult:
    question: Question
    comment_id: int | None  # the chat comment of a live answer


def question_frame(event: str, question: Question) -> dict[str, Any]:
    return {"type": "question", "event": event, "question": question.public()}


def _question_id(raw: object) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 < raw < 2**62:
        raise CommentRejected("bad_field", "`question_id` must be a positive integer")
    return raw


def mask_confirmed(body: Mapping[str, object]) -> bool:
    """`mask_personal_data: true` in a request: publish the text masked (see `answer`)."""
    value = body.get("mask_personal_data", False)
    if not isinstance(value, bool):
        raise CommentRejected(
            "bad_field", "`mask_personal_data` must be true or false", field="mask_personal_data"
        )
    return value


class QuestionService:
    """Owns the question rules' I/O: the store, the hub's frames and its commands."""

    def __init__(
        self,
        hub: CommentHub,
        store: QuestionStore,
        *,
        vote_burst: int = VOTE_BURST,
        votes_per_minute: float = VOTES_PER_MINUTE,
        votes_per_address: int = VOTES_PER_ADDRESS,
        votes_per_network: int = VOTES_PER_NETWORK,
        on_answered: Callable[[Question], None] | None = None,
    ) -> None:
        self.hub = hub
        # told of every answer after it is committed (web queues a push reminder; never awaits)
        self._on_answered = on_answered
        self.store = store
        self._vote_bucket = (float(vote_burst), votes_per_minute / 60)
        # Per question: at most n votes a day from one address and from one network block,
        # however many identities (cookies) it brings.
        self._origin_caps = (votes_per_address, votes_per_network)
        self._vote_limits = RateLimiter(vote_burst, votes_per_minute)  # without shared buckets
        self._origin_limits = (
            RateLimiter(votes_per_address, votes_per_address / 1440),
            RateLimiter(votes_per_network, votes_per_network / 1440),
        )
        # Per-broadcast "votes need an account" (set by the app factory when it has one).
        self.access: AccessStore | None = None
        # Pins a live answer through moderation (its audit log, like every pin): set by
        # the app factory to `Moderator.pin`; without it (no moderation), nothing is pinned.
        self.pinner: Callable[[Identity, int, Comment], Awaitable[object]] | None = None

    async def start(self) -> None:
        """Plug into the hub; a question's row is written in its comment's transaction."""
        self.hub.store.add_flag_hook(CommentFlag.QUESTION, self.store.record_in)
        self.hub.register(self)

    async def stop(self) -> None:
        """Unplug (its commands become unknown message types again)."""
        self.hub.unregister(self)
        self.hub.store.remove_flag_hook(CommentFlag.QUESTION, self.store.record_in)

    @property
    def message_types(self) -> tuple[str, ...]:
        return COMMANDS

    def publish(self, event: str, question: Question) -> None:
        self.hub.broadcast_frame(question.broadcast_id, question_frame(event, question))

    # -- ask ---------------------------------------------------------------------------
    async def comment_stored(self, comment: Comment) -> None:
        """A new comment is committed (with its question row, if it is a question)."""
        if CommentFlag.QUESTION in comment.flag_set and comment.status == CommentStatus.VISIBLE:
            question = await self.store.get(comment.id)
            if question is not None:
                self.publish("asked", question)

    async def ask(
        self, broadcast_id: int, author: Identity, client_id: str, text: object, address: str = ""
    ) -> PostResult:
        """Post `text` as a question (the hub's whole path: validation, limits, policies)."""
        return await self.hub.post(
            broadcast_id, author, client_id, text, address=address, question=True
        )

    async def _visible(self, broadcast_id: int | None, question_id: int) -> Question:
        question = await self.store.get(question_id)
        if (
            question is None
            or question.comment_status != CommentStatus.VISIBLE
            or (broadcast_id is not None and question.broadcast_id != broadcast_id)
        ):
            raise CommentRejected("not_found", f"no question {question_id}")
        return question

    # -- votes -------------------------------------------------------------------------
    async def vote(
        self,
        broadcast_id: int | None,
        question_id: int,
        voter: Identity,
        up: bool = True,
        address: str = "",
    ) -> VoteResult:
        """One vote per identity and question; `up=False` withdraws it. Idempotent.

        A vote also counts against its `address` and network block for this question
        (`votes_per_address`, `votes_per_network` a day), so throw-away cookies from one
        place cannot pile votes onto a question (their own included)."""
        question = await self._visible(broadcast_id, question_id)
        if up:
            check_vote(voter.key, question.asker_key)
            if self.access is not None:
                check_vote_access(await self.access.get(question.broadcast_id), voter)
        capacity, rate = self._vote_bucket
        buckets = [Bucket(f"vote:{voter.key}", capacity, rate)]
        origins = []
        if up and address and not voter.is_staff:
            origins = [
                f"vq:{question_id}:a:{address_key(address)}",
                f"vq:{question_id}:n:{network_block(address)}",
            ]
            buckets += [
                Bucket(key, cap, cap / 86400)
                for key, cap in zip(origins, self._origin_caps, strict=True)
            ]
        waits = await self.hub.broker.take(buckets)
        if waits is None:
            waits = self._take_locally(voter.key, origins, time.monotonic())
        if waits[0]:
            wait = waits[0]
            raise CommentRejected(
                "rate_limited",
                f"too many votes; try again in {max(1, round(wait))} s",
                retry_after=retry_after(wait),
            )
        if any(waits[1:]):
            raise CommentRejected(
                "vote_limit",
                "this question already has as many votes as we count from your network; thank you",
                retry_after=retry_after(max(waits[1:])),
            )
        changed, after = await self.store.vote(question_id, voter.key, up)
        if changed:
            self.publish("votes", after)
        return VoteResult(after, changed, up)

    def _take_locally(self, voter_key: str, origins: list[str], now: float) -> list[float]:
        """`Broker.take`'s answer from this process's buckets (same order, all or none)."""
        limiters = self._origin_limits[: len(origins)]
        waits = [
            self._vote_limits.peek(voter_key, now),
            *(lim.peek(key, now) for lim, key in zip(limiters, origins, strict=True)),
        ]
        if not any(waits):
            self._vote_limits.check(voter_key, now)
            for lim, key in zip(limiters, origins, strict=True):
                lim.check(key, now)
        return waits

    # -- answers and statuses ----------------------------------------------------------
    async def answer(
        self,
        broadcast_id: int | None,
        question_id: int,
        official: Identity,
        raw_text: object,
        *,
        live: bool = True,
        client_id: str | None = None,
        pin: bool = False,
        mask_confirmed: bool = False,
    ) -> AnswerResult:
        """Answer in the chat (`live`: a comment flagged `answer`) or in writing. Text with
        personal data is refused (`personal_data`, with the masked text) unless
        `mask_confirmed`, then published masked."""
        require_answerer(official.role)
        if live:
            text = validate_comment(raw_text, self.hub.limits.max_chars)
            if client_id is None:
                client_id = f"answer-{question_id}-{uuid.uuid4().hex[:12]}"
            elif not protocol.CLIENT_ID.fullmatch(client_id):
                raise CommentRejected("bad_field", "`client_id`: 1–64 of A–Z a–z 0–9 _ . : -")
        else:
            text = clean_answer(raw_text)
        text = mask_for_publishing(text, mask_confirmed)
        question = await self._visible(broadcast_id, question_id)
        after, comment_id = await self.store.answer(
            question_id, question.broadcast_id, official, text, client_id if live else None
        )
        if comment_id is not None:
            self.hub.comment_stored(question.broadcast_id)
            if pin:
                await self._pin(official, question.broadcast_id, comment_id)
        if comment_id is not None or not live:
            self.publish("answered", after)
            if self._on_answered is not None:
                self._on_answered(after)
        return AnswerResult(after, comment_id)

    async def _pin(self, official: Identity, broadcast_id: int, comment_id: int) -> None:
        """Pin the answer's comment through moderation: audited, published like any pin."""
        pinned = await self.hub.store.get(comment_id)
        if self.pinner is None:
            log.warning("answer %s not pinned: no moderation to pin through", comment_id)
        elif pinned is not None:
            await self.pinner(official, broadcast_id, pinned)

    async def set_status(
        self,
        broadcast_id: int | None,
        question_id: int,
        official: Identity,
        status: object,
        note: object = "",
        department: object = "",
        mask_confirmed: bool = False,
    ) -> Question:
        """Move a question along (forwarded, will_reflect, …) with a short public note
        (personal data in it: as for `answer`)."""
        require_answerer(official.role)
        if not isinstance(status, str) or status not in STATUSES:
            raise CommentRejected(
                "bad_status", f"status must be one of {', '.join(STATUSES)}", field="status"
            )
        try:
            clean = mask_for_publishing(clean_note(note), mask_confirmed)
        except CommentRejected as exc:
            exc.extra["field"] = "note"
            raise
        dept = clean_department(department)
        question = await self._visible(broadcast_id, question_id)
        check_department(status, dept or question.department)
        after = await self.store.set_status(question_id, official, status, clean, dept)
        self.publish("status", after)
        return after

    # -- WebSocket commands ------------------------------------------------------------
    async def run_command(
        self, broadcast_id: int, viewer: Viewer, command: protocol.Command
    ) -> None:
        body = command.body
        kind = str(body.get("type"))
        raw_id = body.get("question_id")
        try:
            identity = viewer.identity
            if identity is None:
                raise CommentRejected("no_session", "pick a nickname or log in first")
            question_id = _question_id(raw_id)
            done: dict[str, Any] = {
                "type": "question_done",
                "command": kind,
                "question_id": question_id,
            }
            if kind in ("vote", "unvote"):
                result = await self.vote(
                    broadcast_id, question_id, identity, kind == "vote", address=viewer.address
                )
                done.update(voted=result.voted, votes=result.question.votes)
            elif kind == "answer":
                mode = body.get("mode", "live")
                if mode not in ("live", "written"):
                    raise CommentRejected("bad_field", "`mode` must be live or written")
                client_id = body.get("client_id")
                if client_id is not None and not isinstance(client_id, str):
                    raise CommentRejected("bad_field", "`client_id` must be a string")
                pin = body.get("pin", False)
                if not isinstance(pin, bool):
                    raise CommentRejected("bad_field", "`pin` must be true or false")
                answered = await self.answer(
                    broadcast_id,
                    question_id,
                    identity,
                    body.get("text"),
                    live=mode == "live",
                    client_id=client_id,
                    pin=pin,
                    mask_confirmed=mask_confirmed(body),
                )
                done.update(status=answered.question.status, comment_id=answered.comment_id)
            else:
                after = await self.set_status(
                    broadcast_id,
                    question_id,
                    identity,
                    body.get("status"),
                    body.get("note", ""),
                    body.get("department", ""),
                    mask_confirmed=mask_confirmed(body),
                )
                done.update(status=after.status)
        except CommentRejected as exc:
            extra = {"command": kind, **exc.extra}
            if isinstance(raw_id, int) and not isinstance(raw_id, bool):
                extra["question_id"] = raw_id
            viewer.offer_direct(protocol.error_frame(exc.code, exc.message, None, **extra))
            return
        viewer.offer_direct(protocol.encode(done))
