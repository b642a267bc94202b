"""Equality-filtered queries stay exact while their documents change.

Our emulator answers `==` filters from per-(collection id, field) indexes kept current by
every write; these tests hold any emulator to the results a full scan gives: after sets,
merges, field removals, deletes and transactions, across collections of the same id, for
ints equal to doubles and nested fields, and at an earlier read time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.services.firestore import FirestoreClient


def _owned(query: Any, owner: Any, field: str = "owner") -> list[str]:
    return [d.id for d in query.where(filter=FieldFilter(field, "==", owner)).stream()]


def test_equality_query_follows_writes_and_deletes(coll: Any) -> None:
    for i in range(12):
        coll.document(f"d{i:02d}").set({"owner": "a" if i % 3 else "b", "n": i})
    assert _owned(coll.order_by("n"), "b") == ["d00", "d03", "d06", "d09"]
    coll.document("d00").update({"owner": "a"})  # leaves b
    coll.document("d01").set({"owner": "b", "n": 1})  # joins b
    coll.document("d03").delete()
    coll.document("d06").update({"owner": firestore.DELETE_FIELD})
    coll.document("d09").set({"other": True}, merge=True)  # still b
    coll.document("d12").create({"owner": "b", "n": 12})
    assert _owned(coll.order_by("n"), "b") == ["d01", "d09", "d12"]
    assert len(_owned(coll, "a")) == 8
    coll.document("d03").set({"owner": "b", "n": 3})  # recreated
    assert _owned(coll.order_by("n", direction="DESCENDING").limit(2), "b") == ["d12", "d09"]
    assert _owned(coll, "nobody") == []


def test_equality_on_numbers_nested_fields_and_two_filters(coll: Any) -> None:
    coll.document("int").set({"v": 1, "m": {"k": "x"}, "s": "on"})
    coll.document("double").set({"v": 1.0, "m": {"k": "x"}, "s": "off"})
    coll.document("other").set({"v": 2, "m": {"k": "y"}, "s": "on"})
    coll.document("string").set({"v": "1", "m": "x", "s": "on"})
    assert sorted(_owned(coll, 1, "v")) == ["double", "int"]
    assert sorted(_owned(coll, 1.0, "v")) == ["double", "int"]
    assert sorted(_owned(coll, "x", "m.k")) == ["double", "int"]
    both = coll.where(filter=FieldFilter("m.k", "==", "x")).where(
        filter=FieldFilter("s", "==", "on")
    )
    assert [d.id for d in both.stream()] == ["int"]
    coll.document("int").update({"m.k": "y"})
    assert [d.id for d in both.stream()] == []
    assert sorted(_owned(coll, "y", "m.k")) == ["int", "other"]


def test_equality_query_scopes_to_its_collection(
    fs_client: firestore.Client, unique: Callable[[str], str]
) -> None:
    group, top = unique("g"), unique("t")
    for user in ("u1", "u2"):
        for i in range(3):
            fs_client.document(f"{top}/{user}/{group}/{i}").set({"owner": "me", "i": i})
    fs_client.document(f"{group}/root").set({"owner": "me"})
    user1 = fs_client.collection(top, "u1", group)
    assert _owned(user1.order_by("i"), "me") == ["0", "1", "2"]
    assert len(_owned(fs_client.collection_group(group), "me")) == 7
    assert _owned(fs_client.collection(group), "me") == ["root"]
    fs_client.document(f"{top}/u2/{group}/1").update({"owner": "you"})
    assert len(_owned(fs_client.collection_group(group), "me")) == 6
    assert _owned(fs_client.collection_group(group), "you") == ["1"]


def test_equality_query_in_transactions(fs_client: firestore.Client, coll: Any) -> None:
    for i in range(4):
        coll.document(f"d{i}").set({"owner": "a", "n": i})

    @firestore.transactional
    def hand_over(tx: firestore.Transaction) -> list[str]:
        mine = list(coll.where(filter=FieldFilter("owner", "==", "a")).stream(transaction=tx))
        for snap in mine[:2]:
            tx.update(snap.reference, {"owner": "b"})
        return sorted(s.id for s in mine)

    assert hand_over(fs_client.transaction()) == ["d0", "d1", "d2", "d3"]
    assert sorted(_owned(coll, "a")) == ["d2", "d3"]
    assert sorted(_owned(coll, "b")) == ["d0", "d1"]


def test_equality_query_at_an_earlier_read_time(
    fs_client: firestore.Client, fs_gapic: FirestoreClient, coll: Any
) -> None:
    coll.document("x").set({"owner": "a"})
    before = coll.document("y").set({"owner": "b"}).update_time  # the commit's time
    coll.document("x").update({"owner": "b"})
    coll.document("z").set({"owner": "a"})
    coll.document("y").delete()
    query = {
        "from_": [{"collection_id": coll.id}],
        "where": {
            "field_filter": {
                "field": {"field_path": "owner"},
                "op": "EQUAL",
                "value": {"string_value": "b"},
            }
        },
    }
    parent = fs_client._database_string + "/documents"
    request = {"parent": parent, "structured_query": query, "read_time": before}
    then = [r.document.name.rsplit("/", 1)[1] for r in fs_gapic.run_query(request=request)]
    assert then == ["y"]
    assert sorted(_owned(coll, "b")) == ["x"]
