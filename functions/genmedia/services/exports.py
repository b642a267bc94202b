"""Data export (the GDPR right of access): ``POST /v1/me:export`` and ``GET /v1/me/exports/{id}``.

A request creates a QUEUED export and hands it to the export worker through Cloud Tasks; the
worker writes one ZIP of everything stored about the user (services/export_archive.py) under
``exports/{uid}/`` and the export turns SUCCEEDED with a short-lived signed download URL. One
export at a time per user: asking again while one is under way returns that one (and
re-enqueues its task, a no-op unless the task was lost). Exports expire after 7 days, in the
bucket (lifecycle rule) and in Firestore (TTL on ``expire_time``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from genmedia import quotas
from genmedia.errors import NotFound, Unavailable
from genmedia.formats import rfc3339
from genmedia.logging import current_request_id, get_logger
from genmedia.principal import Principal
from genmedia.services import audit
from genmedia.store.records import ExportRecord

if TYPE_CHECKING:
    from genmedia.bootstrap import Deps

_log = get_logger("genmedia.exports")
EXPORT_TTL = timedelta(days=7)  # the exports/ lifecycle rule in terraform/storage.tf
DOWNLOAD_URL_TTL_S = 600
ACTIVE_STATES = ("QUEUED", "RUNNING")


def state_of(export: ExportRecord, now: datetime) -> str:
    return "EXPIRED" if now >= export.expire_time else export.state


def export_view(deps: Deps, export: ExportRecord) -> dict[str, Any]:
    now = deps.clock.now()
    state = state_of(export, now)
    view: dict[str, Any] = {
        "id": export.id,
        "state": state,
        "create_time": rfc3339(export.create_time),
        "update_time": rfc3339(export.update_time),
        "expire_time": rfc3339(export.expire_time),
        "size_bytes": export.size_bytes,
        "counts": dict(export.counts),
    }
    if export.error is not None:
        view["error"] = dict(export.error)
    if state == "SUCCEEDED" and export.path:
        name = f"genmedia-export-{export.create_time:%Y%m%d}-{export.id}.zip"
        signed = deps.url_signer().sign_get_url(
            export.path, DOWNLOAD_URL_TTL_S, requester=export.owner_uid, filename=name
        )
        view["download"] = {"url": signed.url, "expire_time": rfc3339(signed.expire_time)}
    return view


def request_export(deps: Deps, principal: Principal) -> dict[str, Any]:
    """The caller's export under way, or a new one (202 either way)."""
    db, uid, now = deps.database, principal.uid, deps.clock.now()

    def work(txn: Any) -> ExportRecord:
        user = db.users.get(uid, txn)
        quotas.check_not_erasing(user)
        current = db.exports.get(user.active_export, txn) if user.active_export else None
        if current is not None and current.state in ACTIVE_STATES and now < current.expire_time:
            return current
        export = ExportRecord(
            id=deps.new_id(), owner_uid=uid, state="QUEUED", create_time=now, update_time=now,
            expire_time=now + EXPORT_TTL, request_id=current_request_id(),
        )  # fmt: skip
        db.exports.create(txn, export)
        db.users.merge_in(txn, uid, {"active_export": export.id})
        audit.record(deps, txn, principal, "export.request", ("export", export.id))
        return export

    export = db.run_transaction(work)
    if export.state == "QUEUED":
        _enqueue(deps, export)
    return {"export": export_view(deps, export)}


def _enqueue(deps: Deps, export: ExportRecord) -> None:
    try:
        deps.export_queue().enqueue(export.id, {"export_id": export.id})
    except Exception as exc:
        # Without its task the export would wait forever: end it now, so asking again works.
        _log.warning("export %s not enqueued: %s", export.id, type(exc).__name__)
        error = {"code": "UNAVAILABLE", "message": "The export could not be started"}
        finish(deps, export.id, "FAILED", error=error)
        raise Unavailable("Exports are unavailable; retry later", retry_after=30) from exc


def get_export(deps: Deps, principal: Principal, export_id: str) -> dict[str, Any]:
    export = deps.database.exports.get(export_id)
    if export is None or export.owner_uid != principal.uid:
        raise NotFound("No such export")
    return export_view(deps, export)


def finish(
    deps: Deps, export_id: str, state: str, *, error: dict[str, str] | None = None,
    result: tuple[str, int, dict[str, int]] | None = None,
) -> bool:  # fmt: skip
    """End an export once (SUCCEEDED with its ZIP, or FAILED); False if it had already ended
    or no longer exists (an erasure removed it)."""
    db, now = deps.database, deps.clock.now()

    def work(txn: Any) -> bool:
        export = db.exports.get(export_id, txn)
        if export is None or export.state not in ACTIVE_STATES:
            return False
        user = db.users.get(export.owner_uid, txn)
        path, size, counts = result or (None, 0, {})
        ended = replace(
            export, state=state, update_time=now, error=error, lease_until=None,  # type: ignore[arg-type]
            path=path, size_bytes=size, counts=counts,
        )  # fmt: skip
        db.exports.put(txn, ended)
        if user.active_export == export_id:
            db.users.merge_in(txn, export.owner_uid, {"active_export": None})
        outcome = "ok" if state == "SUCCEEDED" else "failed"
        details = {"size_bytes": size, "counts": counts}
        audit.record(deps, txn, None, "export.complete", ("export", export_id),
                     outcome=outcome, details=details)  # fmt: skip
        return True

    return db.run_transaction(work)
