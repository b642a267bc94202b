"""The store's snapshot-free reads decode exactly what the library's snapshots would."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from genmedia.store.client import firestore_client
from genmedia.store.snapshots import query_rows, read, read_one
from genmedia.store.transactions import run_transaction

EVERY_KIND = {
    "text": "a fox",
    "count": 7,
    "ratio": 0.5,
    "flag": True,
    "nothing": None,
    "when": datetime(2026, 12, 7, 1, 2, 3, 456789, tzinfo=UTC),
    "raw": b"\x00\xff",
    "tags": ["a", "b", 3],
    "nested": {"inner": {"deep": [1, {"x": "y"}]}, "empty": {}},
}


def test_query_rows_match_the_snapshots_of_the_same_query(
    stack_info: dict[str, Any], db: firestore.Client
) -> None:
    group = f"reads-{datetime.now(UTC).timestamp()}"
    for i in range(3):
        db.collection("store_reads").document(f"{group}-{i}").set({**EVERY_KIND, "group": group})
    client = firestore_client(stack_info["project_id"], 5.0, stack_info["firestore_emulator"])
    query = (
        client.collection("store_reads")
        .where(filter=FieldFilter("group", "==", group))
        .order_by("__name__", direction=firestore.Query.DESCENDING)
        .limit(2)
    )
    rows = query_rows(query)
    assert rows == [(s.id, s.to_dict()) for s in query.stream()]
    assert [doc_id for doc_id, _ in rows] == [f"{group}-2", f"{group}-1"]
    assert rows[0][1]["when"] == EVERY_KIND["when"]
    assert query_rows(query.select(["count"])) == [
        (f"{group}-2", {"count": 7}),
        (f"{group}-1", {"count": 7}),
    ]


def test_read_matches_the_snapshots_and_skips_missing_documents(
    stack_info: dict[str, Any], db: firestore.Client
) -> None:
    group = f"reads-{datetime.now(UTC).timestamp()}"
    db.collection("store_reads").document(group).set(EVERY_KIND)
    client = firestore_client(stack_info["project_id"], 5.0, stack_info["firestore_emulator"])
    ref, missing = (client.collection("store_reads").document(i) for i in (group, group + "-x"))
    snap = ref.get()
    docs = read([ref, missing])
    assert list(docs) == [ref.path]
    assert docs[ref.path].fields == snap.to_dict() == EVERY_KIND
    assert docs[ref.path].update_time == snap.update_time
    assert read_one(missing) is None


def test_a_read_in_a_transaction_is_its_snapshot(
    stack_info: dict[str, Any], db: firestore.Client
) -> None:
    doc_id = f"txn-{datetime.now(UTC).timestamp()}"
    db.collection("store_reads").document(doc_id).set({"n": 1})
    client = firestore_client(stack_info["project_id"], 5.0, stack_info["firestore_emulator"])
    ref = client.collection("store_reads").document(doc_id)

    def bump(txn: firestore.Transaction) -> int:
        doc = read_one(ref, txn)
        assert doc is not None
        txn.update(ref, {"n": doc.fields["n"] + 1})
        return int(doc.fields["n"])

    assert run_transaction(client, bump) == 1
    assert run_transaction(client, bump) == 2
    assert ref.get().to_dict() == {"n": 3}
