"""``usage/{uid}``: the user's counters for the current day and month plus the rate-limit
bucket, in one document so the charge transaction reads and writes exactly one usage document.
It is read together with ``users/{uid}`` (the quota overrides) in one call."""

from __future__ import annotations

from typing import TYPE_CHECKING

from genmedia.store.records import UsageRecord, UserRecord
from genmedia.store.snapshots import read
from genmedia.store.users import COLLECTION as USERS

if TYPE_CHECKING:
    from google.cloud import firestore

COLLECTION = "usage"


class UsageRepository:
    def __init__(self, db: firestore.Client) -> None:
        self.db = db

    def _ref(self, uid: str) -> firestore.DocumentReference:
        return self.db.collection(COLLECTION).document(uid)

    def read_with_user(
        self, uid: str, txn: firestore.Transaction | None = None
    ) -> tuple[UsageRecord, UserRecord]:
        """Usage and user documents in one BatchGetDocuments (locked when in a transaction)."""
        usage_ref, user_ref = self._ref(uid), self.db.collection(USERS).document(uid)
        docs = read([usage_ref, user_ref], txn)
        usage, user = docs.get(usage_ref.path), docs.get(user_ref.path)
        return (
            UsageRecord.from_doc(usage.fields if usage else None),
            UserRecord.from_doc(uid, user.fields if user else None),
        )

    def put(self, txn: firestore.Transaction, uid: str, usage: UsageRecord) -> None:
        txn.set(self._ref(uid), usage.to_doc())
