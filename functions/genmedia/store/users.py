"""``users/{uid}``: role mirror and per-user quota overrides (set by the admin function)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from genmedia.store.records import UserRecord
from genmedia.store.snapshots import fields_of

if TYPE_CHECKING:
    from google.cloud import firestore

COLLECTION = "users"


class UserRepository:
    def __init__(self, db: firestore.Client) -> None:
        self.db = db

    def _ref(self, uid: str) -> firestore.DocumentReference:
        return self.db.collection(COLLECTION).document(uid)

    def get(self, uid: str, txn: firestore.Transaction | None = None) -> UserRecord:
        snap = self._ref(uid).get(transaction=txn)
        return UserRecord.from_doc(uid, fields_of(snap))

    def merge_in(self, txn: firestore.Transaction, uid: str, fields: dict[str, Any]) -> None:
        """Merge ``fields`` into ``users/{uid}`` as part of ``txn``."""
        txn.set(self._ref(uid), fields, merge=True)

    def merge(self, uid: str, fields: dict[str, Any]) -> UserRecord:
        """Merge ``fields`` into ``users/{uid}`` and return the stored record."""
        ref = self._ref(uid)
        ref.set(fields, merge=True)
        return UserRecord.from_doc(uid, ref.get().to_dict())
