"""Stored records -> the public API shapes (JSON-ready dicts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from genmedia.formats import money, rfc3339
from genmedia.quotas import Limits, periods, reset_times
from genmedia.store.records import AssetRecord, UsageRecord


def asset_view(asset: AssetRecord) -> dict[str, Any]:
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


def usage_view(usage: UsageRecord, limits: Limits, now: datetime) -> dict[str, Any]:
    """The caller's view of their usage in the current periods."""
    current = usage.current(*periods(now))
    day_reset, month_reset = reset_times(now)
    return {
        "images": {
            "used": current.images,
            "limit": limits.images_per_day,
            "reset_time": rfc3339(day_reset),
        },
        "videos": {
            "used": current.videos,
            "limit": limits.videos_per_month,
            "reset_time": rfc3339(month_reset),
        },
        "cost_this_month": money(current.cost_micros),
    }
