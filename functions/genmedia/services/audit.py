"""The audit log: what sensitive operations record, and how admins read it.

Services call ``record`` with the transaction of the change when there is one, so the change
and its record commit together or not at all; the request id comes from the request being
served (the logging context), so every entry leads to that request's log lines.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from genmedia import pagination
from genmedia.formats import rfc3339
from genmedia.logging import current_request_id
from genmedia.principal import Principal
from genmedia.store.audit import AuditQuery
from genmedia.store.records import AuditEvent

if TYPE_CHECKING:
    from genmedia.bootstrap import Deps


def record(
    deps: Deps, txn: Any, actor: Principal | None, action: str, target: tuple[str, str],
    *, outcome: str = "ok", details: dict[str, Any] | None = None,
) -> None:  # fmt: skip
    event = AuditEvent(
        time=deps.clock.now(), action=action, target_type=target[0], target_id=target[1],
        actor_uid=actor.uid if actor else None, actor_role=actor.role if actor else None,
        request_id=current_request_id(), outcome=outcome, details=dict(details or {}),
    )  # fmt: skip
    deps.database.audit.add(txn, event)


def event_view(event_id: str, event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event_id,
        "time": rfc3339(event.time),
        "action": event.action,
        "target": {"type": event.target_type, "id": event.target_id},
        "actor": {"uid": event.actor_uid, "role": event.actor_role},
        "request_id": event.request_id,
        "outcome": event.outcome,
        "details": dict(event.details),
    }


@dataclass(frozen=True)
class ListAudit:
    query: AuditQuery
    page_size: int = 0
    page_token: str = ""


def _utc(value: datetime | None) -> datetime | None:
    # A time given without an offset is read as UTC, as the API's times are.
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def list_events(deps: Deps, params: ListAudit) -> dict[str, Any]:
    q = params.query
    params = replace(
        params, query=replace(q, start_time=_utc(q.start_time), end_time=_utc(q.end_time))
    )
    query_fp = pagination.fingerprint("audit", params.query)
    p = pagination.pager(
        query_fp, params.page_size, params.page_token, deps.settings.page_token_keys
    )
    rows = deps.database.audit.list_page(params.query, p.size + 1, p.after)
    page, token = p.finish(rows, lambda r: (r[1].time, r[0]))
    return {"events": [event_view(i, e) for i, e in page], "next_page_token": token}
