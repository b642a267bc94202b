"""``assets/{asset_id}``: one generated image or video, owned by ``owner_uid``."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING

from genmedia.store import stale
from genmedia.store.records import AssetRecord
from genmedia.store.snapshots import query_rows, read, read_one

if TYPE_CHECKING:
    from google.cloud import firestore

COLLECTION = "assets"
# What a library page reads of each asset: everything but its search terms.
LISTED_FIELDS = tuple(f.name for f in fields(AssetRecord) if f.name not in ("id", "search_terms"))


@dataclass(frozen=True)
class AssetQuery:
    """One user's assets, newest or oldest first (index needs: infra/firestore-indexes.md)."""

    owner_uid: str
    states: tuple[str, ...] = ("ACTIVE",)
    type: str | None = None
    term: str | None = None
    descending: bool = True


def new_asset_id() -> str:
    """Opaque, unguessable, URL-safe (22 chars); never sequential."""
    return secrets.token_urlsafe(16)


class AssetRepository:
    def __init__(self, db: firestore.Client) -> None:
        self.db = db
        self.collection = db.collection(COLLECTION)

    def _ref(self, asset_id: str) -> firestore.DocumentReference:
        return self.collection.document(asset_id)

    def create(self, txn: firestore.Transaction, asset: AssetRecord) -> None:
        txn.create(self._ref(asset.id), asset.to_doc())

    def put(self, txn: firestore.Transaction, asset: AssetRecord) -> None:
        txn.set(self._ref(asset.id), asset.to_doc())

    def mark_failed(self, txn: firestore.Transaction, asset_ids: list[str], now: datetime) -> None:
        for asset_id in asset_ids:
            txn.update(self._ref(asset_id), {"state": "FAILED", "update_time": now})

    def get(self, asset_id: str, txn: firestore.Transaction | None = None) -> AssetRecord | None:
        doc = read_one(self._ref(asset_id), txn)
        return AssetRecord.from_doc(asset_id, doc.fields) if doc else None

    def get_many(
        self, asset_ids: Iterable[str], txn: firestore.Transaction | None = None
    ) -> dict[str, AssetRecord]:
        """One BatchGetDocuments call for any number of ids; missing ids are absent."""
        refs = {i: self._ref(i) for i in asset_ids}
        docs = read(list(refs.values()), txn)
        return {
            i: AssetRecord.from_doc(i, docs[r.path].fields)
            for i, r in refs.items()
            if r.path in docs
        }

    def activate(self, txn: firestore.Transaction, assets: list[AssetRecord]) -> None:
        """Store generated assets as ACTIVE with their objects."""
        for asset in assets:
            txn.update(self._ref(asset.id), asset.activation_doc())

    def in_state_before(
        self, state: str, field: str, before: datetime, limit: int
    ) -> list[AssetRecord]:
        """Up to ``limit`` assets in ``state`` whose ``field`` (a time) is before ``before``,
        oldest first: the sweeper's stale PENDING generations, the purge's due deletions."""
        rows = stale.in_state_before(self.collection, state, field, before, limit)
        return [AssetRecord.from_doc(i, d) for i, d in rows]

    def delete(self, txn: firestore.Transaction, asset_id: str) -> None:
        txn.delete(self._ref(asset_id))

    def list_page(
        self, spec: AssetQuery, limit: int, after: tuple[datetime, str] | None
    ) -> list[AssetRecord]:
        """One RunQuery: up to ``limit`` assets after the cursor (create_time, id), each without
        its ``search_terms`` (a third of a document's values; a page never shows them)."""
        from google.cloud import firestore
        from google.cloud.firestore_v1.base_query import FieldFilter

        query = self.collection.where(filter=FieldFilter("owner_uid", "==", spec.owner_uid))
        if len(spec.states) == 1:
            query = query.where(filter=FieldFilter("state", "==", spec.states[0]))
        else:
            query = query.where(filter=FieldFilter("state", "in", list(spec.states)))
        if spec.type is not None:
            query = query.where(filter=FieldFilter("type", "==", spec.type))
        if spec.term is not None:
            query = query.where(filter=FieldFilter("search_terms", "array_contains", spec.term))
        direction = firestore.Query.DESCENDING if spec.descending else firestore.Query.ASCENDING
        query = query.order_by("create_time", direction=direction)
        query = query.order_by("__name__", direction=direction)
        if after is not None:
            query = query.start_after({"create_time": after[0], "__name__": after[1]})
        query = query.select(LISTED_FIELDS).limit(limit)
        return [AssetRecord.from_doc(i, d) for i, d in query_rows(query)]
