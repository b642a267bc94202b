"""The maintenance query every background job asks: records in one state whose time field is
before a cutoff, oldest first (indexes ``state ASC, <field> ASC``: terraform/jobs.tf)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from genmedia.store.snapshots import query_rows

if TYPE_CHECKING:
    from google.cloud import firestore


def in_state_before(
    collection: firestore.CollectionReference, state: str, field: str, before: datetime,
    limit: int,
) -> list[tuple[str, dict[str, Any]]]:  # fmt: skip
    """Up to ``limit`` (id, document) in ``state`` with ``field`` before ``before``."""
    from google.cloud.firestore_v1.base_query import FieldFilter

    query = (
        collection.where(filter=FieldFilter("state", "==", state))
        .where(filter=FieldFilter(field, "<", before))
        .order_by(field)
        .limit(limit)
    )
    return query_rows(query)
