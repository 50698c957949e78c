"""How moderation, questions and access plug into the hub: typed interfaces, registered
and removed explicitly (`CommentHub.register` / `unregister`).

A plugin implements any of the interfaces below; `Plugins.add` files it under each one it
implements. The hub and its rooms call the interfaces, never a plugin's own names, and
know nothing of moderation or questions (those import the hub, never the reverse).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from livechat import protocol
from livechat.comment import Comment, CommentFlag, CommentStatus
from livechat.events import Event
from livechat.identity import Identity
from livechat.viewer import Viewer


@dataclass
class PostDecision:
    """What the policies decided for a comment about to be stored."""

    text: str
    status: CommentStatus = CommentStatus.VISIBLE
    flags: set[CommentFlag] = field(default_factory=set)
    notice: str | None = None
    origin: str = ""  # where the post comes from (`livechat.network.address_key`), or ""


class RoomView(Protocol):
    """What a plugin may see of a room."""

    broadcast_id: int

    @property
    def viewers(self) -> set[Viewer]: ...


@runtime_checkable
class PostPolicy(Protocol):
    async def check_post(
        self, broadcast_id: int, author: Identity, client_id: str, decision: PostDecision
    ) -> None:
        """Before a comment is stored: raise `CommentRejected`, or change `decision`."""


@runtime_checkable
class StoredListener(Protocol):
    async def comment_stored(self, comment: Comment) -> None:
        """A new comment is committed (before viewers are woken); errors are logged."""


@runtime_checkable
class HeldListener(Protocol):
    def comment_held(self, room: RoomView, comment: Comment) -> None:
        """A room read a comment stored `held` (not shown to viewers)."""


@runtime_checkable
class EventListener(Protocol):
    def room_event(self, room: RoomView, event: Event) -> None:
        """A room applied a broker event (from this process or another)."""


@runtime_checkable
class ResumeSupplement(Protocol):
    async def resume_frames(self, broadcast_id: int, viewer: Viewer, after: int) -> list[str]:
        """Encoded frames a viewer resuming after `after` needs before the missed comments."""


@runtime_checkable
class ReshownSource(Protocol):
    async def reshown(self, broadcast_id: int, upto: int, window: int) -> list[int]:
        """Ids among the last `window` comments up to `upto` that were put back."""


@runtime_checkable
class CommandHandler(Protocol):
    @property
    def message_types(self) -> tuple[str, ...]:
        """The client message types this plugin handles."""

    async def run_command(
        self, broadcast_id: int, viewer: Viewer, command: protocol.Command
    ) -> None:
        """Handle one client command (answer through `viewer`); may raise
        `CommentRejected`, which the hub turns into an `error` frame."""


Plugin = (
    PostPolicy
    | StoredListener
    | HeldListener
    | EventListener
    | ResumeSupplement
    | ReshownSource
    | CommandHandler
)


class Plugins:
    """The plugins of one hub, filed by interface, in registration order."""

    def __init__(self) -> None:
        self.policies: list[PostPolicy] = []
        self.stored: list[StoredListener] = []
        self.held: list[HeldListener] = []
        self.events: list[EventListener] = []
        self.resume: list[ResumeSupplement] = []
        self.reshown_sources: list[ReshownSource] = []
        self.commands: dict[str, CommandHandler] = {}
        # One frozenset shared by every connection's `Session` until the plugins change
        # (built per connection it was ~0.5 KiB each).
        self._message_types: frozenset[str] = frozenset()

    def _lists(self) -> list[tuple[type[Any], list[Any]]]:
        return [
            (PostPolicy, self.policies),
            (StoredListener, self.stored),
            (HeldListener, self.held),
            (EventListener, self.events),
            (ResumeSupplement, self.resume),
            (ReshownSource, self.reshown_sources),
        ]

    def add(self, plugin: Plugin, *, first: bool = False) -> None:
        """File `plugin` under every interface it implements (`first`: ahead of the
        others, e.g. who may comment at all before moderation's checks)."""
        if isinstance(plugin, CommandHandler):
            taken = [t for t in plugin.message_types if t in self.commands]
            if taken:
                raise ValueError(f"message types already handled: {taken}")
        for kind, found in self._lists():
            if isinstance(plugin, kind) and plugin not in found:
                found.insert(0 if first else len(found), plugin)
        if isinstance(plugin, CommandHandler):
            for name in plugin.message_types:
                self.commands[name] = plugin
            self._message_types = frozenset(self.commands)

    def remove(self, plugin: Plugin) -> None:
        """Forget `plugin` everywhere (nothing happens where it was not filed)."""
        for _, found in self._lists():
            if plugin in found:
                found.remove(plugin)
        for name in [n for n, p in self.commands.items() if p is plugin]:
            del self.commands[name]
        self._message_types = frozenset(self.commands)

    @property
    def message_types(self) -> frozenset[str]:
        return self._message_types

    async def reshown(self, broadcast_id: int, upto: int, window: int) -> set[int]:
        found: set[int] = set()
        for source in self.reshown_sources:
            found.update(await source.reshown(broadcast_id, upto, window))
        return found

    def comment_held(self, room: RoomView, comment: Comment) -> None:
        for listener in self.held:
            listener.comment_held(room, comment)

    def room_event(self, room: RoomView, event: Event) -> None:
        for listener in self.events:
            listener.room_event(room, event)
