"""Moderation review for admins: the blocked prompts, and the denylist they can edit.

The edited list is stored in ``settings/moderation`` (with the audit entry, in one
transaction) and applies on every instance within ``MODERATION_TTL_S``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from genmedia import pagination, text
from genmedia.errors import FieldError, InvalidArgument
from genmedia.formats import rfc3339
from genmedia.principal import Principal
from genmedia.services import audit

if TYPE_CHECKING:
    from genmedia.bootstrap import Deps

MAX_TERMS = 500


@dataclass(frozen=True)
class ListBlocked:
    page_size: int = 0
    page_token: str = ""


def list_blocked(deps: Deps, params: ListBlocked) -> dict[str, Any]:
    query_fp = pagination.fingerprint("moderation_events")
    p = pagination.pager(
        query_fp, params.page_size, params.page_token, deps.settings.page_token_keys
    )
    rows = deps.database.moderation_events.list_page(p.size + 1, p.after)
    page, token = p.finish(rows, lambda r: (r[1].create_time, r[0]))
    events = [
        {"id": i, "uid": e.uid, "reason": e.reason, "request_id": e.request_id,
         "create_time": rfc3339(e.create_time), "text": e.text}
        for i, e in page
    ]  # fmt: skip
    return {"events": events, "next_page_token": token}


def denylist(deps: Deps) -> dict[str, Any]:
    stored = deps.database.settings.denylist()
    terms = stored if stored is not None else deps.settings.moderation_denylist
    return {"denylist": list(terms), "source": "admin" if stored is not None else "deployment"}


def set_denylist(deps: Deps, actor: Principal, terms: list[str]) -> dict[str, Any]:
    cleaned = list(dict.fromkeys(t.strip().lower() for t in terms if t.strip()))
    if not cleaned or len(cleaned) > MAX_TERMS or any(not text.skeleton(t) for t in cleaned):
        problem = f"1 to {MAX_TERMS} terms, each with at least one letter or digit"
        raise InvalidArgument("Invalid denylist", errors=[FieldError("denylist", problem)])
    db = deps.database

    def work(txn: Any) -> None:
        db.settings.put_denylist(txn, cleaned, actor.uid, deps.clock.now())
        audit.record(deps, txn, actor, "moderation.update", ("settings", "moderation"),
                     details={"terms": len(cleaned)})  # fmt: skip

    db.run_transaction(work)
    return {"denylist": cleaned, "source": "admin"}
