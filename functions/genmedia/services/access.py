"""Object-level authorisation for assets: one answer (404) for unknown, foreign, purged."""

from __future__ import annotations

from datetime import datetime

from genmedia.auth import Principal
from genmedia.errors import NotFound
from genmedia.store.records import Asset


def is_purged(asset: Asset, now: datetime) -> bool:
    return asset.state == "DELETED" and asset.purge_time is not None and asset.purge_time <= now


def readable(asset: Asset | None, principal: Principal, now: datetime) -> Asset:
    """The asset if the caller may read it (owner, or any admin); else 404 with no hint why."""
    if asset is None or asset.state not in ("ACTIVE", "DELETED") or is_purged(asset, now):
        raise NotFound("No such asset")
    if asset.owner_uid != principal.uid and not principal.is_admin:
        raise NotFound("No such asset")
    return asset


def writable(asset: Asset | None, principal: Principal, now: datetime) -> Asset:
    """Only the owner changes an asset; admins read but do not delete for users."""
    found = readable(asset, principal, now)
    if found.owner_uid != principal.uid:
        raise NotFound("No such asset")
    return found


def active(asset: Asset | None, principal: Principal, now: datetime) -> Asset:
    """Readable and not soft-deleted: what URL issuance requires."""
    found = readable(asset, principal, now)
    if found.state != "ACTIVE":
        raise NotFound("No such asset")
    return found
