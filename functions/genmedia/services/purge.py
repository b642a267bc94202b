"""The purge (scheduled): soft-deleted assets past their ``purge_time`` are deleted for good.

Objects first, then the document: an object is deleted (or found already gone) before the
metadata that describes it, and the document is deleted in a transaction that checks the
asset is still DELETED and due, so a crash anywhere leaves work the next run finishes, and a
redelivered event finds nothing left to do. Both the trash and the live path of every variant
are deleted, since an interrupted delete may have left an object at either.

A run works in batches until its budget is spent, so no run outlasts the function's timeout;
when more remain it continues itself: ``run`` enqueues one Cloud Task that delivers the next
run's CloudEvent to this same function. The task is named after the chain and its position
(a redelivered event re-enqueues the same name, which Cloud Tasks dedupes), so a backlog is
worked off in consecutive runs instead of waiting an hour for the next schedule.
"""

from __future__ import annotations

import base64
import json
import re
from typing import TYPE_CHECKING, Any

from genmedia.bucket import trash_path
from genmedia.logging import get_logger
from genmedia.services import audit
from genmedia.store.records import AssetRecord

if TYPE_CHECKING:
    from genmedia.bootstrap import Deps

_log = get_logger("genmedia.purge")
CONTINUATION_TYPE = "google.cloud.pubsub.topic.v1.messagePublished"  # what the push delivers
MAX_CONTINUATIONS = 1000  # a chain longer than this waits for the next schedule


def run(deps: Deps, payload: dict[str, Any], event_id: str) -> dict[str, int | bool]:
    """One scheduled (or continued) run, and its continuation when more remain."""
    s = deps.settings
    counts = purge(deps, batch=s.purge_batch_size, budget_s=s.purge_budget_seconds)
    position = payload.get("continuation", 0)
    position = position if isinstance(position, int) and position >= 0 else 0
    if counts["more"] and position < MAX_CONTINUATIONS:
        chain = payload.get("chain")
        chain = chain if isinstance(chain, str) else re.sub(r"[^A-Za-z0-9_-]", "-", event_id)
        _continue(deps, chain[:200], position + 1)
    return counts


def _continue(deps: Deps, chain: str, position: int) -> None:
    task_id = f"purge-{chain}-{position}"
    data = {"job": "purge", "chain": chain, "continuation": position}
    s = deps.settings
    queue = f"projects/{s.project_id}/queues/{s.maintenance_queue}"
    event = {
        "specversion": "1.0",
        "id": task_id,
        "type": CONTINUATION_TYPE,
        "source": f"//cloudtasks.googleapis.com/{queue}",
        "datacontenttype": "application/json",
        "data": {"message": {"data": base64.b64encode(json.dumps(data).encode()).decode()}},
    }
    deps.purge_queue().enqueue(task_id, event)
    _log.info("purge continues", extra={"json_fields": {"task": task_id}})


def purge(deps: Deps, *, batch: int = 100, budget_s: float = 240.0) -> dict[str, int | bool]:
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
