"""Stored records survive to_doc/from_doc as Firestore documents (pure functions)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from genmedia.store.records import AssetRecord, ObjectRef, QuotaOverrides, UsageRecord, UserRecord

T0 = datetime(2025, 3, 7, 15, 30, tzinfo=UTC)
T1 = datetime(2025, 3, 8, 9, 0, tzinfo=UTC)
ORIGINAL = ObjectRef("users/u1/assets/a1/original.png", "image/png", 1234, 1024, 576)
THUMBNAIL = ObjectRef("users/u1/assets/a1/thumbnail.webp", "image/webp", 99, 256, 144)

PENDING = AssetRecord(
    id="a1",
    owner_uid="u1",
    type="image",
    state="PENDING",
    prompt="a kite",
    params={"aspect_ratio": "16:9", "seed": 7, "style": None, "provider": "local"},
    cost_micros=40_000,
    create_time=T0,
    update_time=T0,
    request_id="req-1",
)
ACTIVE = replace(
    PENDING,
    state="ACTIVE",
    update_time=T1,
    sha256="ab" * 32,
    objects={"original": ORIGINAL, "thumbnail": THUMBNAIL},
)
DELETED = replace(
    ACTIVE, state="DELETED", delete_time=T1, purge_time=datetime(2025, 4, 7, tzinfo=UTC)
)


@pytest.mark.parametrize("asset", [PENDING, ACTIVE, DELETED], ids=["pending", "active", "deleted"])
def test_asset_round_trip(asset: AssetRecord) -> None:
    assert AssetRecord.from_doc(asset.id, asset.to_doc()) == asset


def test_asset_doc_is_plain_data_without_its_id() -> None:
    doc = ACTIVE.to_doc()
    assert "id" not in doc
    assert doc["objects"]["original"] == {
        "path": "users/u1/assets/a1/original.png",
        "content_type": "image/png",
        "size_bytes": 1234,
        "width": 1024,
        "height": 576,
    }
    assert doc["create_time"] == T0
    assert doc["delete_time"] is None


def test_asset_from_an_older_or_newer_document() -> None:
    doc: dict[str, Any] = PENDING.to_doc()
    for optional in ("request_id", "sha256", "objects", "delete_time", "purge_time"):
        del doc[optional]
    doc["added_by_a_later_version"] = True
    assert AssetRecord.from_doc("a1", doc) == replace(PENDING, request_id="")


@pytest.mark.parametrize(
    "usage",
    [
        UsageRecord(),
        UsageRecord("2025-03-07", 3, "2025-03", 1, 120_000),
        UsageRecord("2025-03-07", 3, "2025-03", 1, 120_000, bucket_tokens=0.25, bucket_time=T0),
    ],
    ids=["empty", "counters", "with-bucket"],
)
def test_usage_round_trip(usage: UsageRecord) -> None:
    assert UsageRecord.from_doc(usage.to_doc()) == usage


def test_usage_of_a_missing_document_is_empty_and_unknown_fields_are_ignored() -> None:
    assert UsageRecord.from_doc(None) == UsageRecord()
    assert UsageRecord.from_doc({"images": 2, "legacy_counter": 9}) == UsageRecord(images=2)


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (None, UserRecord("u1")),
        ({}, UserRecord("u1")),
        (
            # As the admin function writes it (merge of role, update_time and quota).
            {"role": "viewer", "update_time": T0, "quota": {"images_per_day": 0}},
            UserRecord("u1", "viewer", QuotaOverrides(images_per_day=0)),
        ),
        (
            {"role": "user", "quota": {"images_per_day": 500, "videos_per_month": 5}},
            UserRecord("u1", "user", QuotaOverrides(500, 5)),
        ),
        ({"role": "admin", "quota": None}, UserRecord("u1", "admin")),
        ({"quota": {"images_per_day": None}}, UserRecord("u1")),  # a removed override
    ],
)
def test_user_record_from_doc(doc: dict[str, Any] | None, expected: UserRecord) -> None:
    assert UserRecord.from_doc("u1", doc) == expected
