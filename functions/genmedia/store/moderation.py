"""``moderation_events/{id}``: audit trail of blocked prompts (restricted collection)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from genmedia.store.records import ModerationEvent
from genmedia.store.snapshots import query_rows

if TYPE_CHECKING:
    from google.cloud import firestore

COLLECTION = "moderation_events"


class ModerationEventRepository:
    def __init__(self, db: firestore.Client) -> None:
        self.db = db

    def add(self, event: ModerationEvent) -> None:
        self.db.collection(COLLECTION).add(event.to_doc())

    def list_page(
        self, limit: int, after: tuple[datetime, str] | None
    ) -> list[tuple[str, ModerationEvent]]:
        """Newest first, for review (``create_time``'s automatic index serves it)."""
        from google.cloud import firestore

        query = (
            self.db.collection(COLLECTION)
            .order_by("create_time", direction=firestore.Query.DESCENDING)
            .order_by("__name__", direction=firestore.Query.DESCENDING)
        )
        if after is not None:
            query = query.start_after({"create_time": after[0], "__name__": after[1]})
        return [(i, ModerationEvent(**d)) for i, d in query_rows(query.limit(limit))]
