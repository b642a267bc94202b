"""One exception hierarchy for the whole package.

Every error a client may see is a ``GenMediaError`` carrying its HTTP status and a stable
machine code; ``genmedia.http`` turns it into an RFC 9457 problem+json response in one place.
Anything else that escapes a handler becomes a 500 ``INTERNAL`` with no internals in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from genmedia.ratelimit import RateLimitState


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class GenMediaError(Exception):
    status: int = 500
    code: str = "INTERNAL"
    title: str = "Internal error"
    default_headers: dict[str, str] = {}

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        errors: list[FieldError] | None = None,
        extra: dict[str, object] | None = None,
        retry_after: int | None = None,
        rate_limit: RateLimitState | None = None,
    ) -> None:
        self.detail = detail or self.title
        # Protocol-level headers of the HTTP layer's own errors (Allow, WWW-Authenticate);
        # domain code says ``retry_after``/``rate_limit`` and the HTTP layer writes the headers.
        self.headers = {**self.default_headers, **(headers or {})}
        self.retry_after = retry_after
        self.rate_limit = rate_limit
        self.errors = list(errors or [])
        # Additional problem members (e.g. ``reset_time`` on quota errors).
        self.extra = dict(extra or {})
        super().__init__(self.detail)


class BadRequest(GenMediaError):
    status, code, title = 400, "INVALID_ARGUMENT", "Malformed request"


class Unauthenticated(GenMediaError):
    status, code, title = 401, "UNAUTHENTICATED", "Authentication required"
    default_headers = {"WWW-Authenticate": 'Bearer realm="genmedia"'}


class PermissionDenied(GenMediaError):
    status, code, title = 403, "PERMISSION_DENIED", "Permission denied"


class AccountErasing(GenMediaError):
    status, code, title = 403, "ACCOUNT_ERASING", "Account being erased"


class NotFound(GenMediaError):
    status, code, title = 404, "NOT_FOUND", "Not found"


class MethodNotAllowed(GenMediaError):
    status, code, title = 405, "METHOD_NOT_ALLOWED", "Method not allowed"

    def __init__(self, allow: list[str]) -> None:
        super().__init__(
            f"Allowed methods: {', '.join(allow)}", headers={"Allow": ", ".join(allow)}
        )


class AlreadyExists(GenMediaError):
    status, code, title = 409, "ALREADY_EXISTS", "Already exists"


class FailedPrecondition(GenMediaError):
    status, code, title = 409, "FAILED_PRECONDITION", "Failed precondition"


class IdempotencyInProgress(GenMediaError):
    status, code, title = 409, "IDEMPOTENCY_IN_PROGRESS", "Request with this key in progress"


class PayloadTooLarge(GenMediaError):
    status, code, title = 413, "PAYLOAD_TOO_LARGE", "Payload too large"


class UnsupportedMediaType(GenMediaError):
    status, code, title = 415, "UNSUPPORTED_MEDIA_TYPE", "Unsupported media type"


class InvalidArgument(GenMediaError):
    status, code, title = 422, "INVALID_ARGUMENT", "Invalid argument"


class ContentBlocked(GenMediaError):
    status, code, title = 422, "CONTENT_BLOCKED", "Content blocked"


class IdempotencyKeyReused(GenMediaError):
    status, code, title = 422, "IDEMPOTENCY_KEY_REUSED", "Idempotency key reused"


class QuotaExceeded(GenMediaError):
    status, code, title = 429, "QUOTA_EXCEEDED", "Quota exceeded"


class RateLimited(GenMediaError):
    status, code, title = 429, "RATE_LIMITED", "Too many requests"


class Internal(GenMediaError):
    status, code, title = 500, "INTERNAL", "Internal error"


class Unavailable(GenMediaError):
    status, code, title = 503, "UNAVAILABLE", "Service unavailable"


class ProviderUnavailable(GenMediaError):
    status, code, title = 503, "PROVIDER_UNAVAILABLE", "Generation provider unavailable"


class ProviderError(Exception):
    """A provider call failed; ``retryable`` tells retry whether trying again can help.

    Not a GenMediaError: services decide how a provider failure reaches the client
    (usually a refund and a 503 ``PROVIDER_UNAVAILABLE``).
    """

    def __init__(self, message: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status
