"""``exports/{export_id}``: a user's data exports (services/exports.py)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from genmedia.store import stale
from genmedia.store.records import ExportRecord
from genmedia.store.snapshots import read_one

if TYPE_CHECKING:
    from google.cloud import firestore

COLLECTION = "exports"


class ExportRepository:
    def __init__(self, db: firestore.Client) -> None:
        self.collection = db.collection(COLLECTION)

    def create(self, txn: firestore.Transaction, export: ExportRecord) -> None:
        txn.create(self.collection.document(export.id), export.to_doc())

    def put(self, txn: firestore.Transaction, export: ExportRecord) -> None:
        txn.set(self.collection.document(export.id), export.to_doc())

    def get(self, export_id: str, txn: firestore.Transaction | None = None) -> ExportRecord | None:
        doc = read_one(self.collection.document(export_id), txn)
        return ExportRecord.from_doc(export_id, doc.fields) if doc else None

    def in_state_before(self, state: str, before: datetime, limit: int) -> list[ExportRecord]:
        """Up to ``limit`` in ``state`` not updated since ``before``, oldest first (sweeper)."""
        rows = stale.in_state_before(self.collection, state, "update_time", before, limit)
        return [ExportRecord.from_doc(i, d) for i, d in rows]
