"""Documents: value round-trips, listing, missing documents, project/database isolation."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import firestore
from google.cloud.firestore_v1 import GeoPoint
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.services.firestore import FirestoreClient

INT64_MAX, INT64_MIN = 2**63 - 1, -(2**63)


def test_every_value_type_round_trips(fs_client: firestore.Client, coll: Any) -> None:
    ref = coll.document("values")
    stamp = dt.datetime(2024, 2, 29, 23, 59, 59, 123456, tzinfo=dt.UTC)
    target = fs_client.collection("other").document("target")
    data = {
        "null": None,
        "true": True,
        "false": False,
        "max": INT64_MAX,
        "min": INT64_MIN,
        "zero": 0,
        "double": 1.0,
        "tiny": 5e-324,
        "inf": math.inf,
        "ninf": -math.inf,
        "stamp": stamp,
        "text": "héllo \U0001f525 \x00 end",
        "empty": "",
        "bytes": bytes(range(256)),
        "ref": target,
        "geo": GeoPoint(-33.5, 151.25),
        # An array may hold a map that holds an array, but never an array directly.
        "array": [1, "two", {"inner": [3, {"deep": [4.5]}]}, {"k": None}],
        "map": {"nested": {"deep": [True, b"\x01"]}, "a.b": 1, "`q`": 2},
        "empty_array": [],
        "empty_map": {},
    }
    ref.set({**data, "nan": math.nan})
    got = ref.get().to_dict()
    assert math.isnan(got.pop("nan"))
    assert got == data
    assert isinstance(got["double"], float) and isinstance(got["max"], int)
    assert got["stamp"].microsecond == 123456
    assert got["ref"].path == target.path


def test_value_types_are_preserved_on_the_wire(
    fs_client: firestore.Client, fs_gapic: FirestoreClient, coll: Any
) -> None:
    ref = coll.document("wire")
    ref.set({"i": 1, "d": 1.0, "s": "1"})
    doc = fs_gapic.get_document(request={"name": ref._document_path})
    kinds = {k: v._pb.WhichOneof("value_type") for k, v in doc.fields.items()}
    assert kinds == {"i": "integer_value", "d": "double_value", "s": "string_value"}
    assert doc.create_time and doc.update_time


def test_missing_documents(
    fs_client: firestore.Client, fs_gapic: FirestoreClient, coll: Any
) -> None:
    ref = coll.document("absent")
    assert not ref.get().exists
    with pytest.raises(exceptions.NotFound):
        fs_gapic.get_document(request={"name": ref._document_path})
    coll.document("present").set({"v": 1})
    snaps = {s.id: s.exists for s in fs_client.get_all([ref, coll.document("present")])}
    assert snaps == {"absent": False, "present": True}


def test_list_collection_ids(fs_client: firestore.Client, unique: Callable[[str], str]) -> None:
    root_a, root_b = unique("root-a"), unique("root-b")
    fs_client.collection(root_a).document("d").set({})
    fs_client.document(f"{root_b}/missing/sub/x").set({})
    assert {root_a, root_b} <= {c.id for c in fs_client.collections()}
    parent = fs_client.collection(root_a).document("d")
    parent.collection("s1").document("a").set({})
    parent.collection("s2").document("b").collection("deeper").document("c").set({})
    fs_client.collection(root_a).document("elsewhere").collection("s3").document("z").set({})
    assert sorted(c.id for c in parent.collections()) == ["s1", "s2"]
    assert [c.id for c in fs_client.document(f"{root_b}/missing").collections()] == ["sub"]


def test_list_documents_shows_missing_parents(coll: Any) -> None:
    coll.document("exists").set({"v": 1})
    coll.document("ghost").collection("sub").document("child").set({"v": 2})
    listed = {d.id for d in coll.list_documents()}
    assert listed == {"exists", "ghost"}
    assert not coll.document("ghost").get().exists
    assert {d.id for d in coll.stream()} == {"exists"}


def test_list_documents_pages(fs_client: firestore.Client, coll: Any) -> None:
    for i in range(7):
        coll.document(f"p{i}").set({"i": i})
    assert sorted(d.id for d in coll.list_documents(page_size=2)) == [f"p{i}" for i in range(7)]


def test_projects_and_databases_are_isolated(
    fs_client: firestore.Client, fs_project: str, unique: Callable[[str], str]
) -> None:
    path = f"{unique('iso')}/doc"
    clients = {
        "default": fs_client,
        "other-project": firestore.Client(project=f"{fs_project}-other"),
        "named-db": firestore.Client(project=fs_project, database="isolated-db"),
    }
    for label, client in clients.items():
        client.document(path).set({"owner": label})
    for label, client in clients.items():
        assert client.document(path).get().get("owner") == label
    clients["named-db"].document(path).delete()
    assert not clients["named-db"].document(path).get().exists
    assert fs_client.document(path).get().get("owner") == "default"
    ids = {c.id for c in clients["other-project"].collections()}
    assert path.split("/")[0] in ids and len(ids) == 1


NESTED_ARRAY = "Cannot convert an array value in an array value."


@pytest.mark.parametrize(
    "write",
    [
        lambda ref: ref.set({"a": [1, [2]]}),
        lambda ref: ref.set({"a": [[]]}),
        lambda ref: ref.set({"m": {"deep": [{"ok": 1}, [1]]}}),
        lambda ref: ref.set({"b": [[1]]}, merge=True),
        lambda ref: ref.update({"b": [[1]]}),
        lambda ref: ref.parent.document("new").create({"b": [[1]]}),
    ],
    ids=["set", "set-empty-inner", "set-in-map", "merge", "update", "create"],
)
def test_nested_arrays_are_rejected(coll: Any, write: Callable[[Any], Any]) -> None:
    ref = coll.document("doc")
    ref.set({"v": 1})
    with pytest.raises(exceptions.InvalidArgument, match=NESTED_ARRAY):
        write(ref)
    assert ref.get().to_dict() == {"v": 1}
    assert not coll.document("new").get().exists


def test_arrays_inside_maps_inside_arrays_are_allowed(coll: Any) -> None:
    ref = coll.document("doc")
    ref.set({"a": [{"m": [1, {"n": [2]}]}]})
    assert ref.get().to_dict() == {"a": [{"m": [1, {"n": [2]}]}]}


def test_query_filters_may_compare_with_nested_arrays(coll: Any) -> None:
    coll.document("doc").set({"a": [1]})
    # Like Google's emulator, a filter value is not a stored value, so [[1]] is accepted.
    assert list(coll.where(filter=FieldFilter("a", "==", [[1]])).stream()) == []
    found = list(coll.where(filter=FieldFilter("a", "not-in", [[[1]]])).stream())
    assert [d.id for d in found] == ["doc"]


@pytest.mark.production_rule(
    "an array may not hold an array, so ArrayUnion([[1]]) is refused; Google's emulator "
    "stores [[1]]. https://cloud.google.com/firestore/docs/concepts/data-types"
)
def test_array_union_of_a_nested_array_is_rejected(coll: Any) -> None:
    ref = coll.document("doc")
    ref.set({"u": [1]})
    with pytest.raises(exceptions.InvalidArgument, match=NESTED_ARRAY):
        ref.update({"u": firestore.ArrayUnion([[1]])})
    assert ref.get().to_dict() == {"u": [1]}
    ref.update({"u": firestore.ArrayRemove([[1]])})  # removing can never nest, so it is allowed
    assert ref.get().to_dict() == {"u": [1]}
