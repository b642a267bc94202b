"""``settings/{name}``: settings admins change without a redeploy (the moderation denylist)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from genmedia.store.snapshots import read_one

if TYPE_CHECKING:
    from google.cloud import firestore

COLLECTION = "settings"
MODERATION = "moderation"
SWEEPER = "sweeper"


class SettingsRepository:
    def __init__(self, db: firestore.Client) -> None:
        self.collection = db.collection(COLLECTION)

    def denylist(self) -> tuple[str, ...] | None:
        """The stored denylist; None when admins have never set one (the deployment's applies)."""
        doc = read_one(self.collection.document(MODERATION))
        terms = doc.fields.get("denylist") if doc else None
        return tuple(str(t) for t in terms) if isinstance(terms, list) else None

    def put_denylist(
        self, txn: firestore.Transaction, terms: list[str], uid: str, now: datetime
    ) -> None:
        doc = {"denylist": terms, "update_time": now, "updated_by": uid}
        txn.set(self.collection.document(MODERATION), doc)

    def orphan_cursor(self) -> str | None:
        """Where the sweeper's scan of the bucket resumes; None: from the start."""
        doc = read_one(self.collection.document(SWEEPER))
        cursor = doc.fields.get("orphan_cursor") if doc else None
        return str(cursor) if cursor else None

    def put_orphan_cursor(self, cursor: str | None) -> None:
        self.collection.document(SWEEPER).set({"orphan_cursor": cursor or ""}, merge=True)
