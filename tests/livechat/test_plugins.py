"""Plugins are filed by the interfaces they implement and removed explicitly."""

from __future__ import annotations

import pytest

from livechat import protocol
from livechat.comment import Comment
from livechat.events import Event
from livechat.identity import Identity
from livechat.plugins import (
    CommandHandler,
    EventListener,
    Plugins,
    PostDecision,
    PostPolicy,
    RoomView,
)
from livechat.viewer import Viewer


class Gate:
    async def check_post(self, broadcast_id: int, author: Identity, client_id: str,
                         decision: PostDecision) -> None:
        pass


class Votes:
    message_types = ("vote", "unvote")

    async def run_command(self, broadcast_id: int, viewer: Viewer,
                          command: protocol.Command) -> None:
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
