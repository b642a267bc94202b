"""Everything stored about one user, by collection: what an export reads and an erasure deletes.

``OWNER_FIELDS`` is the one table of which collection names its owner in which field; the
queries are single-field equalities ordered by document id, which Firestore's automatic
indexes serve, so paging through a user's data needs no composite index.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from genmedia.store import (
    assets,
    audit,
    exports,
    idempotency,
    jobs,
    moderation,
    usage,
    users,
    webhooks,
)
from genmedia.store.snapshots import query_rows, read

if TYPE_CHECKING:
    from google.cloud import firestore

OWNER_FIELDS: dict[str, str] = {
    assets.COLLECTION: "owner_uid",
    jobs.COLLECTION: "owner_uid",
    webhooks.COLLECTION: "owner_uid",
    exports.COLLECTION: "owner_uid",
    idempotency.COLLECTION: "uid",
    moderation.COLLECTION: "uid",
}
# Documents whose id is the uid.
PER_USER_COLLECTIONS = (usage.COLLECTION, users.COLLECTION)
# Audit fields that name a user; an erasure replaces the uid in them with its pseudonym.
AUDIT_USER_FIELDS = ("actor_uid", "target_id", "details.owner_uid")


def field_of(doc: dict[str, Any], path: str) -> Any:
    """The value at a dotted field path of a document (None when absent)."""
    value: Any = doc
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


class OwnedData:
    def __init__(self, db: firestore.Client) -> None:
        self.db = db

    def page(
        self, collection: str, uid: str, limit: int, after: str | None = None
    ) -> list[tuple[str, dict[str, Any]]]:
        """Up to ``limit`` (id, document) of ``uid`` in ``collection``, in id order."""
        from google.cloud.firestore_v1.base_query import FieldFilter

        ref = self.db.collection(collection)
        query = ref.where(filter=FieldFilter(OWNER_FIELDS[collection], "==", uid))
        query = query.order_by("__name__")
        if after is not None:
            query = query.start_after({"__name__": after})
        return query_rows(query.limit(limit))

    def delete(self, collection: str, doc_ids: list[str]) -> None:
        """Delete the documents in one batch (at most 500); ones already gone are fine."""
        batch = self.db.batch()
        for doc_id in doc_ids:
            batch.delete(self.db.collection(collection).document(doc_id))
        batch.commit()

    def per_user(self, uid: str) -> dict[str, dict[str, Any]]:
        """The per-user documents that exist (usage, users), by collection."""
        refs = [self.db.collection(c).document(uid) for c in PER_USER_COLLECTIONS]
        return {path.partition("/")[0]: doc.fields for path, doc in read(refs).items()}

    def delete_per_user(self, uid: str) -> None:
        batch = self.db.batch()
        for collection in PER_USER_COLLECTIONS:
            batch.delete(self.db.collection(collection).document(uid))
        batch.commit()

    def audit_page(self, uid: str, limit: int) -> list[tuple[str, dict[str, Any]]]:
        """Up to ``limit`` audit events naming ``uid`` as actor or target."""
        from google.cloud.firestore_v1.base_query import FieldFilter, Or

        query = self.db.collection(audit.COLLECTION).where(
            filter=Or([FieldFilter(f, "==", uid) for f in AUDIT_USER_FIELDS])
        )
        return query_rows(query.limit(limit))

    def pseudonymise_audit(
        self, events: list[tuple[str, dict[str, Any]]], uid: str, alias: str
    ) -> None:
        """Replace ``uid`` with ``alias`` wherever these events name it (one batch)."""
        batch, changed = self.db.batch(), False
        for event_id, doc in events:
            change = {f: alias for f in AUDIT_USER_FIELDS if field_of(doc, f) == uid}
            if change:
                batch.update(self.db.collection(audit.COLLECTION).document(event_id), change)
                changed = True
        if changed:
            batch.commit()
