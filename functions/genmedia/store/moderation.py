"""``moderation_events/{id}``: audit trail of blocked prompts (restricted collection)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from genmedia.store.records import ModerationEvent

if TYPE_CHECKING:
    from google.cloud import firestore

COLLECTION = "moderation_events"


class ModerationEventRepository:
    def __init__(self, db: firestore.Client) -> None:
        self.db = db

    def add(self, event: ModerationEvent) -> None:
        self.db.collection(COLLECTION).add(event.to_doc())
