"""The video worker: one Cloud Task per step of a job, at least once, never twice in effect.

Step 0 starts the provider's long-running operation and stores its name; every later step
polls it once, writes the progress and enqueues the next step with a delay (the poll interval
bounds how often progress is written), until the operation is done and the video is stored.
No request is held for minutes.

Delivery is at least once, so each step is guarded:
- a task for an earlier step than the job's (a duplicate or a late retry) does nothing;
- a lease on the job, taken in a transaction, keeps two deliveries from working at once; one
  whose holder died expires and the next delivery takes the job over;
- the next step's task is created *before* the step is committed and is named after the step,
  so a crash in between is repaired by the retry and never enqueues a step twice.

Permanent failures end the job FAILED with a refund and answer 2xx (no retry); transient ones
answer 503 so Cloud Tasks retries with backoff, and the queue's last attempt ends the job
FAILED instead, so a job is never left RUNNING by its worker.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from genmedia import bucket
from genmedia.errors import ContentBlocked, GenMediaError, ProviderError, Unavailable
from genmedia.logging import get_logger
from genmedia.media.video import OperationFailed, OperationStatus, VideoResult
from genmedia.services.generate_video import spec_of, task_id
from genmedia.services.jobs import finish
from genmedia.services.video_output import staged_path, store_video
from genmedia.store.records import JobRecord

if TYPE_CHECKING:
    from genmedia.bootstrap import Deps

_log = get_logger("genmedia.video_worker")
MAX_RESTARTS = 2  # new operations after one failed retryably


@dataclass(frozen=True)
class Delivery:
    job_id: str
    step: int
    retry_count: int = 0  # X-CloudTasks-TaskRetryCount


def handle(deps: Deps, delivery: Delivery) -> str:
    """Run one step; what happened ("started", "progress", "succeeded", "failed", "skipped")."""
    job = _take(deps, delivery)
    if job is None:
        return "skipped"
    lease = job.lease_id or ""
    try:
        if job.operation is None:
            return _start(deps, job, lease)
        return _poll(deps, job, lease)
    except ContentBlocked as exc:
        return _fail(deps, job, lease, "CONTENT_BLOCKED", exc.detail)
    except OperationFailed as exc:
        if exc.retryable and job.restarts < MAX_RESTARTS:
            # Polling a failed operation again only returns its failure: start a new one.
            _advance(deps, job, lease, operation=None, restarts=job.restarts + 1,
                     progress={"percent": 0, "stage": "restarting"})  # fmt: skip
            return "restarted"
        return _fail(deps, job, lease, "PROVIDER_ERROR", "The video provider failed")
    except ProviderError as exc:
        last = delivery.retry_count + 1 >= deps.settings.video_max_attempts
        if exc.retryable and not last:
            _release(deps, job.id, lease)
            raise Unavailable("The video provider is unavailable; retry", retry_after=10) from exc
        code = "PROVIDER_UNAVAILABLE" if exc.retryable else "PROVIDER_ERROR"
        return _fail(deps, job, lease, code, "The video provider failed")


def _take(deps: Deps, delivery: Delivery) -> JobRecord | None:
    """Lease the job for this step, or None when there is nothing to do."""
    db = deps.database

    def work(txn: Any) -> JobRecord | None:
        job = db.jobs.get(delivery.job_id, txn)
        if job is None or job.terminal or delivery.step < job.step:
            return None
        now = deps.clock.now()
        if delivery.step > job.step or (job.lease_until is not None and job.lease_until > now):
            # The step before is still being committed, or another delivery holds the job.
            raise Unavailable("The job is busy; retry later", retry_after=5)
        leased = replace(
            job, lease_id=secrets.token_urlsafe(12),
            lease_until=now + timedelta(seconds=deps.settings.job_lease_seconds),
            state="RUNNING", start_time=job.start_time or now, update_time=now,
        )  # fmt: skip
        db.jobs.put(txn, leased)
        return leased

    return db.run_transaction(work)


def _advance(deps: Deps, job: JobRecord, lease: str, **changes: Any) -> bool:
    """Enqueue the next step, then commit this one (progress, operation) and release."""
    at = deps.clock.now() + timedelta(seconds=deps.settings.video_poll_seconds)
    deps.task_queue().enqueue(task_id(job.id, job.step + 1), _payload(job, job.step + 1), at=at)
    db = deps.database

    def work(txn: Any) -> bool:
        current = db.jobs.get(job.id, txn)
        if current is None or current.terminal or current.lease_id != lease:
            return False  # cancelled, or taken over after our lease expired
        now = deps.clock.now()
        db.jobs.put(txn, replace(
            current, step=current.step + 1, lease_id=None, lease_until=None,
            update_time=now, **changes,
        ))  # fmt: skip
        return True

    return db.run_transaction(work)


def _payload(job: JobRecord, step: int) -> dict[str, Any]:
    return {"job_id": job.id, "step": step}


def _start(deps: Deps, job: JobRecord, lease: str) -> str:
    provider = deps.video_provider()
    staging = None
    if provider.name != "local":
        staging = f"gs://{deps.settings.media_bucket}/{bucket.staging_prefix(job.id)}"
    operation = provider.start(spec_of(job), output_gcs_uri=staging)
    progress = {"percent": 0, "stage": "starting"}
    _advance(deps, job, lease, operation=operation, progress=progress)
    _log.info("video job started", extra={"json_fields": {"job": job.id}})
    return "started"


def _poll(deps: Deps, job: JobRecord, lease: str) -> str:
    assert job.operation is not None
    status: OperationStatus = deps.video_provider().poll(job.operation)
    if not status.done or status.result is None:
        p = status.progress
        progress = {"percent": min(p.percent, 99), "stage": p.stage, "eta_seconds": p.eta_seconds}
        _advance(deps, job, lease, progress=progress)
        return "progress"
    return _complete(deps, job, lease, status.result)


def _complete(deps: Deps, job: JobRecord, lease: str, result: VideoResult) -> str:
    asset, uploaded = store_video(deps, job, result)
    _, ended = finish(deps, job.id, "SUCCEEDED", asset=asset, lease_id=lease)
    staged = staged_path(deps, job, result)
    if staged is not None:  # copied under the user's prefix (or not wanted): the move's second half
        deps.bucket.delete_quietly([staged])
    if not ended:
        # Cancelled while we stored it (or taken over): what we uploaded is not an asset.
        current = deps.database.jobs.get(job.id)
        if current is None or current.state != "SUCCEEDED":
            deps.bucket.delete_quietly(uploaded)
        return "skipped"
    _log.info("video job succeeded", extra={"json_fields": {"job": job.id, "asset": asset.id}})
    return "succeeded"


def _fail(deps: Deps, job: JobRecord, lease: str, code: str, message: str) -> str:
    finish(deps, job.id, "FAILED", error={"code": code, "message": message}, lease_id=lease)
    _log.warning("video job failed", extra={"json_fields": {"job": job.id, "code": code}})
    return "failed"


def _release(deps: Deps, job_id: str, lease: str) -> None:
    """Give the lease back so the retry need not wait for it to expire (best effort)."""
    db = deps.database

    def work(txn: Any) -> None:
        current = db.jobs.get(job_id, txn)
        if current is not None and current.lease_id == lease:
            db.jobs.put(txn, replace(current, lease_id=None, lease_until=None))

    try:
        db.run_transaction(work)
    except GenMediaError:
        raise
    except Exception:  # noqa: BLE001 - the lease expires on its own
        _log.warning("lease not released", extra={"json_fields": {"job": job_id}})
