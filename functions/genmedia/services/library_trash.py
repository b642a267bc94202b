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
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from genmedia.bucket import trash_path
from genmedia.errors import AlreadyExists, FailedPrecondition, NotFound
from genmedia.principal import Principal
from genmedia.services import audit
from genmedia.services.access import writable
from genmedia.services.views import asset_view
from genmedia.store.records import AssetRecord

if TYPE_CHECKING:
    from genmedia.bootstrap import Deps

LEASE = timedelta(seconds=60)
AUDITED = {"DELETED": "asset.delete", "ACTIVE": "asset.undelete"}
WAIT_SECONDS = 15.0
Change = Callable[[AssetRecord], AssetRecord]


@dataclass(frozen=True)
class Moves:
    """A lease-held change: ``start`` under the lease, the object moves, then ``finish``."""

    start: Change
    to_trash: bool
    finish: Change


class _Busy(Exception):
    """Another request holds the asset's lease."""


def _busy_error() -> FailedPrecondition:
    return FailedPrecondition("The asset is being changed by another request; retry", retry_after=1)


def _transition(deps: Deps, asset_id: str, principal: Principal, change: Change) -> AssetRecord:
    """Read-check-write of one asset in a Firestore transaction."""
    assets = deps.database.assets

    def work(txn: Any) -> AssetRecord:
        current = writable(assets.get(asset_id, txn), principal, deps.clock.now())
        updated = change(current)
        assets.put(txn, updated)
        if updated.state != current.state:  # recorded with the change, in its transaction
            action = AUDITED[updated.state]
            audit.record(deps, txn, principal, action, ("asset", asset_id))
        return updated

    return deps.database.run_transaction(work)


def _acquire(
    deps: Deps, asset_id: str, principal: Principal, change: Change
) -> tuple[AssetRecord, str]:
    """Apply ``change`` and take the lease, waiting while another request holds it."""
    token = secrets.token_hex(8)

    def take(asset: AssetRecord) -> AssetRecord:
        now = deps.clock.now()
        if asset.lease_until is not None and asset.lease_until > now:
            raise _Busy
        return replace(change(asset), lease_id=token, lease_until=now + LEASE)

    clock = deps.clock
    deadline, delay = clock.monotonic() + WAIT_SECONDS, 0.05
    while True:
        try:
            return _transition(deps, asset_id, principal, take), token
        except _Busy:
            if clock.monotonic() + delay > deadline:
                raise _busy_error() from None
            clock.sleep(delay)
            delay = min(delay * 2, 0.5)


def _release(
    deps: Deps, asset_id: str, principal: Principal, token: str, change: Change
) -> AssetRecord:
    def give_back(asset: AssetRecord) -> AssetRecord:
        if asset.lease_id != token:  # ours expired and another request took over
            raise _busy_error()
        return replace(change(asset), lease_id=None, lease_until=None)

    return _transition(deps, asset_id, principal, give_back)


def _moves(asset: AssetRecord, to_trash: bool) -> list[tuple[str, str]]:
    pairs = [(ref.path, trash_path(ref.path)) for ref in asset.objects.values()]
    return pairs if to_trash else [(b, a) for a, b in pairs]


def _with_lease(deps: Deps, asset_id: str, principal: Principal, moves: Moves) -> AssetRecord:
    asset, token = _acquire(deps, asset_id, principal, moves.start)
    try:
        deps.bucket.move_objects(_moves(asset, moves.to_trash))
    except BaseException:
        with contextlib.suppress(Exception):  # the lease also expires on its own
            _release(deps, asset_id, principal, token, lambda a: a)
        raise
    return _release(deps, asset_id, principal, token, moves.finish)


def delete_asset(
    deps: Deps, principal: Principal, asset_id: str, allow_missing: bool
) -> dict[str, Any]:
    now = deps.clock.now()
    retention = timedelta(days=deps.settings.purge_retention_days)

    def mark(asset: AssetRecord) -> AssetRecord:
        if asset.state == "DELETED":
            if not allow_missing:
                raise NotFound("No such asset")
            return asset  # finishes an earlier delete whose moves were interrupted
        return replace(
            asset, state="DELETED", delete_time=now, purge_time=now + retention, update_time=now
        )

    return asset_view(_with_lease(deps, asset_id, principal, Moves(mark, True, lambda a: a)))


def undelete_asset(deps: Deps, principal: Principal, asset_id: str) -> dict[str, Any]:
    def check(asset: AssetRecord) -> AssetRecord:
        if asset.state == "ACTIVE":
            raise AlreadyExists("The asset is not deleted")
        return asset

    def restore(asset: AssetRecord) -> AssetRecord:
        now = deps.clock.now()
        return replace(asset, state="ACTIVE", delete_time=None, purge_time=None, update_time=now)

    return asset_view(_with_lease(deps, asset_id, principal, Moves(check, False, restore)))
