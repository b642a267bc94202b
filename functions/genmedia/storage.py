"""Cloud Storage: create-only uploads and V4 signed GET URLs.

Objects live at ``users/{uid}/assets/{asset_id}/{variant}.{ext}`` and never change once written
(``if_generation_match=0``), so a retried upload can never overwrite, and browsers may cache
them for good. URLs are signed with IAM signBlob as the function's own service account in
production (no key files); the emulator stack signs with a local key instead.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from genmedia.clients import storage_client
from genmedia.config import get_settings
from genmedia.errors import Internal

if TYPE_CHECKING:
    import google.cloud.storage as gcs

CACHE_CONTROL = "private, max-age=31536000, immutable"


@dataclass(frozen=True)
class SignedUrl:
    url: str
    expire_time: datetime


def object_path(uid: str, asset_id: str, variant: str, ext: str) -> str:
    return f"users/{uid}/assets/{asset_id}/{variant}.{ext}"


def _bucket() -> gcs.Bucket:
    return storage_client().bucket(get_settings().media_bucket)


def upload_create_only(path: str, data: bytes, content_type: str) -> None:
    """Upload once; the library verifies the CRC32C and retries safely."""
    from google.api_core import exceptions

    blob = _bucket().blob(path)
    blob.cache_control = CACHE_CONTROL
    try:
        blob.upload_from_string(
            data, content_type=content_type, if_generation_match=0, checksum="crc32c"
        )
    except exceptions.PreconditionFailed:
        # Already there: our own earlier attempt succeeded unless the bytes differ.
        existing = _bucket().get_blob(path)
        if existing is None or existing.md5_hash != _md5(data):
            raise Internal("Object already exists with different content") from None


def _md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()


def delete_quietly(paths: list[str]) -> None:
    """Best-effort cleanup after a failed generation; lifecycle rules catch what this misses."""
    from google.api_core import exceptions

    bucket = _bucket()
    for path in paths:
        try:
            bucket.blob(path).delete()
        except exceptions.GoogleAPICallError:
            continue


@functools.cache
def _local_signing_credentials(key_file: str) -> Any:
    from google.oauth2 import service_account

    return service_account.Credentials.from_service_account_file(key_file)  # type: ignore[no-untyped-call]


def _signing_kwargs() -> dict[str, Any]:
    settings = get_settings()
    if settings.storage_emulator_host:
        if not settings.local_signing_key_file:
            raise Internal("GENMEDIA_LOCAL_SIGNING_KEY_FILE is needed to sign URLs in the emulator")
        return {
            "credentials": _local_signing_credentials(settings.local_signing_key_file),
            "api_access_endpoint": settings.storage_emulator_host,
        }
    credentials = _runtime_credentials()
    email = settings.signing_service_account or credentials.service_account_email
    return {"service_account_email": email, "access_token": credentials.token}


def _runtime_credentials() -> Any:
    """The function's own identity; signBlob runs as it (roles/iam.serviceAccountTokenCreator)."""
    import google.auth
    import google.auth.transport.requests

    credentials = _default_credentials()
    if not credentials.valid:
        credentials.refresh(google.auth.transport.requests.Request())
    return credentials


@functools.cache
def _default_credentials() -> Any:
    import google.auth

    credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
    return credentials


def sign_get_url(
    path: str, ttl: timedelta, *, filename: str | None = None, now: datetime | None = None
) -> SignedUrl:
    """A V4 signed GET URL valid for ``ttl``; ``filename`` makes browsers download it."""
    now = now or datetime.now(UTC)
    params = {}
    if filename is not None:
        params["response_disposition"] = f'attachment; filename="{filename}"'
    url = (
        _bucket()
        .blob(path)
        .generate_signed_url(
            version="v4", expiration=ttl, method="GET", **params, **_signing_kwargs()
        )
    )
    return SignedUrl(url, now + ttl)
