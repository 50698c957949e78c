"""One comment connection's protocol state, sans I/O: messages in, actions out.

`Session` is fed what the client sent (`receive`) and the outcome of each action it
asked for (`rechecked`, `posted`, `rejected`); it answers with a list of actions for the
transport edge (`web.live.socket`) to carry out in order. It never touches a socket, the
database or an event loop — like websockets' `Protocol` — so the whole conversation
(ping → pong, resume, post → ack, staff re-check, command dispatch, bad frames) is
tested with plain synchronous calls (`tests/livechat/test_session.py`).

The edge's contract, for each action in order:

- `SendFrame(frame)`: queue the encoded frame for this viewer only (`Viewer.offer_direct`).
- `ResumeFrom(after)`: `CommentHub.resume` from that id.
- `Recheck(message)`: ask whether the session the socket opened with is still valid and
  feed the answer to `Session.rechecked`, then carry out what that returns.
- `EndSignIn()`: the identity is gone; the viewer is a guest from now on.
- `PostComment(post, author)`: `CommentHub.post`; feed the result to `Session.posted`
  or the `CommentRejected` to `Session.rejected`.
- `RunCommand(command)`: `CommentHub.handle_command` (moderation, questions).
- `Close(code, reason)`: close the connection.
"""

from __future__ import annotations

from dataclasses import dataclass

from livechat import protocol
from livechat.comment import CommentStatus
from livechat.identity import STAFF, Identity
from livechat.stats import Refused
from livechat.text import CommentRejected

CLOSE_BUSY = 1013  # "try again later"


@dataclass(frozen=True)
class SendFrame:
    frame: str


@dataclass(frozen=True)
class ResumeFrom:
    after: int


@dataclass(frozen=True)
class Recheck:
    message: protocol.Post | protocol.Command


@dataclass(frozen=True)
class EndSignIn:
    pass


@dataclass(frozen=True)
class PostComment:
    post: protocol.Post
    author: Identity


@dataclass(frozen=True)
class RunCommand:
    command: protocol.Command


@dataclass(frozen=True)
class Close:
    code: int
    reason: str


Action = SendFrame | ResumeFrom | Recheck | EndSignIn | PostComment | RunCommand | Close


@dataclass(frozen=True)
class Refusal:
    """Admission said no: the stats counter to bump and what to tell the client."""

    counter: Refused
    actions: tuple[Action, ...]


def refusal(retry: float, saturated: bool, address_full: bool) -> Refusal:
    """What a connection refused by admission control hears before it is closed (1013)."""
    counter: Refused
    if saturated:
        counter, code, why = "connection_cap_refused", "busy", "busy"
    elif address_full:
        counter, code, why = (
            "address_cap_refused",
            "too_many_connections",
            "too many connections from your address",
        )
    else:
        counter, code, why = "admission_refused", "busy", "busy"
    return Refusal(
        counter,
        (
            SendFrame(
                protocol.error_frame(code, f"{why}: retry in {retry:g} s", retry_after=retry)
            ),
            Close(CLOSE_BUSY, f"{why}; retry in {retry:g} s"),
        ),
    )


class Session:
    """The state of one comment connection: who it speaks for, what it may send."""

    __slots__ = ("identity", "max_message_bytes", "message_types")

    def __init__(
        self,
        identity: Identity | None,
        max_message_bytes: int,
        message_types: frozenset[str] = frozenset(),
    ) -> None:
        self.identity = identity
        self.max_message_bytes = max_message_bytes
        # Client message types other than post/resume/ping this hub handles (commands).
        self.message_types = message_types

    @property
    def _signed_in(self) -> bool:
        """Staff and members hold a session that can end (logout, disabled, deleted); a
        guest's nickname cannot."""
        who = self.identity
        return who is not None and (who.role in STAFF or who.is_member)

    def receive(self, raw: str | bytes) -> list[Action]:
        """One client message. A message that cannot be handled earns an `error` frame;
        the connection survives."""
        try:
            decoded = protocol.decode(raw, self.max_message_bytes, self.message_types)
        except protocol.ProtocolError as exc:
            return [SendFrame(protocol.error_frame(exc.code, exc.message, exc.client_id))]
        if isinstance(decoded, protocol.Ping):
            return [SendFrame(protocol.pong_frame())]
        if isinstance(decoded, protocol.Resume):
            return [ResumeFrom(decoded.after)]
        if self._signed_in:
            # Logged out (or disabled) since this socket opened? Staff powers end then; a
            # member who deleted their account posts nothing more under its name.
            return [Recheck(decoded)]
        return self._handle(decoded)

    def rechecked(
        self, message: protocol.Post | protocol.Command, still_signed_in: bool
    ) -> list[Action]:
        """The answer to `Recheck(message)`."""
        if not still_signed_in:
            self.identity = None
            return [
                SendFrame(
                    protocol.error_frame("no_session", "your session has ended; log in again", None)
                ),
                EndSignIn(),
            ]
        return self._handle(message)

    def _handle(self, message: protocol.Post | protocol.Command) -> list[Action]:
        if isinstance(message, protocol.Command):
            return [RunCommand(message)]
        if self.identity is None:
            return [
                SendFrame(
                    protocol.error_frame(
                        "no_session",
                        "pick a nickname (POST /api/session) before commenting",
                        message.client_id,
                    )
                )
            ]
        return [PostComment(message, self.identity)]

    def posted(
        self, post: protocol.Post, comment_id: int, status: CommentStatus, notice: str | None
    ) -> list[Action]:
        """The hub stored (or had stored) the comment of `post`: acknowledge it."""
        return [SendFrame(protocol.ack_frame(post.client_id, comment_id, status, notice))]

    def rejected(self, post: protocol.Post, exc: CommentRejected) -> list[Action]:
        """The hub refused the comment of `post`."""
        return [SendFrame(protocol.error_frame(exc.code, exc.message, post.client_id, **exc.extra))]
