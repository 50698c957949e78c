from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from livechat.ratelimit import RateLimiter, TokenBucket, retry_after


def test_burst_then_wait() -> None:
    """A bucket allows its burst at once, then says how long to wait."""
    bucket = TokenBucket.full(3, 1.0, now=0.0)
    assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(0.0) == 1.0
    assert bucket.take(1.0) == 0.0


@given(st.lists(st.floats(min_value=0, max_value=5, allow_nan=False), max_size=100))
@settings(max_examples=200)
def test_never_more_than_capacity_plus_refill(gaps: list[float]) -> None:
    """Over any sequence of attempts, successes ≤ capacity + rate × elapsed time."""
    bucket = TokenBucket.full(5, 2.0, now=0.0)
    now, allowed = 0.0, 0
    for gap in gaps:
        now += gap
        if bucket.take(now) == 0.0:
            allowed += 1
    assert allowed <= 5 + 2.0 * now + 1e-9


def test_limiter_keys_are_independent_and_pruned() -> None:
    """One identity's flood does not limit another; idle buckets are forgotten."""
    limiter = RateLimiter(capacity=1, per_minute=60)
    assert limiter.check("a", 0.0) == 0.0
    assert limiter.check("a", 0.0) > 0
    assert limiter.check("b", 0.0) == 0.0
    limiter.prune(100.0)
    assert len(limiter) == 0


def test_retry_after_is_never_early() -> None:
    """The wait told to clients is rounded up to a tenth: waiting it, a client is never
    refused again for being 50 ms early."""
    assert retry_after(2.94) == 3.0
    assert retry_after(2.95) == 3.0
    assert retry_after(3.0) == 3.0
    assert retry_after(0.01) == 0.1
    for wait in (0.05, 1.23, 2.9999, 59.91):
        assert retry_after(wait) >= wait
