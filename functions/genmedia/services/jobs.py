"""Video jobs as their owner sees them: get, list, cancel; and the one way a job ends.

``finish`` is the only code that moves a job to a terminal state. It runs in one transaction
with the refund, so a job that fails or is cancelled gives its charge back exactly once, and
whichever of the worker and a cancel commits first wins (the other sees a terminal job).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from genmedia import pagination, quotas
from genmedia.catalog import VIDEO_VARIANTS
from genmedia.errors import FailedPrecondition, NotFound
from genmedia.formats import money, rfc3339
from genmedia.logging import get_logger
from genmedia.principal import Principal
from genmedia.services.views import asset_view
from genmedia.store.jobs import JobQuery
from genmedia.store.records import AssetRecord, JobRecord, JobState

if TYPE_CHECKING:
    from genmedia.bootstrap import Deps

_log = get_logger("genmedia.jobs")


@dataclass(frozen=True)
class ListJobs:
    page_size: int = 0
    page_token: str = ""
    state: JobState | None = None


def job_view(job: JobRecord, asset: dict[str, Any] | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": job.id,
        "type": "video",
        "state": job.state,
        "prompt": job.prompt,
        **{k: job.params.get(k) for k in _PARAMS},
        "progress": dict(job.progress),
        "cost": money(job.cost_micros),
        "create_time": rfc3339(job.create_time),
        "update_time": rfc3339(job.update_time),
    }
    for name in ("start_time", "end_time"):
        value = getattr(job, name)
        if value is not None:
            view[name] = rfc3339(value)
    if job.error is not None:
        view["error"] = dict(job.error)
    if job.state == "SUCCEEDED":
        view["asset_id"] = job.asset_id
        if asset is not None:
            view["asset"] = asset
    return view


_PARAMS = ("model", "duration_seconds", "aspect_ratio", "resolution", "negative_prompt", "seed",
           "generate_audio")  # fmt: skip


def owned(job: JobRecord | None, principal: Principal) -> JobRecord:
    """The job if ``principal`` owns it; anyone else's (or none) is indistinguishable: 404."""
    if job is None or job.owner_uid != principal.uid:
        raise NotFound("No such job")
    return job


def get_job(deps: Deps, principal: Principal, job_id: str, request_id: str) -> dict[str, Any]:
    job = owned(deps.database.jobs.get(job_id), principal)
    return job_view(job, _asset_with_urls(deps, principal, job, request_id))


def _asset_with_urls(
    deps: Deps, principal: Principal, job: JobRecord, request_id: str
) -> dict[str, Any] | None:
    if job.state != "SUCCEEDED":
        return None
    asset = deps.database.assets.get(job.asset_id)
    if asset is None or asset.state != "ACTIVE":
        return None  # deleted from the library since: the job still reports its id
    view = asset_view(asset)
    urls = deps.url_issuer().asset_urls(
        principal.token, request_id, [asset.id], variants=tuple(VIDEO_VARIANTS)
    )
    return view | ({"urls": urls[asset.id]} if asset.id in urls else {})


def list_jobs(deps: Deps, principal: Principal, params: ListJobs) -> dict[str, Any]:
    spec = JobQuery(principal.uid, (params.state,) if params.state else ())
    query_fp = pagination.fingerprint("jobs", spec)
    p = pagination.pager(
        query_fp, params.page_size, params.page_token, deps.settings.page_token_keys
    )
    rows = deps.database.jobs.list_page(spec, p.size + 1, p.after)
    page, token = p.finish(rows, lambda j: (j.create_time, j.id))
    return {"jobs": [job_view(j) for j in page], "next_page_token": token}


def cancel_job(deps: Deps, principal: Principal, job_id: str) -> dict[str, Any]:
    """QUEUED or RUNNING → CANCELLED with a refund; a finished job cannot be cancelled (409)."""
    owned(deps.database.jobs.get(job_id), principal)
    job, changed = finish(deps, job_id, "CANCELLED")
    if not changed:
        raise FailedPrecondition(f"The job already ended ({job.state}) and cannot be cancelled")
    return job_view(job)


def finish(
    deps: Deps,
    job_id: str,
    state: JobState,
    *,
    error: dict[str, str] | None = None,
    asset: AssetRecord | None = None,
    lease_id: str | None = None,
    unchanged_since: datetime | None = None,
) -> tuple[JobRecord, bool]:
    """End the job in one transaction (refund on FAILED/CANCELLED, the asset on SUCCEEDED).

    Returns the job as stored and whether this call ended it: False when it had already
    ended, or when ``lease_id`` is given and another delivery has taken the job over since,
    or when ``unchanged_since`` is given and the job has been updated after it (the sweeper's
    precondition: a job that moved on is not stuck).
    """
    db = deps.database

    def work(txn: Any) -> tuple[JobRecord, bool]:
        job = db.jobs.get(job_id, txn)
        if job is None:
            raise NotFound("No such job")
        if job.terminal or (lease_id is not None and job.lease_id != lease_id):
            return job, False
        if unchanged_since is not None and job.update_time != unchanged_since:
            return job, False
        now = deps.clock.now()
        # Firestore transactions read everything before they write.
        create_asset = asset is not None and db.assets.get(asset.id, txn) is None
        refund = state != "SUCCEEDED" and not job.refunded
        stored = db.usage.read_with_user(job.owner_uid, txn)[0] if refund else None
        if create_asset and asset is not None:
            db.assets.create(txn, asset)
        if stored is not None:
            db.usage.put(
                txn, job.owner_uid, quotas.refund_video(stored, job.month, job.cost_micros)
            )
        ended = replace(
            job, state=state, error=error, end_time=now, update_time=now,
            refunded=job.refunded or refund, lease_id=None, lease_until=None,
            progress=_final_progress(job, state),
        )  # fmt: skip
        db.jobs.put(txn, ended)
        return ended, True

    job, changed = db.run_transaction(work)
    if changed:
        _notify(deps, job)
    return job, changed


def _notify(deps: Deps, job: JobRecord) -> None:
    """Queue the job's webhook events. The job has ended either way: a failure here loses
    its events, so it is logged for the operator rather than failing the caller."""
    from genmedia.services import webhooks

    try:
        webhooks.notify(deps, job)
    except Exception:  # noqa: BLE001 - the job's end is committed; only events are at stake
        _log.exception("webhook events not queued", extra={"json_fields": {"job": job.id}})


def _final_progress(job: JobRecord, state: JobState) -> dict[str, Any]:
    if state == "SUCCEEDED":
        return {"percent": 100, "stage": "done", "eta_seconds": 0}
    return {"percent": job.progress.get("percent", 0), "stage": state.lower()}
