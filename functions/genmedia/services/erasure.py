"""Account erasure (the GDPR right to erasure): ``DELETE /v1/me`` and, for admins,
``DELETE /v1/admin/users/{uid}``.

Starting one is three idempotent steps, so a retried request finishes what a failed one began:
1. one transaction records the erasure (``erasures/{pseudonym}``) and marks ``users/{uid}``,
   which every charge reads, so no new work starts for the account from then on;
2. the Firebase Auth account is disabled and its sessions revoked: every later request with
   its tokens is refused;
3. the first step is enqueued for the erasure worker (services/erasure_worker.py), which
   deletes everything in bounded, resumable steps and finally the Auth account itself.

The erasure is known by a pseudonym of the uid (``pseudonym``): the audit log and the erasure
record keep only that, never the uid, once the erasure is done.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from genmedia.errors import NotFound
from genmedia.formats import rfc3339
from genmedia.principal import Principal
from genmedia.services import audit
from genmedia.store.records import ErasureRecord

if TYPE_CHECKING:
    from genmedia.bootstrap import Deps

PSEUDONYM_PREFIX = "erased-"


def pseudonym(uid: str) -> str:
    """A stable stand-in for ``uid``: whoever knows a uid can tell whether it was erased, but
    nothing stored after the erasure leads back to the uid."""
    digest = hashlib.sha256(f"genmedia-erasure\0{uid}".encode()).hexdigest()
    return PSEUDONYM_PREFIX + digest[:32]


def task_id(erasure_id: str, step: int) -> str:
    return f"{erasure_id}-{step}"


def erasure_view(erasure: ErasureRecord) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": erasure.id,
        "state": erasure.state,
        "requested_by": erasure.requested_by,
        "create_time": rfc3339(erasure.create_time),
        "update_time": rfc3339(erasure.update_time),
        "counts": dict(erasure.counts),
    }
    if erasure.end_time is not None:
        view["end_time"] = rfc3339(erasure.end_time)
    return view


def request_erasure(deps: Deps, actor: Principal, uid: str) -> dict[str, Any]:
    """Begin (or resume) erasing ``uid``: the caller's own account, or any for an admin."""
    db, now, alias = deps.database, deps.clock.now(), pseudonym(uid)
    by = "self" if actor.uid == uid else "admin"
    if by == "admin" and db.erasures.get(alias) is None:
        deps.user_directory().claims(uid)  # 404 for an account that never existed

    def work(txn: Any) -> ErasureRecord:
        current = db.erasures.get(alias, txn)
        if current is not None:
            return current
        erasure = ErasureRecord(
            id=alias, state="RUNNING", requested_by=by, create_time=now, update_time=now, uid=uid
        )
        db.erasures.put(txn, erasure)
        db.users.merge_in(txn, uid, {"erasure_time": now})
        audit.record(deps, txn, None if by == "self" else actor, "user.erase",
                     ("user", alias), details={"requested_by": by})  # fmt: skip
        return erasure

    erasure = db.run_transaction(work)
    if erasure.state == "RUNNING":
        deps.user_directory().disable(uid)
        step = erasure.step
        deps.erasure_queue().enqueue(task_id(alias, step), step_payload(alias, step))
    return {"erasure": erasure_view(erasure)}


def step_payload(erasure_id: str, step: int) -> dict[str, Any]:
    return {"erasure_id": erasure_id, "step": step}


def get_erasure(deps: Deps, erasure_id: str) -> dict[str, Any]:
    """An erasure by its id (admins): by pseudonym, so it can be found without the uid."""
    erasure = deps.database.erasures.get(erasure_id)
    if erasure is None:
        raise NotFound("No such erasure")
    return erasure_view(erasure)
