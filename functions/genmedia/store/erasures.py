"""``erasures/{pseudonym}``: account erasures, one per account (services/erasure.py)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from genmedia.store import stale
from genmedia.store.records import ErasureRecord
from genmedia.store.snapshots import read_one

if TYPE_CHECKING:
    from google.cloud import firestore

COLLECTION = "erasures"


class ErasureRepository:
    def __init__(self, db: firestore.Client) -> None:
        self.collection = db.collection(COLLECTION)

    def put(self, txn: firestore.Transaction, erasure: ErasureRecord) -> None:
        txn.set(self.collection.document(erasure.id), erasure.to_doc())

    def get(
        self, erasure_id: str, txn: firestore.Transaction | None = None
    ) -> ErasureRecord | None:
        doc = read_one(self.collection.document(erasure_id), txn)
        return ErasureRecord.from_doc(erasure_id, doc.fields) if doc else None

    def in_state_before(self, state: str, before: datetime, limit: int) -> list[ErasureRecord]:
        """Up to ``limit`` in ``state`` not updated since ``before``, oldest first (sweeper)."""
        rows = stale.in_state_before(self.collection, state, "update_time", before, limit)
        return [ErasureRecord.from_doc(i, d) for i, d in rows]
