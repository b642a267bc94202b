"""The circuit breaker and the instance's registry of breakers, on a fake clock."""

from __future__ import annotations

import threading

import pytest

from genmedia.breaker import Breakers, CircuitBreaker
from genmedia.errors import ContentBlocked, ProviderError, ProviderUnavailable
from tests.fakes.clock import FakeClock

# --- circuit breaker --------------------------------------------------------------------------


def retryable() -> ProviderError:
    return ProviderError("upstream 503", retryable=True, status=503)


def failing() -> str:
    raise retryable()


def trip(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        with pytest.raises(ProviderError):
            breaker.call(failing)


def test_breaker_opens_after_consecutive_failures_and_rejects_before_calling() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("imagen", failure_threshold=3, reset_timeout_s=30, clock=clock)
    trip(breaker, 2)
    assert breaker.call(lambda: "ok") == "ok"  # success resets the streak
    trip(breaker, 2)
    assert breaker.state == "closed"
    trip(breaker, 1)
    assert breaker.state == "open"
    called: list[int] = []
    clock.mono += 10.2
    with pytest.raises(ProviderUnavailable) as info:
        breaker.call(lambda: called.append(1))
    assert called == [] and breaker.snapshot()["rejected_calls"] == 1
    assert info.value.status == 503 and info.value.code == "PROVIDER_UNAVAILABLE"
    assert info.value.retry_after == 20  # ceil(19.8)
    snap = breaker.snapshot()
    assert snap["state"] == "open" and snap["consecutive_failures"] == 3
    assert snap["open_remaining_s"] == pytest.approx(19.8)


def test_retry_after_is_at_least_one() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("p", failure_threshold=1, reset_timeout_s=30, clock=clock)
    trip(breaker, 1)
    clock.mono += 29.9999
    with pytest.raises(ProviderUnavailable) as info:
        breaker.call(lambda: "x")
    assert info.value.retry_after == 1


def test_half_open_success_closes() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("p", failure_threshold=2, reset_timeout_s=5, clock=clock)
    trip(breaker, 2)
    clock.mono += 5
    assert breaker.state == "half_open"
    assert breaker.call(lambda: "trial") == "trial"
    assert breaker.state == "closed"
    assert breaker.snapshot() == {
        "state": "closed",
        "consecutive_failures": 0,
        "open_remaining_s": 0.0,
        "rejected_calls": 0,
    }


def test_half_open_failure_reopens_with_fresh_timeout() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("p", failure_threshold=2, reset_timeout_s=5, clock=clock)
    trip(breaker, 2)
    clock.mono += 7
    trip(breaker, 1)
    assert breaker.state == "open"
    assert breaker.snapshot()["open_remaining_s"] == pytest.approx(5.0)
    clock.mono += 4.9
    assert breaker.state == "open"
    clock.mono += 0.1
    assert breaker.state == "half_open"


def test_client_errors_do_not_trip_and_reset_streak() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("p", failure_threshold=2, reset_timeout_s=5, clock=clock)
    for _ in range(5):
        with pytest.raises(ContentBlocked):
            breaker.call(lambda: (_ for _ in ()).throw(ContentBlocked("no")))
    assert breaker.state == "closed"
    trip(breaker, 1)
    with pytest.raises(ValueError):
        breaker.call(lambda: (_ for _ in ()).throw(ValueError("bug")))
    trip(breaker, 1)
    assert breaker.state == "closed"


def test_non_retryable_provider_error_still_counts() -> None:
    breaker = CircuitBreaker("p", failure_threshold=1, reset_timeout_s=5, clock=FakeClock())
    with pytest.raises(ProviderError):
        breaker.call(lambda: (_ for _ in ()).throw(ProviderError("5xx", retryable=False)))
    assert breaker.state == "open"


def test_custom_failure_predicate() -> None:
    breaker = CircuitBreaker(
        "p", 1, 5, clock=FakeClock(), is_failure=lambda e: isinstance(e, KeyError)
    )
    with pytest.raises(ProviderError):
        breaker.call(failing)
    assert breaker.state == "closed"
    with pytest.raises(KeyError):
        breaker.call(lambda: {}["x"])
    assert breaker.state == "open"


def test_exactly_one_trial_in_half_open_under_threads() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("p", failure_threshold=1, reset_timeout_s=1, clock=clock)
    trip(breaker, 1)
    clock.mono += 1
    entered = threading.Event()
    release = threading.Event()
    inside: list[int] = []
    rejected: list[int] = []
    results: list[str] = []

    def trial() -> str:
        inside.append(1)
        entered.set()
        release.wait(5)
        return "done"

    def worker() -> None:
        try:
            results.append(breaker.call(trial))
        except ProviderUnavailable:
            rejected.append(1)

    first = threading.Thread(target=worker)
    first.start()
    assert entered.wait(5)
    others = [threading.Thread(target=worker) for _ in range(16)]
    for t in others:
        t.start()
    for t in others:
        t.join(5)
    release.set()
    first.join(5)
    assert len(inside) == 1 and results == ["done"] and len(rejected) == 16
    assert breaker.state == "closed"


def test_trial_interrupted_by_base_exception_releases_slot() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("p", failure_threshold=1, reset_timeout_s=1, clock=clock)
    trip(breaker, 1)
    clock.mono += 1

    def interrupted() -> str:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        breaker.call(interrupted)
    assert breaker.call(lambda: "next trial") == "next trial"


def test_a_breaker_may_refuse_with_its_own_error() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(
        "db", 1, 4.5, clock=clock, rejection=lambda seconds: TimeoutError(f"wait {seconds}")
    )
    trip(breaker, 1)
    with pytest.raises(TimeoutError, match="wait 5"):
        breaker.call(lambda: "x")


def test_an_error_after_the_call_returned_counts_only_if_it_is_a_failure() -> None:
    breaker = CircuitBreaker("p", failure_threshold=2, reset_timeout_s=5, clock=FakeClock())
    breaker.record_error(ContentBlocked("an answer, not a fault"))
    breaker.record_error(retryable())
    assert breaker.state == "closed"
    breaker.record_error(retryable())
    assert breaker.state == "open"


def test_registry_gives_one_breaker_per_provider_and_reports_states() -> None:
    clock = FakeClock()
    breakers = Breakers(2, 12.0, clock)
    breaker = breakers.get("vertex")
    assert breakers.get("vertex") is breaker
    assert (breaker.failure_threshold, breaker.reset_timeout_s) == (2, 12.0)
    trip(breaker, 2)
    clock.advance(2)
    states = breakers.states()
    assert states["vertex"]["state"] == "open"
    assert states["vertex"]["open_remaining_s"] == 10.0


def test_registry_reports_a_breaker_built_elsewhere() -> None:
    clock = FakeClock()
    breakers = Breakers(5, 30.0, clock)
    own = breakers.add(CircuitBreaker("firestore", 1, 1.0, clock))
    assert breakers.get("firestore") is own
    trip(own, 1)
    assert breakers.states()["firestore"]["state"] == "open"
