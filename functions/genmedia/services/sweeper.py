"""The sweeper (scheduled every few minutes): work whose instance died is ended and refunded.

- An image generation charges, then creates PENDING assets, then activates them. An asset
  still PENDING ``sweep_pending_after_seconds`` after creation (far past generate_image's
  timeout) belongs to an instance that died: it is marked FAILED and its image refunded, in
  one transaction that first checks it is still PENDING, so a generation finishing at that
  moment (it activates only what is still PENDING) and the sweeper never both settle it.
- A video job QUEUED for ``sweep_requeue_after_seconds`` (its step-0 task was never created,
  or was lost) gets that task again; Cloud Tasks deduplicates the name and the worker ignores
  a step already done. One not updated for ``sweep_job_after_seconds``, QUEUED or RUNNING
  with its lease expired (past the queue's whole retry window), is failed and refunded,
  provided it is still unchanged when the transaction runs.

- An erasure RUNNING but not updated for ``sweep_requeue_after_seconds`` gets its current
  step's task again (its request may have ended before the task was created, and its owner
  can no longer sign in to ask again); an export still QUEUED or RUNNING after
  ``sweep_job_after_seconds`` (past its queue's whole retry window) is ended FAILED, so its
  owner may ask for a new one.

- Objects under ``users/`` older than ``ORPHAN_GRACE`` whose asset has no document, or a
  FAILED one (a generation that died between upload and its cleanup), are deleted. The scan
  covers one page of the bucket per run and remembers where it stopped (``settings/sweeper``),
  so every object is looked at within a few runs without listing the whole bucket each time.
  A live asset's objects are never touched; a deleted one's wait for the purge.

Each run handles at most ``batch`` items of each kind; the next run continues.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from genmedia import quotas
from genmedia.bucket import USERS_PREFIX
from genmedia.logging import get_logger
from genmedia.services import exports
from genmedia.services.erasure import step_payload
from genmedia.services.erasure import task_id as erasure_task_id
from genmedia.services.exports import ACTIVE_STATES
from genmedia.services.generate_video import task_id
from genmedia.services.jobs import finish
from genmedia.store.records import JobRecord

if TYPE_CHECKING:
    from genmedia.bootstrap import Deps

BATCH = 100
ORPHAN_PAGE = 500
ORPHAN_GRACE = timedelta(hours=24)  # far past any generation or move in progress
_log = get_logger("genmedia.sweeper")
STUCK = {"code": "DEADLINE_EXCEEDED", "message": "The job's worker stopped; it was refunded"}
EXPORT_STUCK = {"code": "DEADLINE_EXCEEDED", "message": "The export's worker stopped"}


def sweep(deps: Deps, batch: int = BATCH) -> dict[str, int]:
    counts = {
        "images_refunded": _sweep_pending_images(deps, batch),
        **_sweep_jobs(deps, batch),
        **_sweep_accounts(deps, batch),
        "orphans_deleted": _sweep_orphans(deps, ORPHAN_PAGE),
    }
    _log.info("sweep done", extra={"json_fields": counts})
    return counts


def _sweep_pending_images(deps: Deps, batch: int) -> int:
    before = deps.clock.now() - timedelta(seconds=deps.settings.sweep_pending_after_seconds)
    stale = deps.database.assets.in_state_before("PENDING", "create_time", before, batch)
    return sum(1 for asset in stale if _fail_pending(deps, asset.id))


def _fail_pending(deps: Deps, asset_id: str) -> bool:
    db = deps.database

    def work(txn: Any) -> bool:
        asset = db.assets.get(asset_id, txn)
        if asset is None or asset.state != "PENDING":
            return False  # settled by its generation after all
        stored, _ = db.usage.read_with_user(asset.owner_uid, txn)
        db.usage.put(txn, asset.owner_uid, quotas.refund_asset(stored, asset))
        db.assets.mark_failed(txn, [asset_id], deps.clock.now())
        return True

    return db.run_transaction(work)


def _sweep_jobs(deps: Deps, batch: int) -> dict[str, int]:
    s, now, jobs = deps.settings, deps.clock.now(), deps.database.jobs
    stuck_before = now - timedelta(seconds=s.sweep_job_after_seconds)
    requeue_before = now - timedelta(seconds=s.sweep_requeue_after_seconds)
    failed = requeued = 0
    for job in jobs.in_state_before("QUEUED", requeue_before, batch):
        if job.update_time < stuck_before:
            failed += _fail_stuck(deps, job)
        elif deps.task_queue().enqueue(task_id(job.id, 0), {"job_id": job.id, "step": 0}):
            requeued += 1
    for job in jobs.in_state_before("RUNNING", stuck_before, batch):
        if job.lease_until is None or job.lease_until < now:
            failed += _fail_stuck(deps, job)
    return {"jobs_failed": failed, "jobs_requeued": requeued}


def _sweep_accounts(deps: Deps, batch: int) -> dict[str, int]:
    s, now, db = deps.settings, deps.clock.now(), deps.database
    requeued = failed = 0
    for erasure in db.erasures.in_state_before(
        "RUNNING", now - timedelta(seconds=s.sweep_requeue_after_seconds), batch
    ):
        step = erasure.step
        requeued += deps.erasure_queue().enqueue(
            erasure_task_id(erasure.id, step), step_payload(erasure.id, step)
        )
    stuck_before = now - timedelta(seconds=s.sweep_job_after_seconds)
    for state in ACTIVE_STATES:
        for export in db.exports.in_state_before(state, stuck_before, batch):
            failed += exports.finish(deps, export.id, "FAILED", error=dict(EXPORT_STUCK))
    return {"erasures_requeued": requeued, "exports_failed": failed}


def _fail_stuck(deps: Deps, job: JobRecord) -> int:
    _, ended = finish(deps, job.id, "FAILED", error=dict(STUCK), unchanged_since=job.update_time)
    return int(ended)


def _asset_id(path: str) -> str | None:
    parts = path.split("/")  # users/{uid}/assets/{asset_id}/{variant}.{ext}
    return parts[3] if len(parts) == 5 and parts[2] == "assets" else None


def _sweep_orphans(deps: Deps, limit: int) -> int:
    settings = deps.database.settings
    cursor = settings.orphan_cursor()
    objects, next_cursor = deps.bucket.list_page(USERS_PREFIX, cursor, limit)
    old_enough = deps.clock.now() - ORPHAN_GRACE
    candidates = {name: _asset_id(name) for name, created in objects if created < old_enough}
    found = deps.database.assets.get_many(i for i in candidates.values() if i)
    orphans = [
        name for name, asset_id in candidates.items()
        if asset_id is not None
        and (asset_id not in found or found[asset_id].state == "FAILED")
        and (asset_id not in found or name.startswith(f"users/{found[asset_id].owner_uid}/"))
    ]  # fmt: skip
    deps.bucket.delete_objects(orphans)
    settings.put_orphan_cursor(next_cursor)  # None: the scan starts over next time
    return len(orphans)
