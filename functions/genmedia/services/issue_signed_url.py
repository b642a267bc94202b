"""URL issuance: the only use case whose service account may sign."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from genmedia.catalog import EXTENSIONS
from genmedia.errors import GenMediaError, NotFound
from genmedia.formats import rfc3339
from genmedia.principal import Principal
from genmedia.services.access import active
from genmedia.store.records import AssetRecord

if TYPE_CHECKING:
    from genmedia.bootstrap import Deps


@dataclass(frozen=True)
class SignUrl:
    asset_id: str
    variant: str = "original"
    ttl_seconds: int | None = None  # None: the configured default
    download: bool = False


def download_name(asset: AssetRecord, variant: str) -> str:
    """A header-safe file name from the prompt: ASCII letters, digits and dashes only."""
    ascii_prompt = unicodedata.normalize("NFKD", asset.prompt).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_prompt.lower()).strip("-")[:48].rstrip("-")
    ext = EXTENSIONS.get(asset.objects[variant].content_type, "bin")
    suffix = "" if variant == "original" else f"-{variant}"
    return f"{slug or 'genmedia'}-{asset.id[:8]}{suffix}.{ext}"


def _url(
    deps: Deps, asset: AssetRecord, variant: str, ttl: int, requester: str, download: bool
) -> dict[str, str]:
    ref = asset.objects.get(variant)
    if ref is None:
        raise NotFound("No such asset")
    filename = download_name(asset, variant) if download else None
    url = deps.url_signer().sign_get_url(ref.path, ttl, requester=requester, filename=filename)
    return {"url": url.url, "expire_time": rfc3339(url.expire_time)}


def sign_one(deps: Deps, principal: Principal, request: SignUrl) -> dict[str, Any]:
    asset = active(deps.database.assets.get(request.asset_id), principal, deps.clock.now())
    ttl = request.ttl_seconds or deps.settings.signed_url_ttl_seconds
    url = _url(deps, asset, request.variant, ttl, principal.uid, request.download)
    return url | {"variant": request.variant}


def sign_batch(deps: Deps, principal: Principal, ids: list[str], variant: str) -> dict[str, Any]:
    """Owned, active ids get URLs; the rest an error code. One BatchGetDocuments for all."""
    now = deps.clock.now()
    found = deps.database.assets.get_many(ids)
    ttl = deps.settings.signed_url_ttl_seconds
    urls: dict[str, dict[str, str]] = {}
    errors: dict[str, str] = {}
    for asset_id in dict.fromkeys(ids):
        try:
            asset = active(found.get(asset_id), principal, now)
            urls[asset_id] = _url(deps, asset, variant, ttl, principal.uid, download=False)
        except GenMediaError as exc:
            errors[asset_id] = exc.code
    return {"urls": urls, "errors": errors}


def statistics(deps: Deps) -> dict[str, Any]:
    """This instance's signing counters."""
    return {"signing": deps.url_signer().stats()}
