"""Soft delete and undelete (AIP-164), with the object moves serialised per asset.

A delete marks the asset DELETED, then moves its objects under ``trash/``; an undelete moves
them back, then marks it ACTIVE (so every URL handed out afterwards works). Each holds a short
lease on the asset document, taken and released in transactions, while it moves objects, so a
delete racing an undelete (two tabs, a retried request) runs one after the other and the
objects always end where the final state says. A request finding the lease held waits for it;
a lease left by a crashed instance expires, and the moves are safe to repeat.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from genmedia import storage
from genmedia.auth import Principal
from genmedia.clients import firestore_client
from genmedia.config import get_settings
from genmedia.errors import AlreadyExists, FailedPrecondition, NotFound
from genmedia.services.access import writable
from genmedia.services.views import asset_view
from genmedia.store.assets import AssetRepository
from genmedia.store.records import Asset

LEASE = timedelta(seconds=60)
WAIT_SECONDS = 15.0
Change = Callable[[Asset], Asset]


class _Busy(Exception):
    """Another request holds the asset's lease."""


def _busy_error() -> FailedPrecondition:
    return FailedPrecondition(
        "The asset is being changed by another request; retry", headers={"Retry-After": "1"}
    )


def _transition(asset_id: str, principal: Principal, change: Change) -> Asset:
    """Read-check-write of one asset in a Firestore transaction."""
    from google.cloud import firestore

    db = firestore_client()
    ref = AssetRepository(db).ref(asset_id)

    @firestore.transactional
    def run(txn: firestore.Transaction) -> Asset:
        snap = ref.get(transaction=txn)
        current = Asset.from_doc(snap.id, snap.to_dict() or {}) if snap.exists else None
        updated = change(writable(current, principal, datetime.now(UTC)))
        txn.set(ref, updated.to_doc())
        return updated

    result: Asset = run(db.transaction())
    return result


def _acquire(asset_id: str, principal: Principal, change: Change) -> tuple[Asset, str]:
    """Apply ``change`` and take the lease, waiting while another request holds it."""
    token = secrets.token_hex(8)

    def take(asset: Asset) -> Asset:
        now = datetime.now(UTC)
        if asset.lease_until is not None and asset.lease_until > now:
            raise _Busy
        return replace(change(asset), lease_id=token, lease_until=now + LEASE)

    deadline, delay = time.monotonic() + WAIT_SECONDS, 0.05
    while True:
        try:
            return _transition(asset_id, principal, take), token
        except _Busy:
            if time.monotonic() + delay > deadline:
                raise _busy_error() from None
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


def _release(asset_id: str, principal: Principal, token: str, change: Change) -> Asset:
    def give_back(asset: Asset) -> Asset:
        if asset.lease_id != token:  # ours expired and another request took over
            raise _busy_error()
        return replace(change(asset), lease_id=None, lease_until=None)

    return _transition(asset_id, principal, give_back)


def _moves(asset: Asset, to_trash: bool) -> list[tuple[str, str]]:
    pairs = [(ref.path, storage.trash_path(ref.path)) for ref in asset.objects.values()]
    return pairs if to_trash else [(b, a) for a, b in pairs]


def _with_lease(
    asset_id: str, principal: Principal, start: Change, to_trash: bool, finish: Change
) -> Asset:
    asset, token = _acquire(asset_id, principal, start)
    try:
        storage.move_objects(_moves(asset, to_trash))
    except BaseException:
        with contextlib.suppress(Exception):  # the lease also expires on its own
            _release(asset_id, principal, token, lambda a: a)
        raise
    return _release(asset_id, principal, token, finish)


def delete_asset(principal: Principal, asset_id: str, allow_missing: bool) -> dict[str, Any]:
    now = datetime.now(UTC)
    retention = timedelta(days=get_settings().purge_retention_days)

    def mark(asset: Asset) -> Asset:
        if asset.state == "DELETED":
            if not allow_missing:
                raise NotFound("No such asset")
            return asset  # finishes an earlier delete whose moves were interrupted
        return replace(
            asset, state="DELETED", delete_time=now, purge_time=now + retention, update_time=now
        )

    return asset_view(_with_lease(asset_id, principal, mark, True, lambda a: a))


def undelete_asset(principal: Principal, asset_id: str) -> dict[str, Any]:
    def check(asset: Asset) -> Asset:
        if asset.state == "ACTIVE":
            raise AlreadyExists("The asset is not deleted")
        return asset

    def restore(asset: Asset) -> Asset:
        now = datetime.now(UTC)
        return replace(asset, state="ACTIVE", delete_time=None, purge_time=None, update_time=now)

    return asset_view(_with_lease(asset_id, principal, check, False, restore))
