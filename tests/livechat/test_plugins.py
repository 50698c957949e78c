"""Plugins are filed by the interfaces they implement and removed explicitly."""

from __future__ import annotations

from pathlib import Path

import pytest

from livechat import protocol
from livechat.comment import Comment
from livechat.events import Event
from livechat.identity import Identity
from livechat.moderation import ModerationStore, Moderator
from livechat.plugins import (
    CommandHandler,
    EventListener,
    Plugins,
    PostDecision,
    PostPolicy,
    RoomView,
)
from livechat.questions import QuestionService, QuestionStore
from livechat.questions.question_service import COMMANDS
from livechat.viewer import Viewer
from tests.livechat.hubkit import open_hub
from web.moderation.author_notices import NOTICES


class Gate:
    async def check_post(
        self, broadcast_id: int, author: Identity, client_id: str, decision: PostDecision
    ) -> None:
        pass


class Votes:
    message_types = ("vote", "unvote")

    async def run_command(
        self, broadcast_id: int, viewer: Viewer, command: protocol.Command
    ) -> None:
        pass

    def room_event(self, room: RoomView, event: Event) -> None:
        pass

    async def comment_stored(self, comment: Comment) -> None:
        pass


def test_a_plugin_is_filed_under_each_interface_it_implements() -> None:
    """Commands, events and stored-listeners of one plugin; nothing else."""
    plugins, votes = Plugins(), Votes()
    assert isinstance(votes, CommandHandler) and isinstance(votes, EventListener)
    assert not isinstance(votes, PostPolicy)
    plugins.add(votes)
    assert plugins.message_types == {"vote", "unvote"}
    assert plugins.events == [votes] and plugins.stored == [votes]
    assert plugins.policies == [] and plugins.held == []


def test_first_puts_a_policy_ahead() -> None:
    """`first=True` runs that policy before those registered earlier."""
    plugins, early, gate = Plugins(), Gate(), Gate()
    plugins.add(early)
    plugins.add(gate, first=True)
    assert plugins.policies == [gate, early]


def test_unregister_forgets_everything_and_types_become_unknown() -> None:
    """After `remove` no list holds the plugin and its message types are gone."""
    plugins, votes, gate = Plugins(), Votes(), Gate()
    plugins.add(votes)
    plugins.add(gate)
    plugins.remove(votes)
    assert plugins.message_types == frozenset()
    assert plugins.events == [] and plugins.stored == [] and plugins.policies == [gate]
    with pytest.raises(protocol.ProtocolError):
        protocol.decode('{"type":"vote"}', 100, plugins.message_types)
    plugins.remove(votes)  # twice: harmless


def test_two_plugins_cannot_claim_one_message_type() -> None:
    """A second handler for `vote` is refused, and the first stays in place."""
    plugins, first = Plugins(), Votes()
    plugins.add(first)
    with pytest.raises(ValueError, match="vote"):
        plugins.add(Votes())
    assert plugins.commands["vote"] is first and plugins.events == [first]


async def test_moderation_and_questions_register_and_leave_no_trace(tmp_path: Path) -> None:
    """On a real hub: installing moderation and questions adds exactly their message types
    and interfaces; stopping them leaves the hub as it was (nothing module-global)."""
    async with open_hub(tmp_path / "p.db") as hub:
        moderator = Moderator(hub, ModerationStore(hub.store.db, hub.store), NOTICES)
        questions = QuestionService(hub, QuestionStore(hub.store.db, hub.store))
        await moderator.install()
        await questions.start()
        assert hub.message_types == {"moderate", *COMMANDS}
        assert hub.plugins.policies == [moderator] and hub.plugins.stored == [questions]
        assert hub.store.flag_hooks and hub.store.forget_hooks
        with pytest.raises(protocol.ProtocolError):  # another hub knows none of them
            protocol.decode('{"type":"moderate"}', 100, Plugins().message_types)
        await questions.stop()
        await moderator.stop()
        assert hub.message_types == frozenset()
        assert not (
            hub.plugins.policies
            or hub.plugins.stored
            or hub.plugins.held
            or hub.plugins.events
            or hub.plugins.resume
            or hub.plugins.reshown_sources
        )
        assert not (hub.store.insert_hooks or hub.store.flag_hooks or hub.store.forget_hooks)
