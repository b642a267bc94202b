"""Firestore's circuit breaker: once an instance has seen Firestore fail, its requests answer
503 at once for a short cool-down instead of each RPC waiting out its budget, then one RPC
probes (half-open) and a success closes it again.

Without it a generate during an outage made three RPCs that each waited the 5 s budget (~14 s
for the 503). ``store/client.py`` puts every GAPIC method of the client (reads, queries,
commits, transactions, the readiness ping) through ``guarded``, outside the library's retry,
so one failure is an RPC whose whole budget ran out, or a fail-fast call (``retry=None``)
refused. Only outage-like errors count: UNAVAILABLE, DEADLINE_EXCEEDED and a RetryError whose
last error was one of them; NOT_FOUND, ALREADY_EXISTS, ABORTED, FAILED_PRECONDITION and
INVALID_ARGUMENT are Firestore answering, so they close the streak like a success.

A refused call raises ``ServiceUnavailable``, the error an outage raises, so everything that
handles one (the library's transaction rollback, ``run_transaction``, the problem mapping to
``503 UNAVAILABLE`` with Retry-After) handles it unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from genmedia.breaker import CircuitBreaker

NAME = "firestore"


def firestore_breaker(
    failure_threshold: int, reset_timeout_s: float, clock: Callable[[], float]
) -> CircuitBreaker:
    """The instance's Firestore breaker (one per client; the composition root builds it)."""
    return CircuitBreaker(
        NAME, failure_threshold, reset_timeout_s, clock, is_failure=is_outage, rejection=_refused
    )


def is_outage(exc: BaseException) -> bool:
    """Firestore unreachable or not answering in time, as opposed to answering an error."""
    from google.api_core import exceptions

    if isinstance(exc, exceptions.RetryError):
        return exc.cause is not None and is_outage(exc.cause)
    return isinstance(exc, exceptions.ServiceUnavailable | exceptions.DeadlineExceeded)


def _refused(retry_after: int) -> Exception:
    from google.api_core import exceptions

    message = f"Firestore is failing; not called for {retry_after} s (circuit open)"
    return exceptions.ServiceUnavailable(message)  # type: ignore[no-untyped-call]


def guarded(method: Any, breaker: CircuitBreaker | None) -> Any:
    """``method`` (a wrapped GAPIC method: retry and timeout included) through ``breaker``."""
    return method if breaker is None else _Guarded(method, breaker)


class _Guarded:
    def __init__(self, method: Any, breaker: CircuitBreaker) -> None:
        self._method = method
        self._breaker = breaker

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        result = self._breaker.call(lambda: self._method(*args, **kwargs))
        if isinstance(result, Iterator):
            # A server stream (RunQuery, BatchGetDocuments): the call returns once its first
            # response came (api_core prefetches it), so a later cut surfaces while reading.
            return _Stream(result, self._breaker)
        return result

    def __getattr__(self, name: str) -> Any:
        # The wrapped method's own attributes (``_retry``, ``_timeout``) stay readable.
        return getattr(self._method, name)


class _Stream:
    """A response stream whose outage while being read counts as a failed call."""

    def __init__(self, responses: Iterator[Any], breaker: CircuitBreaker) -> None:
        self._responses = responses
        self._breaker = breaker

    def __iter__(self) -> _Stream:
        return self

    def __next__(self) -> Any:
        try:
            return next(self._responses)
        except StopIteration:
            raise
        except Exception as exc:
            self._breaker.record_error(exc)
            raise

    def __getattr__(self, name: str) -> Any:
        # The call's own methods (cancel, trailing_metadata, ...).
        return getattr(self._responses, name)
