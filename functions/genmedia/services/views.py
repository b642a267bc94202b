"""Stored records -> public API shapes."""

from __future__ import annotations

from typing import Any

from genmedia import signing
from genmedia.quotas import rfc3339
from genmedia.store.records import Asset


def money(micros: int) -> dict[str, str]:
    return {"currency": "USD", "amount": f"{micros / 1e6:.6f}"}


def signed(
    path: str, ttl_seconds: int, requester: str, filename: str | None = None
) -> dict[str, str]:
    url = signing.sign_get_url(path, ttl_seconds, requester=requester, filename=filename)
    return {"url": url.url, "expire_time": rfc3339(url.expire_time)}


def asset_view(
    asset: Asset, *, url_ttl_seconds: int | None = None, requester: str = ""
) -> dict[str, Any]:
    """The public asset; with ``url_ttl_seconds`` it carries signed URLs for each variant."""
    original = asset.objects.get("original")
    thumb = asset.objects.get("thumbnail")
    params = asset.params
    view: dict[str, Any] = {
        "id": asset.id,
        "type": asset.type,
        "state": asset.state,
        "prompt": asset.prompt,
        "negative_prompt": params.get("negative_prompt"),
        "aspect_ratio": params.get("aspect_ratio"),
        "seed": params.get("seed"),
        "style": params.get("style"),
        "model": params.get("model"),
        "width": original.width if original else 0,
        "height": original.height if original else 0,
        "content_type": original.content_type if original else "",
        "size_bytes": original.size_bytes if original else 0,
        "sha256": asset.sha256 or "",
        "cost": money(asset.cost_micros),
        "create_time": rfc3339(asset.create_time),
        "update_time": rfc3339(asset.update_time),
    }
    if thumb is not None:
        view["thumbnail"] = {
            "width": thumb.width,
            "height": thumb.height,
            "content_type": thumb.content_type,
            "size_bytes": thumb.size_bytes,
        }
    if asset.delete_time is not None:
        view["delete_time"] = rfc3339(asset.delete_time)
    if asset.purge_time is not None:
        view["purge_time"] = rfc3339(asset.purge_time)
    if url_ttl_seconds is not None and original is not None and thumb is not None:
        view["urls"] = {
            "original": signed(original.path, url_ttl_seconds, requester),
            "thumbnail": signed(thumb.path, url_ttl_seconds, requester),
        }
    return view
