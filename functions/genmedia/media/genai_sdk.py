"""What the Vertex providers (Imagen, Veo) share about the Google Gen AI SDK: the failures a
call can raise and how each maps to our errors, and credentials for a local fake.

Imported only by the providers, which import the SDK itself on first use.
"""

from __future__ import annotations

import json

from genmedia.errors import ContentBlocked, ProviderError

# Sent to a Vertex fake on a loopback base_url when no credentials are given.
LOOPBACK_TOKEN = "loopback"  # noqa: S105 - not a secret: only ever sent to 127.0.0.1
# Vertex reports a prompt refused before generation as a 400 whose message cites Google's
# Responsible AI practices or usage guidelines; that is a content decision, not a bad request.
POLICY_MARKERS = ("responsible ai", "usage guidelines", "sensitive words", "violate")
RETRYABLE_STATUSES = frozenset({408, 429})
MESSAGE_LIMIT = 200


def summary(message: str) -> str:
    """One line of a provider's message, bounded (it may quote the request)."""
    return " ".join(message.split())[:MESSAGE_LIMIT]


def loopback_credentials(base_url: str | None) -> object | None:
    """A static bearer token for a fake Vertex on this machine, so local runs need no ADC.

    Only loopback hosts qualify: any real endpoint keeps Application Default Credentials.
    """
    if base_url is None:
        return None
    from urllib.parse import urlsplit

    if urlsplit(base_url).hostname not in ("127.0.0.1", "localhost", "::1"):
        return None
    from google.oauth2.credentials import Credentials

    return Credentials(token=LOOPBACK_TOKEN)  # type: ignore[no-untyped-call]


def sdk_failures() -> tuple[type[BaseException], ...]:
    """Exception types an SDK call can raise that ``map_failure`` understands."""
    import google.auth.exceptions
    import pydantic
    from google.genai import errors

    failures: list[type[BaseException]] = [
        errors.APIError,
        errors.UnknownApiResponseError,
        json.JSONDecodeError,
        pydantic.ValidationError,
        google.auth.exceptions.GoogleAuthError,
    ]
    failures.extend(_http_request_errors())
    return tuple(failures)


def _http_request_errors() -> list[type[BaseException]]:
    # The SDK talks through httpx2 when installed, else httpx: map both.
    found: list[type[BaseException]] = []
    try:
        import httpx

        found.append(httpx.RequestError)
    except ImportError:
        pass
    try:
        import httpx2

        found.append(httpx2.RequestError)
    except ImportError:
        pass
    return found


def map_failure(exc: BaseException, product: str, medium: str) -> ProviderError | ContentBlocked:
    """``exc`` (one of ``sdk_failures``) as our error; ``product`` ("Imagen", "Veo") and
    ``medium`` ("image", "video") word the messages."""
    import pydantic
    from google.genai import errors

    if isinstance(exc, errors.APIError):
        return _map_api_error(exc, product, medium)
    if isinstance(
        exc, errors.UnknownApiResponseError | json.JSONDecodeError | pydantic.ValidationError
    ):
        # Undecodable JSON or base64: a retry of the same call is unlikely to fix it.
        return ProviderError(f"{product} returned a malformed response", retryable=False)
    kind = type(exc).__name__
    if _is_transport_error(exc):
        return ProviderError(f"{product} request failed in transit ({kind})", retryable=True)
    if _is_auth_error(exc):
        retryable = bool(getattr(exc, "retryable", False))
        return ProviderError(f"{product} credentials failed ({kind})", retryable=retryable)
    return ProviderError(f"{product} request failed ({kind})", retryable=False)


def refused(message: str) -> bool:
    """Whether a provider's message says the prompt was refused under its content policy."""
    return any(marker in message.lower() for marker in POLICY_MARKERS)


def _map_api_error(exc: BaseException, product: str, medium: str) -> ProviderError | ContentBlocked:
    code = int(getattr(exc, "code", 0) or 0)
    status = getattr(exc, "status", None) or "UNKNOWN"
    message = str(getattr(exc, "message", None) or "")
    if code == 400 and refused(message):
        return ContentBlocked(f"The {medium} provider refused this prompt under its content policy")
    retryable = code in RETRYABLE_STATUSES or code >= 500
    return ProviderError(
        f"{product} returned {code} {status}: {summary(message)}", retryable=retryable, status=code
    )


def _is_transport_error(exc: BaseException) -> bool:
    # Connect/read/write failures and timeouts may clear up; a malformed URL or redirect
    # loop (other RequestErrors) will not.
    names = {cls.__name__ for cls in type(exc).__mro__}
    return "TransportError" in names and "UnsupportedProtocol" not in names


def _is_auth_error(exc: BaseException) -> bool:
    import google.auth.exceptions

    return isinstance(exc, google.auth.exceptions.GoogleAuthError)
