"""Circuit breakers: stop calling a dependency that keeps failing, probe it later.

One per image provider (``Breakers.get``) and one for Firestore (genmedia/store/circuit.py,
registered with ``Breakers.add`` so ``/readyz`` reports it too).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Literal, TypeVar

from genmedia.errors import ProviderError, ProviderUnavailable
from genmedia.logging import get_logger
from genmedia.retry import is_retryable

T = TypeVar("T")
BreakerState = Literal["closed", "open", "half_open"]

_log = get_logger("genmedia.breaker")


def is_breaker_failure(exc: BaseException) -> bool:
    """Default breaker predicate: provider faults count, client errors (ContentBlocked) do not."""
    if isinstance(exc, ProviderError):
        return True
    return isinstance(exc, Exception) and is_retryable(exc)


class CircuitBreaker:
    """Closed -> open after N consecutive failures -> half-open after a timeout (one trial).

    Exceptions that are not failures (e.g. ContentBlocked) prove the provider answered, so they
    reset the failure streak like a success; non-Exception BaseExceptions leave state alone.
    """

    def __init__(
        self,
        name: str,
        failure_threshold: int,
        reset_timeout_s: float,
        clock: Callable[[], float],
        is_failure: Callable[[BaseException], bool] = is_breaker_failure,
        rejection: Callable[[int], Exception] | None = None,
    ) -> None:
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_timeout_s = reset_timeout_s
        self._clock = clock
        self._is_failure = is_failure
        # What a refused call raises, given Retry-After seconds (a provider's 503 by default).
        self._rejection = rejection or _provider_unavailable
        self._lock = threading.Lock()
        self._state: BreakerState = "closed"
        self._failures = 0
        self._open_until = 0.0
        self._trial_in_flight = False
        self._rejected = 0

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._current_state(self._clock())

    def _current_state(self, now: float) -> BreakerState:
        if self._state == "open" and now >= self._open_until:
            return "half_open"
        return self._state

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            now = self._clock()
            state = self._current_state(now)
            remaining = max(0.0, self._open_until - now) if state == "open" else 0.0
            return {
                "state": state,
                "consecutive_failures": self._failures,
                "open_remaining_s": round(remaining, 3),
                "rejected_calls": self._rejected,  # refused without calling, since start
            }

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` through the breaker; raises the rejection at once while open."""
        is_trial = self._admit()
        try:
            result = fn()
        except Exception as exc:
            self._record(is_trial, failed=self._is_failure(exc))
            raise
        except BaseException:
            self._release(is_trial)
            raise
        self._record(is_trial, failed=False)
        return result

    def record_error(self, exc: BaseException) -> None:
        """An error from work ``call`` already let through (a stream read after its call
        returned): counted like a failed call if it is a failure, else ignored."""
        if self._is_failure(exc):
            self._record(False, failed=True)

    def _admit(self) -> bool:
        with self._lock:
            now = self._clock()
            state = self._current_state(now)
            if state == "closed":
                return False
            if state == "half_open" and not self._trial_in_flight:
                self._state = "half_open"
                self._trial_in_flight = True
                return True
            raise self._refuse(now)

    def _refuse(self, now: float) -> Exception:
        self._rejected += 1
        return self._rejection(max(1, math.ceil(self._open_until - now)))

    def _record(self, is_trial: bool, *, failed: bool) -> None:
        with self._lock:
            if is_trial:
                self._trial_in_flight = False
            elif self._state != "closed":
                return  # a late result from before the breaker opened says nothing new
            if not failed:
                self._state, self._failures = "closed", 0
                return
            self._failures += 1
            if is_trial or self._failures >= self.failure_threshold:
                self._open(self._clock())

    def _open(self, now: float) -> None:
        if self._state != "open":
            _log.warning(
                "circuit %s opened",
                self.name,
                extra={"json_fields": {"breaker": self.name, "failures": self._failures}},
            )
        self._state = "open"
        self._open_until = now + self.reset_timeout_s

    def _release(self, is_trial: bool) -> None:
        if is_trial:
            with self._lock:
                self._trial_in_flight = False


def _provider_unavailable(retry_after: int) -> ProviderUnavailable:
    return ProviderUnavailable(
        "The generation provider is temporarily unavailable; retry later.",
        retry_after=retry_after,
    )


class Breakers:
    """The instance's breakers: one per provider name, created on first use, and those
    built elsewhere and added (Firestore's)."""

    def __init__(
        self, failure_threshold: int, reset_timeout_s: float, clock: Callable[[], float]
    ) -> None:
        self._threshold = failure_threshold
        self._reset_s = reset_timeout_s
        self._clock = clock
        self._breakers: dict[str, CircuitBreaker] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> CircuitBreaker:
        with self._lock:
            breaker = self._breakers.get(name)
            if breaker is None:
                breaker = CircuitBreaker(name, self._threshold, self._reset_s, self._clock)
                self._breakers[name] = breaker
            return breaker

    def add(self, breaker: CircuitBreaker) -> CircuitBreaker:
        """Report ``breaker`` with the others (its own thresholds, its own rejection)."""
        with self._lock:
            self._breakers[breaker.name] = breaker
        return breaker

    def states(self) -> dict[str, dict[str, object]]:
        with self._lock:
            breakers = list(self._breakers.values())
        return {b.name: b.snapshot() for b in breakers}
