"""Usage and user repositories: the per-user documents the charge transaction touches."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from genmedia.store.records import Usage, UserRecord

if TYPE_CHECKING:
    from google.cloud import firestore


class UsageRepository:
    def __init__(self, db: firestore.Client) -> None:
        self.db = db

    def usage_ref(self, uid: str) -> firestore.DocumentReference:
        return self.db.collection("usage").document(uid)

    def user_ref(self, uid: str) -> firestore.DocumentReference:
        return self.db.collection("users").document(uid)

    def read_in(self, txn: firestore.Transaction | None, uid: str) -> tuple[Usage, UserRecord]:
        """Usage and user documents in one BatchGetDocuments (locked when in a transaction)."""
        snaps = {
            s.reference.path: s
            for s in self.db.get_all([self.usage_ref(uid), self.user_ref(uid)], transaction=txn)
        }
        usage = snaps.get(self.usage_ref(uid).path)
        user = snaps.get(self.user_ref(uid).path)
        return (
            Usage.from_doc(usage.to_dict() if usage and usage.exists else None),
            UserRecord.from_doc(uid, user.to_dict() if user and user.exists else None),
        )

    def write_in(self, txn: firestore.Transaction, uid: str, usage: Usage) -> None:
        txn.set(self.usage_ref(uid), usage.to_doc())

    def get_user(self, uid: str) -> UserRecord:
        snap = self.user_ref(uid).get()
        return UserRecord.from_doc(uid, snap.to_dict() if snap.exists else None)

    def update_user(self, uid: str, fields: dict[str, Any]) -> UserRecord:
        """Merge ``fields`` into ``users/{uid}`` and return the stored record."""
        ref = self.user_ref(uid)
        ref.set(fields, merge=True)
        snap = ref.get()
        return UserRecord.from_doc(uid, snap.to_dict())
