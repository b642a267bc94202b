"""V4 signed GET URLs, reused within a time window.

Production signs with IAM signBlob as the function's own service account (no key files); the
emulator stack signs with a local key. The same requester, object, TTL and download name get
the same URL for a window of at most half the TTL, so browsers cache the image and signBlob is
not called again, while a URL is never handed out with less than half of its TTL left. The
cache is a bounded LRU per instance.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from genmedia.config import get_settings
from genmedia.errors import Internal
from genmedia.storage import media_bucket


@dataclass(frozen=True)
class SignedUrl:
    url: str
    expire_time: datetime


@functools.cache
def _local_signing_credentials(key_file: str) -> Any:
    from google.oauth2 import service_account

    return service_account.Credentials.from_service_account_file(key_file)  # type: ignore[no-untyped-call]


@functools.cache
def _default_credentials() -> Any:
    import google.auth

    credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
    return credentials


_refresh_lock = threading.Lock()


def _signing_kwargs() -> dict[str, Any]:
    settings = get_settings()
    if settings.storage_emulator_host:
        if not settings.local_signing_key_file:
            raise Internal("GENMEDIA_LOCAL_SIGNING_KEY_FILE is needed to sign URLs in the emulator")
        return {
            "credentials": _local_signing_credentials(settings.local_signing_key_file),
            "api_access_endpoint": settings.storage_emulator_host,
        }
    import google.auth.transport.requests

    credentials = _default_credentials()
    with _refresh_lock:  # one token refresh at a time; signBlob runs as this identity
        if not credentials.valid:
            credentials.refresh(google.auth.transport.requests.Request())
    email = settings.signing_service_account or credentials.service_account_email
    return {"service_account_email": email, "access_token": credentials.token}


def _sign(path: str, ttl: timedelta, filename: str | None) -> SignedUrl:
    now = datetime.now(UTC)
    extra = {"response_disposition": f'attachment; filename="{filename}"'} if filename else {}
    blob = media_bucket().blob(path)
    url = blob.generate_signed_url(
        version="v4", expiration=ttl, method="GET", **extra, **_signing_kwargs()
    )
    return SignedUrl(url, now + ttl)


def _window(ttl_seconds: int) -> int:
    return max(1, min(ttl_seconds // 2, get_settings().signed_url_reuse_seconds))


@functools.cache
def _cached_signer() -> Any:
    @functools.lru_cache(maxsize=get_settings().signed_url_cache_size)
    def signed(
        requester: str, path: str, ttl_seconds: int, filename: str | None, window_index: int
    ) -> SignedUrl:
        return _sign(path, timedelta(seconds=ttl_seconds), filename)

    return signed


def sign_get_url(
    path: str, ttl_seconds: int, *, requester: str, filename: str | None = None
) -> SignedUrl:
    """A signed GET URL for ``path``; ``filename`` makes browsers download it under that name."""
    window = _window(ttl_seconds)
    index = int(datetime.now(UTC).timestamp()) // window
    result: SignedUrl = _cached_signer()(requester, path, ttl_seconds, filename, index)
    return result


def stats() -> dict[str, int]:
    """Signing calls and cache hits of this instance (for /statusz and the benchmarks)."""
    info = _cached_signer().cache_info()
    return {"sign_calls": info.misses, "cache_hits": info.hits, "cache_size": info.currsize}
