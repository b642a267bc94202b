"""Retry with full-jitter backoff under a deadline, and a per-provider circuit breaker.

Retryability is decided by class names and status codes so that google.api_core, grpc, requests
and httpx never need importing here (cold start): an exception from them is already imported
by whoever raised it.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from typing import Literal, TypeVar

from genmedia.config import get_settings
from genmedia.errors import GenMediaError, ProviderError, ProviderUnavailable
from genmedia.logging import get_logger

T = TypeVar("T")
BreakerState = Literal["closed", "open", "half_open"]

_log = get_logger("genmedia.resilience")
_RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
_RETRYABLE_NAMES: dict[str, frozenset[str]] = {
    "google.api_core.exceptions": frozenset(
        {"TooManyRequests", "ResourceExhausted", "InternalServerError", "BadGateway"}
        | {"ServiceUnavailable", "GatewayTimeout", "DeadlineExceeded", "Aborted"}
    ),
    "google.auth.exceptions": frozenset({"TransportError"}),
    "requests.exceptions": frozenset({"ConnectionError", "Timeout", "ChunkedEncodingError"}),
    "urllib3.exceptions": frozenset({"TimeoutError", "ProtocolError"}),
    "httpx": frozenset({"TimeoutException", "NetworkError", "RemoteProtocolError"}),
}
_RETRYABLE_CLASSES = frozenset(
    (module, name) for module, names in _RETRYABLE_NAMES.items() for name in names
)
_RETRYABLE_GRPC_CODES = frozenset(
    {"UNAVAILABLE", "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED", "ABORTED", "INTERNAL"}
)


def _class_keys(exc: BaseException) -> set[tuple[str, str]]:
    # httpx defines its classes in private modules but exports them from the package root.
    keys = set()
    for cls in type(exc).__mro__:
        module = cls.__module__
        keys.add((module, cls.__qualname__))
        keys.add((module.split(".", 1)[0], cls.__qualname__))
    return keys


def _status_of(exc: BaseException) -> int | None:
    """An HTTP status carried by the exception or its response, if any."""
    for attr in ("status_code", "code", "status"):
        value = getattr(exc, attr, None)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    response = getattr(exc, "response", None)
    value = getattr(response, "status_code", None)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def _grpc_code_name(exc: BaseException) -> str | None:
    if not any(key == ("grpc", "RpcError") for key in _class_keys(exc)):
        return None
    code = getattr(exc, "code", None)
    try:
        value = code() if callable(code) else code
    except Exception:  # noqa: BLE001 - a half-built RpcError must not break error handling
        return None
    name = getattr(value, "name", None)
    return name if isinstance(name, str) else None


def is_retryable(exc: BaseException) -> bool:
    """Whether trying the same call again can reasonably succeed."""
    if isinstance(exc, ProviderError):
        return exc.retryable
    if isinstance(exc, GenMediaError):
        return False
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    if _class_keys(exc) & _RETRYABLE_CLASSES:
        return True
    grpc_code = _grpc_code_name(exc)
    if grpc_code is not None:
        return grpc_code in _RETRYABLE_GRPC_CODES
    return _status_of(exc) in _RETRYABLE_STATUS


def _retry_after_hint(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (``retry_after`` attribute or Retry-After header)."""
    hint: object = getattr(exc, "retry_after", None)
    if hint is None:
        headers = getattr(getattr(exc, "response", None), "headers", None)
        getter = getattr(headers, "get", None)
        hint = getter("Retry-After") if callable(getter) else None
    try:
        seconds = float(hint)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def retry_call(
    fn: Callable[[], T],
    *,
    deadline_s: float | None = None,
    max_attempts: int | None = None,
    is_retryable: Callable[[BaseException], bool] = is_retryable,
    base_delay_s: float = 0.2,
    max_delay_s: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rand: Callable[[], float] = random.random,
    op: str = "call",
) -> T:
    """Call ``fn`` until it succeeds, retrying retryable errors with full-jitter backoff.

    Never sleeps past ``deadline_s`` (measured from the first call): when the next wait would
    end after it, or attempts run out, the last error is re-raised unchanged. ``deadline_s`` and
    ``max_attempts`` default to GENMEDIA_RETRY_DEADLINE_SECONDS / GENMEDIA_RETRY_MAX_ATTEMPTS.
    """
    if deadline_s is None or max_attempts is None:
        settings = get_settings()
        deadline_s = settings.retry_deadline_seconds if deadline_s is None else deadline_s
        max_attempts = settings.retry_max_attempts if max_attempts is None else max_attempts
    deadline = clock() + deadline_s
    attempt = 0
    while True:
        try:
            return fn()
        except Exception as exc:
            attempt += 1
            if attempt >= max_attempts or not is_retryable(exc):
                raise
            delay = rand() * min(max_delay_s, base_delay_s * 2 ** (attempt - 1))
            hint = _retry_after_hint(exc)
            if hint is not None:
                delay = max(delay, hint)
            if clock() + delay >= deadline:
                _log_retry("giving up: deadline", op, attempt, delay, exc)
                raise
            _log_retry("retrying", op, attempt, delay, exc)
            sleep(delay)


def _log_retry(outcome: str, op: str, attempt: int, delay: float, exc: BaseException) -> None:
    # Class and status only: provider error texts can echo prompts, URLs or credentials.
    error_class = f"{type(exc).__module__}.{type(exc).__qualname__}"
    fields = {
        "op": op,
        "attempt": attempt,
        "delay_s": round(delay, 3),
        "error_class": error_class,
        "error_status": _status_of(exc) or _grpc_code_name(exc),
    }
    _log.warning(
        "%s %s after attempt %d (%s)",
        op,
        outcome,
        attempt,
        error_class,
        extra={"json_fields": fields},
    )


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
        clock: Callable[[], float] = time.monotonic,
        is_failure: Callable[[BaseException], bool] = is_breaker_failure,
    ) -> None:
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_timeout_s = reset_timeout_s
        self._clock = clock
        self._is_failure = is_failure
        self._lock = threading.Lock()
        self._state: BreakerState = "closed"
        self._failures = 0
        self._open_until = 0.0
        self._trial_in_flight = False

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
            }

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` through the breaker; raises ProviderUnavailable at once while open."""
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
            raise self._rejection(now)

    def _rejection(self, now: float) -> ProviderUnavailable:
        retry_after = max(1, math.ceil(self._open_until - now))
        return ProviderUnavailable(
            "The generation provider is temporarily unavailable; retry later.",
            headers={"Retry-After": str(retry_after)},
        )

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


_breakers: dict[str, CircuitBreaker] = {}
_breakers_lock = threading.Lock()


def get_breaker(name: str) -> CircuitBreaker:
    """The instance-wide breaker for provider ``name``, created from settings on first use."""
    with _breakers_lock:
        breaker = _breakers.get(name)
        if breaker is None:
            settings = get_settings()
            breaker = CircuitBreaker(
                name, settings.breaker_failure_threshold, settings.breaker_reset_seconds
            )
            _breakers[name] = breaker
        return breaker


def breaker_states() -> dict[str, dict[str, object]]:
    with _breakers_lock:
        breakers = list(_breakers.values())
    return {b.name: b.snapshot() for b in breakers}


def reset_breakers() -> None:
    """Forget every breaker (tests, or after settings change)."""
    with _breakers_lock:
        _breakers.clear()
