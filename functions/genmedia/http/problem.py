"""RFC 9457 problem details: every failure leaves as ``application/problem+json``.

Exceptions are mapped in one place: GenMediaError keeps its status and code, a pydantic
ValidationError is a 422, werkzeug's HTTP errors keep their status (never Flask's HTML page),
a dependency that stayed unreachable (a Google client out of retries, a transient error) is a
503 to retry, and anything else is a 500 whose body says nothing about the cause.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from genmedia import errors
from genmedia.http.models import invalid_argument
from genmedia.retry import is_retryable

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://genmedia.dev/problems/"
_CORE_MEMBERS = frozenset({"type", "title", "status", "detail", "code", "request_id", "errors"})

_BY_STATUS: dict[int, type[errors.GenMediaError]] = {
    400: errors.BadRequest,
    401: errors.Unauthenticated,
    403: errors.PermissionDenied,
    404: errors.NotFound,
    409: errors.FailedPrecondition,
    413: errors.PayloadTooLarge,
    415: errors.UnsupportedMediaType,
    422: errors.InvalidArgument,
    429: errors.RateLimited,
    500: errors.Internal,
    503: errors.Unavailable,
}


def problem_type(code: str) -> str:
    return PROBLEM_TYPE_BASE + code.lower().replace("_", "-")


class _HttpProblem(errors.GenMediaError):
    """A werkzeug status we have no class for, keeping werkzeug's fixed (input-free) texts."""

    def __init__(self, exc: HTTPException, status: int) -> None:
        name = exc.name or "Error"
        self.status = status
        self.code = re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_") or "ERROR"
        self.title = name
        super().__init__(name)


def _from_http_exception(exc: HTTPException) -> errors.GenMediaError:
    status = exc.code or 500
    if status == 405:
        allow = getattr(exc, "valid_methods", None) or []
        return errors.MethodNotAllowed(list(allow))
    if status < 400:
        return errors.Internal()
    cls = _BY_STATUS.get(status)
    if cls is not None:
        return cls()
    return _HttpProblem(exc, status)


def to_genmedia_error(exc: Exception) -> tuple[errors.GenMediaError, bool]:
    """The client-facing error for ``exc`` and whether it was unexpected (log it with stack)."""
    if isinstance(exc, errors.GenMediaError):
        return exc, False
    if isinstance(exc, ValidationError):
        return invalid_argument(exc), False
    if isinstance(exc, HTTPException):
        return _from_http_exception(exc), False
    if _dependency_down(exc):
        # Logged with its stack like any surprise, but the client is told to come back.
        return errors.Unavailable(
            "A service this request needs is unavailable; retry later", retry_after=5
        ), True
    return errors.Internal(
        "An internal error occurred; quote the request id when reporting it."
    ), True


def _dependency_down(exc: Exception) -> bool:
    """A transient dependency error, or a Google client's RetryError: its retries ran out on
    one (e.g. Firestore or Cloud Storage down for longer than the client's retry deadline).
    Matched by class name so google.api_core is never imported here (cold start)."""
    retries_exhausted = any(
        cls.__name__ == "RetryError" and cls.__module__ == "google.api_core.exceptions"
        for cls in type(exc).__mro__
    )
    return retries_exhausted or is_retryable(exc)


def problem_body(err: errors.GenMediaError, request_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": problem_type(err.code),
        "title": err.title,
        "status": err.status,
        "detail": err.detail,
        "code": err.code,
        "request_id": request_id,
    }
    if err.errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in err.errors]
    # Extra members may add to the problem but never overwrite its core members.
    body.update({k: v for k, v in err.extra.items() if k not in _CORE_MEMBERS})
    return body
