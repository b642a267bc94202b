"""Object-level authorisation for assets: one answer (404) for unknown, foreign, purged."""

from __future__ import annotations

from datetime import datetime

from genmedia.errors import NotFound
from genmedia.principal import Principal
from genmedia.store.records import AssetRecord


def is_purged(asset: AssetRecord, now: datetime) -> bool:
    return asset.state == "DELETED" and asset.purge_time is not None and asset.purge_time <= now


def readable(asset: AssetRecord | None, principal: Principal, now: datetime) -> AssetRecord:
    """The asset if the caller may read it (owner, or any admin); else 404 with no hint why."""
    if asset is None or asset.state not in ("ACTIVE", "DELETED") or is_purged(asset, now):
        raise NotFound("No such asset")
    if asset.owner_uid != principal.uid and not principal.is_admin:
        raise NotFound("No such asset")
    return asset


def writable(asset: AssetRecord | None, principal: Principal, now: datetime) -> AssetRecord:
    """Only the owner changes an asset; admins read but do not delete for users."""
    found = readable(asset, principal, now)
    if found.owner_uid != principal.uid:
        raise NotFound("No such asset")
    return found


def active(asset: AssetRecord | None, principal: Principal, now: datetime) -> AssetRecord:
    """Readable and not soft-deleted: what URL issuance requires."""
    found = readable(asset, principal, now)
    if found.state != "ACTIVE":
        raise NotFound("No such asset")
    return found
