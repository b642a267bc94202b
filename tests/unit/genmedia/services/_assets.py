"""Stored assets for service unit tests."""

from __future__ import annotations

from datetime import datetime, timedelta

from genmedia.store.records import AssetRecord, ObjectRef
from tests.fakes.ports import Fakes


def add_asset(
    fakes: Fakes, asset_id: str, owner: str = "alice", *, age_s: int = 0, **fields: object
) -> AssetRecord:
    made: datetime = fakes.clock.now() - timedelta(seconds=age_s)
    objects = {
        "original": ObjectRef(
            f"users/{owner}/assets/{asset_id}/original.png", "image/png", 10, 4, 4
        ),
        "thumbnail": ObjectRef(
            f"users/{owner}/assets/{asset_id}/thumbnail.webp", "image/webp", 5, 2, 2
        ),
    }
    values: dict[str, object] = {
        "id": asset_id, "owner_uid": owner, "type": "image", "state": "ACTIVE",
        "prompt": f"a red kite {asset_id}", "params": {"aspect_ratio": "1:1"},
        "cost_micros": 40000, "create_time": made, "update_time": made,
        "search_terms": ["re", "red", "ki", "kit", "kite"], "objects": objects,
    }  # fmt: skip
    asset = AssetRecord(**{**values, **fields})  # type: ignore[arg-type]
    fakes.db.state.assets[asset_id] = asset
    for ref in objects.values():
        fakes.bucket.objects[ref.path] = b"bytes"
    return asset
