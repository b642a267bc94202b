"""``jobs/{job_id}``: one video generation job, owned by ``owner_uid``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from genmedia.store import stale
from genmedia.store.records import JobRecord
from genmedia.store.snapshots import query_rows, read_one

if TYPE_CHECKING:
    from google.cloud import firestore

COLLECTION = "jobs"


@dataclass(frozen=True)
class JobQuery:
    """One user's jobs, newest first (index needs: infra/firestore-indexes.md)."""

    owner_uid: str
    states: tuple[str, ...] = ()  # empty: every state


class JobRepository:
    def __init__(self, db: firestore.Client) -> None:
        self.collection = db.collection(COLLECTION)

    def _ref(self, job_id: str) -> firestore.DocumentReference:
        return self.collection.document(job_id)

    def create(self, txn: firestore.Transaction, job: JobRecord) -> None:
        txn.create(self._ref(job.id), job.to_doc())

    def put(self, txn: firestore.Transaction, job: JobRecord) -> None:
        txn.set(self._ref(job.id), job.to_doc())

    def get(self, job_id: str, txn: firestore.Transaction | None = None) -> JobRecord | None:
        doc = read_one(self._ref(job_id), txn)
        return JobRecord.from_doc(job_id, doc.fields) if doc else None

    def in_state_before(self, state: str, before: datetime, limit: int) -> list[JobRecord]:
        """Up to ``limit`` jobs in ``state`` not updated since ``before``, oldest first."""
        rows = stale.in_state_before(self.collection, state, "update_time", before, limit)
        return [JobRecord.from_doc(i, d) for i, d in rows]

    def list_page(
        self, spec: JobQuery, limit: int, after: tuple[datetime, str] | None
    ) -> list[JobRecord]:
        """One RunQuery: up to ``limit`` jobs after the cursor (create_time, id), newest first."""
        from google.cloud import firestore
        from google.cloud.firestore_v1.base_query import FieldFilter

        query = self.collection.where(filter=FieldFilter("owner_uid", "==", spec.owner_uid))
        if len(spec.states) == 1:
            query = query.where(filter=FieldFilter("state", "==", spec.states[0]))
        elif spec.states:
            query = query.where(filter=FieldFilter("state", "in", list(spec.states)))
        query = query.order_by("create_time", direction=firestore.Query.DESCENDING)
        query = query.order_by("__name__", direction=firestore.Query.DESCENDING)
        if after is not None:
            query = query.start_after({"create_time": after[0], "__name__": after[1]})
        return [JobRecord.from_doc(i, d) for i, d in query_rows(query.limit(limit))]
