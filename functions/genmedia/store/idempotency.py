"""``idempotency/{sha256(uid, key)}``: claimed keys and the responses to replay.

``expire_time`` is the Firestore TTL field; reads filter on it too, as TTL deletion lags.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from genmedia.store.records import IdempotencyRecord
from genmedia.store.snapshots import read_one

if TYPE_CHECKING:
    from google.cloud import firestore

COLLECTION = "idempotency"


class IdempotencyRepository:
    def __init__(self, db: firestore.Client) -> None:
        self.db = db

    def _ref(self, doc_id: str) -> firestore.DocumentReference:
        return self.db.collection(COLLECTION).document(doc_id)

    def create(self, doc_id: str, record: IdempotencyRecord) -> bool:
        """Create-only: False when the document already exists."""
        from google.api_core import exceptions

        try:
            self._ref(doc_id).create(record.to_doc())
        except exceptions.AlreadyExists:
            return False
        return True

    def get(self, doc_id: str) -> tuple[IdempotencyRecord, datetime] | None:
        """The record and its update time (the precondition for ``replace``)."""
        doc = read_one(self._ref(doc_id))
        if doc is None:
            return None
        return IdempotencyRecord.from_doc(doc.fields), doc.update_time

    def replace(self, doc_id: str, record: IdempotencyRecord, unchanged_since: datetime) -> bool:
        """Overwrite the record if nobody wrote it after ``unchanged_since``; else False."""
        from google.api_core import exceptions

        option = self.db.write_option(last_update_time=unchanged_since)
        try:
            self._ref(doc_id).update(record.to_doc(), option=option)
        except (exceptions.FailedPrecondition, exceptions.NotFound):
            return False
        return True

    def complete(self, doc_id: str, status: int, body: str, headers: dict[str, str]) -> None:
        self._ref(doc_id).update(
            {"state": "COMPLETED", "status": status, "body": body, "headers": headers}
        )

    def delete(self, doc_id: str) -> None:
        self._ref(doc_id).delete()
