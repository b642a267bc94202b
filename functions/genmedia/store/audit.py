"""``audit_events/{id}``: the append-only audit log (admins read it; nothing updates it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from genmedia.store.records import AuditEvent
from genmedia.store.snapshots import query_rows

if TYPE_CHECKING:
    from google.cloud import firestore

COLLECTION = "audit_events"


@dataclass(frozen=True)
class AuditQuery:
    """Newest first; each filter optional (indexes: infra/firestore-indexes.md)."""

    actor_uid: str | None = None
    target_id: str | None = None
    action: str | None = None
    start_time: datetime | None = None  # inclusive
    end_time: datetime | None = None  # exclusive


class AuditRepository:
    def __init__(self, db: firestore.Client) -> None:
        self.collection = db.collection(COLLECTION)

    def add(self, txn: firestore.Transaction | None, event: AuditEvent) -> None:
        """Append ``event``, inside ``txn`` when the change it records has one."""
        ref = self.collection.document()  # a random id: nothing can guess or overwrite it
        if txn is None:
            ref.create(event.to_doc())
        else:
            txn.create(ref, event.to_doc())

    def list_page(
        self, spec: AuditQuery, limit: int, after: tuple[datetime, str] | None
    ) -> list[tuple[str, AuditEvent]]:
        from google.cloud import firestore
        from google.cloud.firestore_v1.base_query import FieldFilter

        query: firestore.Query = self.collection  # type: ignore[assignment]
        for name in ("actor_uid", "target_id", "action"):
            value = getattr(spec, name)
            if value is not None:
                query = query.where(filter=FieldFilter(name, "==", value))
        if spec.start_time is not None:
            query = query.where(filter=FieldFilter("time", ">=", spec.start_time))
        if spec.end_time is not None:
            query = query.where(filter=FieldFilter("time", "<", spec.end_time))
        query = query.order_by("time", direction=firestore.Query.DESCENDING)
        query = query.order_by("__name__", direction=firestore.Query.DESCENDING)
        if after is not None:
            query = query.start_after({"time": after[0], "__name__": after[1]})
        return [(i, AuditEvent.from_doc(d)) for i, d in query_rows(query.limit(limit))]
