"""URL issuance: the only use case whose service account may sign."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Any

from genmedia import signing
from genmedia.auth import Principal
from genmedia.clients import firestore_client
from genmedia.config import get_settings
from genmedia.errors import GenMediaError, NotFound
from genmedia.models import BatchSignUrlsRequest, SignUrlRequest
from genmedia.quotas import rfc3339
from genmedia.services.access import active
from genmedia.store.assets import AssetRepository
from genmedia.store.records import Asset

_EXTENSIONS = {"image/png": "png", "image/webp": "webp", "video/mp4": "mp4"}


def download_name(asset: Asset, variant: str) -> str:
    """A header-safe file name from the prompt: ASCII letters, digits and dashes only."""
    ascii_prompt = unicodedata.normalize("NFKD", asset.prompt).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_prompt.lower()).strip("-")[:48].rstrip("-")
    ext = _EXTENSIONS.get(asset.objects[variant].content_type, "bin")
    suffix = "" if variant == "original" else f"-{variant}"
    return f"{slug or 'genmedia'}-{asset.id[:8]}{suffix}.{ext}"


def signed(path: str, ttl_seconds: int, requester: str, filename: str | None) -> dict[str, str]:
    url = signing.sign_get_url(path, ttl_seconds, requester=requester, filename=filename)
    return {"url": url.url, "expire_time": rfc3339(url.expire_time)}


def _url(asset: Asset, variant: str, ttl: int, requester: str, download: bool) -> dict[str, str]:
    ref = asset.objects.get(variant)
    if ref is None:
        raise NotFound("No such asset")
    filename = download_name(asset, variant) if download else None
    return signed(ref.path, ttl, requester, filename)


def sign_one(principal: Principal, asset_id: str, body: SignUrlRequest) -> dict[str, Any]:
    now = datetime.now(UTC)
    asset = active(AssetRepository(firestore_client()).get(asset_id), principal, now)
    ttl = body.ttl_seconds or get_settings().signed_url_ttl_seconds
    return _url(asset, body.variant, ttl, principal.uid, body.download) | {"variant": body.variant}


def sign_batch(principal: Principal, body: BatchSignUrlsRequest) -> dict[str, Any]:
    """Owned, active ids get URLs; the rest an error code. One BatchGetDocuments for all."""
    now = datetime.now(UTC)
    found = AssetRepository(firestore_client()).get_many(body.ids)
    ttl = get_settings().signed_url_ttl_seconds
    urls: dict[str, dict[str, str]] = {}
    errors: dict[str, str] = {}
    for asset_id in dict.fromkeys(body.ids):
        try:
            asset = active(found.get(asset_id), principal, now)
            urls[asset_id] = _url(asset, body.variant, ttl, principal.uid, download=False)
        except GenMediaError as exc:
            errors[asset_id] = exc.code
    return {"urls": urls, "errors": errors}
