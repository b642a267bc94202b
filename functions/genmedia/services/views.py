"""Stored records -> public API shapes."""

from __future__ import annotations

from typing import Any

from genmedia.quotas import money, rfc3339
from genmedia.store.records import Asset


def asset_view(asset: Asset) -> dict[str, Any]:
    """The public asset (URLs come from issue_signed_url)."""
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
    return view
