"""``users/{uid}``: role mirror and per-user quota overrides (set by the admin function)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from genmedia.store.records import UserRecord
from genmedia.store.snapshots import read_one

if TYPE_CHECKING:
    from google.cloud import firestore

COLLECTION = "users"


class UserRepository:
    def __init__(self, db: firestore.Client) -> None:
        self.db = db

    def _ref(self, uid: str) -> firestore.DocumentReference:
        return self.db.collection(COLLECTION).document(uid)

    def get(self, uid: str, txn: firestore.Transaction | None = None) -> UserRecord:
        doc = read_one(self._ref(uid), txn)
        return UserRecord.from_doc(uid, doc.fields if doc else None)

    def merge_in(self, txn: firestore.Transaction, uid: str, fields: dict[str, Any]) -> None:
        """Merge ``fields`` into ``users/{uid}`` as part of ``txn``."""
        txn.set(self._ref(uid), fields, merge=True)

    def merge(self, uid: str, fields: dict[str, Any]) -> UserRecord:
        """Merge ``fields`` into ``users/{uid}`` and return the stored record."""
        ref = self._ref(uid)
        ref.set(fields, merge=True)
        doc = read_one(ref)
        return UserRecord.from_doc(uid, doc.fields if doc else None)
