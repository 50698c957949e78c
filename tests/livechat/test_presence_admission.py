"""One client cannot fill a process or inflate the viewer count: connections are capped
per address, and presence counts sessions (or addresses), not sockets."""

from __future__ import annotations

from livechat import Identity, Viewer
from livechat.admission import ADDRESS_RETRY, Admission
from livechat.network import address_key, network_block
from tests.livechat.hubkit import citizen, frames_until, open_hub

BROADCAST = 1


def test_address_and_network_keys() -> None:
    """IPv4 is keyed per address and /24; IPv6 per /64 for both; mapped IPv4 is IPv4."""
    assert address_key("203.0.113.7") == "203.0.113.7"
    assert network_block("203.0.113.7") == "203.0.113.0/24"
    assert address_key("2001:db8:1:2::5") == address_key("2001:db8:1:2:ffff::1")
    assert address_key("2001:db8:1:2::5") == "2001:db8:1:2::/64"
    assert address_key("::ffff:203.0.113.7") == "203.0.113.7"
    assert address_key("testclient") == network_block("testclient") == "testclient"


def test_connections_are_capped_per_address() -> None:
    """An address gets `per_address` sockets, then a retry; another address is unaffected,
    an IPv6 /64 counts as one address, and closing a socket frees a place."""
    admission = Admission(max_connections=100, rate_per_second=1000, burst=1000, per_address=3)
    assert [admission.admit(1, 0.0, "198.51.100.1") for _ in range(3)] == [0, 0, 0]
    assert admission.admit(1, 0.0, "198.51.100.1") == ADDRESS_RETRY
    assert admission.admit(1, 0.0, "198.51.100.2") == 0
    assert not admission.saturated and admission.open == 4
    admission.release("198.51.100.1")
    assert admission.admit(1, 10.0, "198.51.100.1") == 0
    for n in range(3):
        assert admission.admit(1, 0.0, f"2001:db8::{n + 1}") == 0
    assert admission.admit(1, 0.0, "2001:db8::ff") == ADDRESS_RETRY
    for n in range(3):
        admission.release(f"2001:db8::{n + 1}")
    assert "2001:db8::/64" not in admission.by_address


def test_one_address_cannot_spend_the_broadcast_admission_rate() -> None:
    """An address opening and closing sockets is slowed on its own bucket (a tenth of its
    cap a second) before it can use up the broadcast's admission rate for everyone."""
    admission = Admission(max_connections=1000, rate_per_second=10, burst=30, per_address=5)
    admitted = 0
    for _ in range(20):
        if admission.admit(1, 0.0, "203.0.113.9") == 0:
            admitted += 1
            admission.release("203.0.113.9")
    assert admitted == 5
    assert admission.admit(1, 0.0, "203.0.113.9") == 2  # one token per 2 s
    assert [admission.admit(1, 0.0, f"198.51.100.{n}") for n in range(20)] == [0] * 20
    assert admission.admit(1, 2.0, "203.0.113.9") == 0


async def test_presence_counts_sessions_not_sockets(database_url: str) -> None:
    """Five sockets of one session and one of another are two viewers; anonymous sockets
    from one address are one viewer, from another address a third; leaving updates it."""
    async with open_hub(database_url) as hub:
        watcher = Viewer(citizen(1), 100, address="198.51.100.1")
        await hub.join(BROADCAST, watcher, None)
        tabs = [Viewer(citizen(1), 100, address="198.51.100.1") for _ in range(4)]
        other = Viewer(Identity(key="g:other", name="다른"), 100, address="198.51.100.1")
        for viewer in [*tabs, other]:
            await hub.join(BROADCAST, viewer, None)
        anonymous = [Viewer(None, 100, address="203.0.113.9") for _ in range(10)]
        for viewer in anonymous:
            await hub.join(BROADCAST, viewer, None)
        await hub.join(BROADCAST, Viewer(None, 100, address="203.0.113.10"), None)
        frames = await frames_until(watcher, lambda fs: any(f["type"] == "presence" for f in fs))
        assert [f for f in frames if f["type"] == "presence"][-1]["viewers"] == 4
        room = hub.rooms[BROADCAST]
        assert len(room.viewers) == 17 and room.viewer_count() == 4
        for viewer in tabs:
            hub.leave(BROADCAST, viewer)
        hub.leave(BROADCAST, other)
        assert room.viewer_count() == 3
