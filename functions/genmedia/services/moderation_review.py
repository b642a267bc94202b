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

DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 50, 100
MAX_TERMS = 500


@dataclass(frozen=True)
class ListBlocked:
    page_size: int = 0
    page_token: str = ""


def list_blocked(deps: Deps, params: ListBlocked) -> dict[str, Any]:
    query_fp = pagination.fingerprint("moderation_events")
    size = min(params.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    keys = pagination.page_keys(deps.settings.page_token_keys)
    after = pagination.time_cursor(params.page_token, query_fp, keys) if params.page_token else None
    rows = deps.database.moderation_events.list_page(size + 1, after)
    page, more = rows[:size], len(rows) > size
    token = ""
    if more:
        last_id, last = page[-1]
        token = pagination.encode(query_fp, [last.create_time.isoformat(), last_id], keys[0])
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
