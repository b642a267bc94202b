"""The per-user token bucket (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from genmedia.ratelimit import Bucket, Decision, take

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
BUCKET = Bucket(capacity=3, refill_per_minute=6)  # one token every 10 s


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def drain(bucket: Bucket, times: list[float]) -> list[Decision]:
    """Requests at ``times`` (seconds after T0), carrying the bucket state like the usage doc."""
    tokens, last, decisions = None, None, []
    for t in times:
        decision = take(bucket, tokens, last, at(t))
        decisions.append(decision)
        tokens, last = decision.tokens, at(t)
    return decisions


@pytest.mark.parametrize(
    ("capacity", "per_minute", "window"), [(3, 6, 30), (2, 1, 120), (10, 10, 60), (1, 7, 9)]
)
def test_window_is_the_time_to_fill_an_empty_bucket(
    capacity: int, per_minute: int, window: int
) -> None:
    assert Bucket(capacity, per_minute).window_seconds == window


def test_new_user_starts_with_a_full_bucket() -> None:
    assert take(BUCKET, None, None, T0) == Decision(True, 2.0, 0)


def test_burst_is_allowed_then_refused_with_retry_after() -> None:
    decisions = drain(BUCKET, [0, 0, 0, 0])
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[-1].retry_after == 10


def test_tokens_come_back_with_time() -> None:
    decisions = drain(BUCKET, [0, 0, 0, 5, 10])
    assert [d.allowed for d in decisions] == [True, True, True, False, True]
    assert decisions[3].retry_after == 5  # half a token refilled, half to go


def test_refill_never_exceeds_capacity() -> None:
    decisions = drain(BUCKET, [0, 3600, 3600, 3600, 3600])
    assert [d.allowed for d in decisions] == [True, True, True, True, False]


def test_a_clock_going_backwards_refills_nothing() -> None:
    decision = take(BUCKET, 0.5, at(60), at(0))
    assert not decision.allowed
    assert decision.tokens == 0.5


def test_a_refused_request_keeps_the_fraction_refilled_so_far() -> None:
    refused = take(BUCKET, 0.0, T0, at(4))
    assert not refused.allowed
    assert refused.tokens == pytest.approx(0.4)
    assert refused.retry_after == 6


def test_retry_after_is_at_least_one_second() -> None:
    refused = take(Bucket(1, 6000), 0.999, T0, T0)
    assert (refused.allowed, refused.retry_after) == (False, 1)
