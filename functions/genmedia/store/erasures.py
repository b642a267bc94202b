"""``erasures/{pseudonym}``: account erasures, one per account (services/erasure.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from genmedia.store.records import ErasureRecord

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
        snap = self.collection.document(erasure_id).get(transaction=txn)
        return ErasureRecord.from_doc(snap.id, snap.to_dict() or {}) if snap.exists else None
