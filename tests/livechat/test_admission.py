from __future__ import annotations

import pytest

from livechat.admission import BACKLOG_HORIZON, Admission, Backlog


def test_connection_cap() -> None:
    """Beyond the cap a connection is told to wait; a release makes room again."""
    admission = Admission(max_connections=2, rate_per_second=1000, burst=1000)
    assert admission.admit(1, 0.0) == 0
    assert admission.admit(1, 0.0) == 0
    assert admission.admit(1, 0.0) > 0 and admission.saturated
    admission.release()
    assert admission.admit(1, 0.0) == 0


def test_admission_rate_per_broadcast() -> None:
    """A burst is admitted, then connections are spread at the rate; other broadcasts are
    not affected."""
    admission = Admission(max_connections=10_000, rate_per_second=10, burst=3)
    assert [admission.admit(1, 0.0) for _ in range(3)] == [0, 0, 0]
    assert admission.admit(1, 0.0) == 0.1  # its turn: the next token
    assert admission.admit(2, 0.0) == 0
    assert admission.admit(1, 0.1) == 0


def test_refused_clients_are_given_turns_spread_at_the_rate() -> None:
    """Each client the rate refuses is told a later turn, one interval of the rate after
    the one refused before it: the refused come back evenly over the time the bucket
    needs to admit them all, not all at once."""
    admission = Admission(max_connections=100_000, rate_per_second=100, burst=10)
    assert [admission.admit(1, 0.0) for _ in range(10)] == [0] * 10
    turns = [admission.admit(1, 0.0) for _ in range(500)]
    assert turns[0] == 0.1 and turns[-1] == 5.0  # 500 clients at 100 a second
    assert turns == sorted(turns)
    # Every tenth of a second of the span holds ten turns (rounded up to a tenth).
    assert {turns.count(t) for t in turns} == {10}
    # Coming back at its turn, the first finds its token; another broadcast has its own.
    assert admission.admit(1, 0.01) == 0
    assert admission.admit(2, 0.0) == 0


def test_backlog_drains_at_the_rate() -> None:
    """The turns given drain at the rate: a client refused once the earlier ones' turns
    have passed waits only for the bucket."""
    backlog = Backlog(rate=10.0)
    assert [backlog.turn(0.0, 0.05) for _ in range(3)] == pytest.approx([0.05, 0.15, 0.25])
    assert backlog.turn(0.2, 0.05) == pytest.approx(0.15)  # one of three still waits
    assert backlog.turn(10.0, 0.05) == pytest.approx(0.05)
    assert Backlog(rate=10.0, waiting=5000).turn(0.0, 0.1) == BACKLOG_HORIZON
    assert Backlog(rate=0.0).turn(0.0, 1.0) == BACKLOG_HORIZON
