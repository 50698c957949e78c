from __future__ import annotations

from livechat.admission import Admission


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
    assert admission.admit(1, 0.0) == 1
    assert admission.admit(2, 0.0) == 0
    assert admission.admit(1, 0.1) == 0
