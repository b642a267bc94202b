"""The asset library: list, get, soft delete (AIP-164), undelete, usage."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from genmedia import pagination, quotas, search, storage
from genmedia.auth import Principal
from genmedia.clients import firestore_client
from genmedia.config import get_settings
from genmedia.errors import AlreadyExists, NotFound
from genmedia.models import ListAssetsQuery
from genmedia.services.access import is_purged, readable, writable
from genmedia.services.views import asset_view
from genmedia.store.assets import AssetQuery, AssetRepository
from genmedia.store.records import Asset
from genmedia.store.usage import UsageRepository

DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 50, 100
ID_RE = re.compile(r"[A-Za-z0-9_-]{1,128}")


def list_assets(principal: Principal, params: ListAssetsQuery) -> dict[str, Any]:
    """One Firestore query per page; ``next_page_token`` is empty only at the end."""
    spec = AssetQuery(
        owner_uid=principal.uid,
        states=("ACTIVE", "DELETED") if params.show_deleted else ("ACTIVE",),
        type=params.type,
        term=search.query_term(params.q) if params.q is not None else None,
        descending=params.order_by.endswith("desc"),
    )
    query_fp = pagination.fingerprint(spec)
    size = min(params.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    after = _cursor(params.page_token, query_fp) if params.page_token else None
    rows = AssetRepository(firestore_client()).list_page(spec, size + 1, after)
    page, more = rows[:size], len(rows) > size
    now = datetime.now(UTC)
    token = ""
    if more:
        last = page[-1]
        token = pagination.encode(query_fp, [last.create_time.isoformat(), last.id])
    return {
        "assets": [asset_view(a) for a in page if not is_purged(a, now)],
        "next_page_token": token,
    }


def _cursor(token: str, query_fp: str) -> tuple[datetime, str]:
    """The (create_time, id) a token resumes after; anything else in a token is a 422."""
    cursor = pagination.decode(token, query_fp)
    try:
        stamp, asset_id = cursor
        after = datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        raise pagination.invalid_token() from None
    if after.tzinfo is None or not isinstance(asset_id, str) or not ID_RE.fullmatch(asset_id):
        raise pagination.invalid_token()
    return after, asset_id


def get_asset(principal: Principal, asset_id: str) -> dict[str, Any]:
    asset = AssetRepository(firestore_client()).get(asset_id)
    return asset_view(readable(asset, principal, datetime.now(UTC)))


def _moves(asset: Asset, to_trash: bool) -> list[tuple[str, str]]:
    paths = [ref.path for ref in asset.objects.values()]
    pairs = [(p, storage.trash_path(p)) for p in paths]
    return pairs if to_trash else [(b, a) for a, b in pairs]


def _transition(asset_id: str, principal: Principal, change: Any) -> Asset:
    """Read-check-write of one asset in a transaction; ``change`` returns the new asset."""
    from google.cloud import firestore

    db = firestore_client()
    repo = AssetRepository(db)

    @firestore.transactional
    def run(txn: firestore.Transaction) -> Asset:
        snap = repo.ref(asset_id).get(transaction=txn)
        current = Asset.from_doc(snap.id, snap.to_dict() or {}) if snap.exists else None
        updated: Asset = change(writable(current, principal, datetime.now(UTC)))
        txn.set(repo.ref(asset_id), updated.to_doc())
        return updated

    result: Asset = run(db.transaction())
    return result


def delete_asset(principal: Principal, asset_id: str, allow_missing: bool) -> dict[str, Any]:
    now = datetime.now(UTC)
    retention = timedelta(days=get_settings().purge_retention_days)

    def mark(asset: Asset) -> Asset:
        if asset.state == "DELETED":
            if not allow_missing:
                raise NotFound("No such asset")
            return asset  # finish an earlier delete whose object moves were interrupted
        return replace(asset, state="DELETED", delete_time=now, purge_time=now + retention,
                       update_time=now)  # fmt: skip

    deleted = _transition(asset_id, principal, mark)
    storage.move_objects(_moves(deleted, to_trash=True))
    return asset_view(deleted)


def undelete_asset(principal: Principal, asset_id: str) -> dict[str, Any]:
    repo = AssetRepository(firestore_client())
    asset = writable(repo.get(asset_id), principal, datetime.now(UTC))
    if asset.state == "ACTIVE":
        raise AlreadyExists("The asset is not deleted")
    # Objects first: the asset turns ACTIVE only once every URL it hands out will work.
    storage.move_objects(_moves(asset, to_trash=False))

    def restore(current: Asset) -> Asset:
        if current.state == "ACTIVE":
            raise AlreadyExists("The asset is not deleted")
        now = datetime.now(UTC)
        return replace(current, state="ACTIVE", delete_time=None, purge_time=None, update_time=now)

    return asset_view(_transition(asset_id, principal, restore))


def usage(principal: Principal) -> dict[str, Any]:
    stored, user = UsageRepository(firestore_client()).read_in(None, principal.uid)
    return quotas.usage_view(stored, quotas.limits_for(get_settings(), user), datetime.now(UTC))
