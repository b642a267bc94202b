"""Assets for library, signing and access tests: seeded straight into Firestore, or generated.

Seeding writes the same documents ``generate_image`` writes (``genmedia.store.records.AssetRecord``,
search terms from ``genmedia.search``) with chosen create times, so list tests can use hundreds
of assets without generating them. Tests that need real objects in the bucket (signing, delete,
undelete) generate through the API instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from google.cloud import firestore, storage

from genmedia import search
from genmedia.store.assets import new_asset_id
from genmedia.store.records import AssetRecord, ObjectRef
from tests.support.harness import Gateway, User

BASE_TIME = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
PROBLEM_SHAPE = ("type", "title", "status", "detail", "code")


# -- seeding ------------------------------------------------------------------------------------
def asset_record(
    owner_uid: str,
    create_time: datetime,
    *,
    prompt: str = "a seeded picture",
    type: str = "image",
    state: str = "ACTIVE",
    delete_time: datetime | None = None,
    purge_time: datetime | None = None,
) -> AssetRecord:
    """An asset document as ``generate_image`` stores it (its objects are not in the bucket)."""
    asset_id = new_asset_id()
    ext, content_type = ("mp4", "video/mp4") if type == "video" else ("png", "image/png")
    base = f"users/{owner_uid}/assets/{asset_id}"
    return AssetRecord(
        id=asset_id,
        owner_uid=owner_uid,
        type=type,  # type: ignore[arg-type]
        state=state,  # type: ignore[arg-type]
        prompt=prompt,
        params={"aspect_ratio": "1:1", "provider": "local"},
        cost_micros=0,
        create_time=create_time,
        update_time=create_time,
        sha256="0" * 64,
        search_terms=search.terms(prompt),
        objects={
            "original": ObjectRef(f"{base}/original.{ext}", content_type, 1000, 1024, 1024),
            "thumbnail": ObjectRef(f"{base}/thumbnail.webp", "image/webp", 100, 256, 256),
        },
        delete_time=delete_time,
        purge_time=purge_time,
    )


def deleted(asset: AssetRecord, *, purged: bool = False) -> AssetRecord:
    """``asset`` soft-deleted an hour ago with 30 days' retention; ``purged``: 31 days ago."""
    when = datetime.now(UTC) - (timedelta(days=31) if purged else timedelta(hours=1))
    when = when.replace(microsecond=when.microsecond // 1000 * 1000)  # as the API shows it
    return replace(asset, state="DELETED", delete_time=when, purge_time=when + timedelta(days=30))


def seed(db: firestore.Client, assets: Iterable[AssetRecord]) -> list[AssetRecord]:
    """Write the documents in batches (one commit per 400)."""
    assets = list(assets)
    for start in range(0, len(assets), 400):
        batch = db.batch()
        for asset in assets[start : start + 400]:
            batch.set(db.collection("assets").document(asset.id), asset.to_doc())
        batch.commit()
    return assets


def spread_times(count: int, *, ties: int = 0, start: datetime = BASE_TIME) -> list[datetime]:
    """``count`` create times a minute apart, oldest first; the last ``ties`` come in threes
    sharing one timestamp, and every 10th pair differs by a single microsecond."""
    times = []
    for i in range(count):
        if i >= count - ties:
            k = count - ties + (i - (count - ties)) // 3
            times.append(start + timedelta(minutes=k))
        elif i % 10 == 1:
            times.append(times[-1] + timedelta(microseconds=1))
        else:
            times.append(start + timedelta(minutes=i))
    return times


def listing_order(assets: Iterable[AssetRecord], *, descending: bool = True) -> list[str]:
    """Ids in the order the library lists them: create_time, then id as the tie-break."""
    ordered = sorted(assets, key=lambda a: (a.create_time, a.id), reverse=descending)
    return [a.id for a in ordered]


def expire_purge_time(db: firestore.Client, asset_id: str) -> None:
    """Simulate the retention period passing: the purge time of a deleted asset is now past."""
    past = datetime.now(UTC) - timedelta(minutes=1)
    db.collection("assets").document(asset_id).update({"purge_time": past})


# -- the API ------------------------------------------------------------------------------------
def generate(
    gateway: Gateway, user: User, prompt: str = "a lighthouse at dusk", count: int = 1
) -> list[dict[str, Any]]:
    resp = gateway.post("/v1/images:generate", user=user, json={"prompt": prompt, "count": count})
    assert resp.status_code == 200, resp.text
    assets: list[dict[str, Any]] = resp.json()["assets"]
    return assets


def sign(gateway: Gateway, user: User, asset_id: str, **body: Any) -> requests.Response:
    return gateway.post(f"/v1/assets/{asset_id}:signUrl", user=user, json=body)


def batch_sign(gateway: Gateway, user: User, ids: Sequence[str], **body: Any) -> requests.Response:
    return gateway.post("/v1/assets:batchSignUrls", user=user, json={"ids": list(ids), **body})


def download(url: str) -> requests.Response:
    return requests.get(url, timeout=30)


def sha256_at(url: str) -> str:
    resp = download(url)
    assert resp.status_code == 200, (resp.status_code, resp.text[:200])
    return hashlib.sha256(resp.content).hexdigest()


def walk(
    gateway: Gateway, user: User, *, limit: int = 1000, **params: Any
) -> list[list[dict[str, Any]]]:
    """Every page of a listing, following next_page_token until it is empty."""
    pages: list[list[dict[str, Any]]] = []
    token = ""
    while True:
        query = {k: v for k, v in params.items() if v is not None}
        if token:
            query["page_token"] = token
        resp = gateway.get("/v1/assets", user=user, params=query)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        pages.append(body["assets"])
        token = body["next_page_token"]
        if not token:
            return pages
        assert len(pages) < limit, "the listing never ends"


def ids_of(pages: Iterable[Iterable[dict[str, Any]]]) -> list[str]:
    return [asset["id"] for page in pages for asset in page]


def problem_shape(problem: requests.Response | dict[str, Any]) -> dict[str, Any]:
    """What a problem says, minus the request id (which differs per request by design)."""
    body: dict[str, Any] = problem.json() if isinstance(problem, requests.Response) else problem
    assert set(body) - {"request_id"} == set(PROBLEM_SHAPE), body
    return {k: body[k] for k in PROBLEM_SHAPE}


# -- the bucket ---------------------------------------------------------------------------------
def objects_of(bucket: storage.Bucket, uid: str) -> dict[str, str]:
    """Every object of ``uid``, live or in the trash, by name -> MD5."""
    names: dict[str, str] = {}
    for prefix in (f"users/{uid}/", f"trash/users/{uid}/"):
        names.update({b.name: b.md5_hash for b in bucket.list_blobs(prefix=prefix)})
    return names
