"""``webhooks/{webhook_id}``: a user's webhook endpoints (secrets included: restricted)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from genmedia.store.records import WebhookRecord
from genmedia.store.snapshots import read_one

if TYPE_CHECKING:
    from google.cloud import firestore

COLLECTION = "webhooks"


class WebhookRepository:
    def __init__(self, db: firestore.Client) -> None:
        self.collection = db.collection(COLLECTION)

    def create(self, txn: firestore.Transaction, hook: WebhookRecord) -> None:
        txn.create(self.collection.document(hook.id), hook.to_doc())

    def get(self, webhook_id: str) -> WebhookRecord | None:
        doc = read_one(self.collection.document(webhook_id))
        return WebhookRecord.from_doc(webhook_id, doc.fields) if doc else None

    def for_owner(self, uid: str, txn: firestore.Transaction | None = None) -> list[WebhookRecord]:
        """Every endpoint of ``uid`` (a handful: creation is capped), oldest first."""
        from google.cloud.firestore_v1.base_query import FieldFilter

        query = self.collection.where(filter=FieldFilter("owner_uid", "==", uid))
        snaps = query.stream(transaction=txn) if txn is not None else query.stream()
        hooks = [WebhookRecord.from_doc(s.id, s.to_dict() or {}) for s in snaps]
        return sorted(hooks, key=lambda h: (h.create_time, h.id))

    def update(self, webhook_id: str, fields: dict[str, Any]) -> None:
        self.collection.document(webhook_id).update(fields)

    def delete(self, webhook_id: str) -> None:
        self.collection.document(webhook_id).delete()
