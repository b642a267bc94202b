"""V4 signed GET URLs, reused within a time window (only ``issue_signed_url`` signs).

Production signs with IAM signBlob as the function's own service account (no key files); the
emulator stack signs with a local key. The same requester, object, TTL and download name get
the same URL for a window of at most half the TTL, so browsers cache the image and signBlob is
not called again, while a URL is never handed out with less than half of its TTL left. The
cache is a bounded LRU per instance.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from genmedia.clock import Clock
from genmedia.errors import Internal

if TYPE_CHECKING:
    import google.cloud.storage as gcs

    from genmedia.config import Settings


@dataclass(frozen=True)
class SignedUrl:
    url: str
    expire_time: datetime


class UrlSigner:
    def __init__(self, settings: Settings, bucket: Callable[[], gcs.Bucket], clock: Clock) -> None:
        self._settings = settings
        self._bucket = bucket
        self._clock = clock
        self._credentials: Any = None
        self._lock = threading.Lock()  # one credentials load or token refresh at a time
        self._cached = functools.lru_cache(maxsize=settings.signed_url_cache_size)(self._sign)

    def sign_get_url(
        self, path: str, ttl_seconds: int, *, requester: str, filename: str | None = None
    ) -> SignedUrl:
        """A signed GET URL for ``path``; with ``filename`` browsers save it under that name."""
        window = max(1, min(ttl_seconds // 2, self._settings.signed_url_reuse_seconds))
        index = int(self._clock.now().timestamp()) // window
        result: SignedUrl = self._cached(requester, path, ttl_seconds, filename, index)
        return result

    def stats(self) -> dict[str, int]:
        """Signing calls and cache hits of this instance (for /statusz and the benchmarks)."""
        info = self._cached.cache_info()
        return {"sign_calls": info.misses, "cache_hits": info.hits, "cache_size": info.currsize}

    def _sign(
        self, requester: str, path: str, ttl_seconds: int, filename: str | None, window: int
    ) -> SignedUrl:
        now, ttl = self._clock.now(), timedelta(seconds=ttl_seconds)
        extra = {"response_disposition": f'attachment; filename="{filename}"'} if filename else {}
        url = (
            self._bucket()
            .blob(path)
            .generate_signed_url(
                version="v4", expiration=ttl, method="GET", **extra, **self._signing_kwargs()
            )
        )
        return SignedUrl(url, now + ttl)

    def _signing_kwargs(self) -> dict[str, Any]:
        settings = self._settings
        if settings.storage_emulator_host:
            return {
                "credentials": self._local_credentials(),
                "api_access_endpoint": settings.storage_emulator_host,
            }
        import google.auth
        import google.auth.transport.requests

        with self._lock:  # signBlob runs as this identity: one token refresh at a time
            if self._credentials is None:
                scopes = ["https://www.googleapis.com/auth/cloud-platform"]
                self._credentials, _ = google.auth.default(scopes=scopes)
            credentials = self._credentials
            if not credentials.valid:
                credentials.refresh(google.auth.transport.requests.Request())
        email = settings.signing_service_account or credentials.service_account_email
        return {"service_account_email": email, "access_token": credentials.token}

    def _local_credentials(self) -> Any:
        key_file = self._settings.local_signing_key_file
        if not key_file:
            raise Internal("GENMEDIA_LOCAL_SIGNING_KEY_FILE is needed to sign URLs in the emulator")
        with self._lock:
            if self._credentials is None:
                from google.oauth2 import service_account

                self._credentials = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                    key_file
                )
            return self._credentials
