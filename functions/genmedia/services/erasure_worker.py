"""The erasure worker: deletes everything of one user in bounded steps, then the account.

Each Cloud Task runs one step: it works through ``PHASES`` in order, a page at a time, until
nothing of the user is left or the step's time budget is spent; then it enqueues the next step
(named after it, so a retried step never enqueues twice) and records its counts. Every delete
is idempotent, so a duplicate or retried delivery repeats harmlessly, and a crash resumes with
the step's retry. Objects go before the documents that describe them, as in the purge.

Once a full pass finds nothing left, the Firebase Auth account is deleted, then the per-user
documents (the erasure mark on ``users/{uid}`` stays until the account is gone), and the
erasure record drops the uid: DONE, with counts, under the pseudonym only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from genmedia import bucket
from genmedia.errors import Unavailable
from genmedia.logging import get_logger
from genmedia.services import audit
from genmedia.services.erasure import pseudonym, step_payload, task_id
from genmedia.store.records import AssetRecord, ErasureRecord, ExportRecord

if TYPE_CHECKING:
    from genmedia.bootstrap import Deps

_log = get_logger("genmedia.erasure_worker")
PAGE_SIZE = 100  # documents per batch (a batch write holds at most 500)
STEP_BUDGET_S = 240.0  # well inside the worker's timeout


@dataclass(frozen=True)
class Delivery:
    erasure_id: str
    step: int


def _asset_objects(doc_id: str, doc: dict[str, Any]) -> list[str]:
    paths = [o.path for o in AssetRecord.from_doc(doc_id, doc).objects.values()]
    return paths + [bucket.trash_path(p) for p in paths]


def _export_objects(doc_id: str, doc: dict[str, Any]) -> list[str]:
    path = ExportRecord.from_doc(doc_id, doc).path
    return [path, path + ".partial"] if path else []


def _no_objects(doc_id: str, doc: dict[str, Any]) -> list[str]:
    return []


# collection -> the objects each of its documents describes (deleted first).
PHASES: tuple[tuple[str, Callable[[str, dict[str, Any]], list[str]]], ...] = (
    ("exports", _export_objects),
    ("jobs", _no_objects),
    ("assets", _asset_objects),
    ("webhooks", _no_objects),
    ("idempotency", _no_objects),
    ("moderation_events", _no_objects),
)


def handle(deps: Deps, delivery: Delivery, budget_s: float = STEP_BUDGET_S) -> str:
    """Run one step; what happened ("continued", "done", "skipped")."""
    erasure = deps.database.erasures.get(delivery.erasure_id)
    if erasure is None or erasure.state == "DONE" or erasure.uid is None:
        return "skipped"
    if delivery.step < erasure.step:
        return "skipped"  # a duplicate or late delivery of an earlier step
    if delivery.step > erasure.step:
        raise Unavailable("The step before is still being recorded; retry", retry_after=5)
    deadline = time.monotonic() + budget_s
    counts = dict(erasure.counts)
    finished = _erase_data(deps, erasure.uid, counts, deadline)
    if not finished:
        nxt = erasure.step + 1
        deps.erasure_queue().enqueue(task_id(erasure.id, nxt), step_payload(erasure.id, nxt))
        _save(deps, replace(erasure, step=nxt, counts=counts))
        return "continued"
    _finish(deps, erasure, counts)
    return "done"


def _erase_data(deps: Deps, uid: str, counts: dict[str, int], deadline: float) -> bool:
    """Delete pages until nothing is left (True) or the budget is spent (False)."""
    owned = deps.database.owned
    for collection, objects_of in PHASES:
        while True:
            if time.monotonic() > deadline:
                return False
            page = owned.page(collection, uid, PAGE_SIZE)
            if not page:
                break
            paths = [p for doc_id, doc in page for p in objects_of(doc_id, doc)]
            deps.bucket.delete_objects(paths)
            owned.delete(collection, [doc_id for doc_id, _ in page])
            counts[collection] = counts.get(collection, 0) + len(page)
    return _erase_objects(deps, uid, counts, deadline) and _pseudonymise(deps, uid, deadline)


def _erase_objects(deps: Deps, uid: str, counts: dict[str, int], deadline: float) -> bool:
    """Objects no document described (orphans, leftovers of a generation cut short)."""
    for prefix in bucket.user_prefixes(uid):
        while True:
            if time.monotonic() > deadline:
                return False
            page, _ = deps.bucket.list_page(prefix, None, PAGE_SIZE)
            if not page:
                break
            deps.bucket.delete_objects([name for name, _ in page])
            counts["objects"] = counts.get("objects", 0) + len(page)
    return True


def _pseudonymise(deps: Deps, uid: str, deadline: float) -> bool:
    owned = deps.database.owned
    while True:
        if time.monotonic() > deadline:
            return False
        events = owned.audit_page(uid, PAGE_SIZE)
        if not events:
            return True
        owned.pseudonymise_audit(events, uid, pseudonym(uid))


def _finish(deps: Deps, erasure: ErasureRecord, counts: dict[str, int]) -> None:
    assert erasure.uid is not None
    deps.user_directory().delete(erasure.uid)
    deps.database.owned.delete_per_user(erasure.uid)
    now = deps.clock.now()
    done = replace(erasure, state="DONE", uid=None, counts=counts, update_time=now, end_time=now)

    def work(txn: Any) -> None:
        current = deps.database.erasures.get(erasure.id, txn)
        if current is None or current.state == "DONE":
            return  # a duplicate delivery finished first
        deps.database.erasures.put(txn, done)
        audit.record(deps, txn, None, "user.erased", ("user", erasure.id), details=counts)

    deps.database.run_transaction(work)
    _log.info("erasure done", extra={"json_fields": {"erasure": erasure.id, "counts": counts}})


def _save(deps: Deps, erasure: ErasureRecord) -> None:
    saved = replace(erasure, update_time=deps.clock.now())
    deps.database.run_transaction(lambda txn: deps.database.erasures.put(txn, saved))
