"""The export worker: one Cloud Task per export, at least once, one ZIP in effect.

A lease taken in a transaction keeps two deliveries from writing at once; a delivery that
finds the lease held answers 503, so its retry comes back after the holder finished or died
(the queue's backoff adds up to more than the lease). The ZIP is uploaded create-only and
exists only once complete, so a retry after a crash between upload and commit finds it and
just records it. Any failure but the last attempt's answers 503 (retry); the last one ends
the export FAILED.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from genmedia import bucket
from genmedia.errors import Unavailable
from genmedia.logging import get_logger
from genmedia.services import export_archive
from genmedia.services.exports import ACTIVE_STATES, finish
from genmedia.store.records import ExportRecord

if TYPE_CHECKING:
    from genmedia.bootstrap import Deps

_log = get_logger("genmedia.export_worker")


@dataclass(frozen=True)
class Delivery:
    export_id: str
    retry_count: int = 0  # X-CloudTasks-TaskRetryCount


def handle(deps: Deps, delivery: Delivery) -> str:
    """Write the export's ZIP; what happened ("succeeded", "failed", "skipped")."""
    export = _take(deps, delivery.export_id)
    if export is None:
        return "skipped"
    path = bucket.export_path(export.owner_uid, export.id)
    try:
        size = deps.bucket.size(path)
        if size is None:  # else an earlier attempt wrote it and died before recording it
            counts = export_archive.write(deps, export.owner_uid, path)
            size = deps.bucket.size(path) or 0
        else:
            counts = {}
    except Exception as exc:
        if delivery.retry_count + 1 < deps.settings.export_max_attempts:
            _release(deps, export.id)
            raise Unavailable("The export failed; it will be retried", retry_after=60) from exc
        _log.error("export %s failed", export.id, exc_info=exc)
        error = {"code": "INTERNAL", "message": "The export could not be written"}
        finish(deps, export.id, "FAILED", error=error)
        return "failed"
    ended = finish(deps, export.id, "SUCCEEDED", result=(path, size, counts))
    _log.info("export written", extra={"json_fields": {"export": export.id, "bytes": size}})
    return "succeeded" if ended else "skipped"


def _take(deps: Deps, export_id: str) -> ExportRecord | None:
    db, now = deps.database, deps.clock.now()

    def work(txn: Any) -> ExportRecord | None:
        export = db.exports.get(export_id, txn)
        if export is None or export.state not in ACTIVE_STATES:
            return None
        if export.lease_until is not None and export.lease_until > now:
            raise Unavailable("The export is being written; retry later", retry_after=60)
        lease = now + timedelta(seconds=deps.settings.export_lease_seconds)
        leased = replace(
            export, state="RUNNING", lease_until=lease, attempts=export.attempts + 1,
            update_time=now,
        )  # fmt: skip
        db.exports.put(txn, leased)
        return leased

    return db.run_transaction(work)


def _release(deps: Deps, export_id: str) -> None:
    db = deps.database

    def work(txn: Any) -> None:
        export = db.exports.get(export_id, txn)
        if export is not None and export.state == "RUNNING":
            db.exports.put(txn, replace(export, lease_until=None))

    try:
        db.run_transaction(work)
    except Exception:  # noqa: BLE001 - the lease expires on its own
        _log.warning("export lease not released", extra={"json_fields": {"export": export_id}})
