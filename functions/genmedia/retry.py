"""Retry with full-jitter backoff under a deadline, and what counts as retryable.

Retryability is decided by class names and status codes so that google.api_core, grpc, requests
and httpx never need importing here (cold start): an exception from them is already imported
by whoever raised it.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from typing import TypeVar

from genmedia.errors import GenMediaError, ProviderError
from genmedia.logging import get_logger

T = TypeVar("T")

_log = get_logger("genmedia.retry")
_RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
_RETRYABLE_NAMES: dict[str, frozenset[str]] = {
    "google.api_core.exceptions": frozenset(
        {"TooManyRequests", "ResourceExhausted", "InternalServerError", "BadGateway"}
        | {"ServiceUnavailable", "GatewayTimeout", "DeadlineExceeded", "Aborted"}
        # The server cut the call (e.g. Firestore shutting down: "Stream removed").
        | {"Cancelled"}
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
    {"UNAVAILABLE", "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED", "ABORTED", "INTERNAL", "CANCELLED"}
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
    deadline_s: float,
    max_attempts: int,
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
    end after it, or attempts run out, the last error is re-raised unchanged.
    """
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
