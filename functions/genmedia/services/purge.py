"""The purge (scheduled): soft-deleted assets past their ``purge_time`` are deleted for good.

Objects first, then the document: an object is deleted (or found already gone) before the
metadata that describes it, and the document is deleted in a transaction that checks the
asset is still DELETED and due, so a crash anywhere leaves work the next run finishes, and a
redelivered event finds nothing left to do. Both the trash and the live path of every variant
are deleted, since an interrupted delete may have left an object at either.

A run works in batches until ``budget_s`` is spent and reports whether more remain; the next
scheduled run continues, so no run outlasts the function's timeout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from genmedia.bucket import trash_path
from genmedia.logging import get_logger
from genmedia.services import audit
from genmedia.store.records import AssetRecord

if TYPE_CHECKING:
    from genmedia.bootstrap import Deps

BATCH = 100
_log = get_logger("genmedia.purge")


def purge(deps: Deps, *, batch: int = BATCH, budget_s: float = 240.0) -> dict[str, int | bool]:
    clock = deps.clock
    started, purged = clock.monotonic(), 0
    while True:  # at least one batch per run
        due = deps.database.assets.in_state_before("DELETED", "purge_time", clock.now(), batch)
        done = sum(1 for asset in due if _purge_one(deps, asset))
        purged += done
        # A full batch of which nothing could be purged (leases held) waits for the next run.
        more = len(due) == batch and done > 0
        if not more or clock.monotonic() - started >= budget_s:
            break
    counts: dict[str, int | bool] = {"assets_purged": purged, "more": more}
    _log.info("purge done", extra={"json_fields": counts})
    return counts


def _purge_one(deps: Deps, asset: AssetRecord) -> bool:
    now = deps.clock.now()
    if asset.lease_until is not None and asset.lease_until > now:
        return False  # a delete is still moving its objects: the next run takes it
    paths = [p for ref in asset.objects.values() for p in (trash_path(ref.path), ref.path)]
    deps.bucket.delete_objects(paths)
    db = deps.database

    def work(txn: Any) -> bool:
        current = db.assets.get(asset.id, txn)
        due = current is not None and current.state == "DELETED"
        if not due or current is None or current.purge_time is None or current.purge_time > now:
            return False
        db.assets.delete(txn, asset.id)
        audit.record(deps, txn, None, "asset.purge", ("asset", asset.id),
                     details={"owner_uid": asset.owner_uid})  # fmt: skip
        return True

    return db.run_transaction(work)
