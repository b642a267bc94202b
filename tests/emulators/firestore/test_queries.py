"""Queries: paging, filters, ordering rules, cursors, projections, collection groups."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import firestore
from google.cloud.firestore_v1 import GeoPoint
from google.cloud.firestore_v1.base_query import And, FieldFilter, Or
from google.cloud.firestore_v1.services.firestore import FirestoreClient
from google.cloud.firestore_v1.vector import Vector

ASC, DESC = firestore.Query.ASCENDING, firestore.Query.DESCENDING
PAGE = 37
N_DOCS = 1000


def _ids(query: Any) -> list[str]:
    return [d.id for d in query.stream()]


def _write_all(client: firestore.Client, coll: Any, docs: dict[str, dict[str, Any]]) -> None:
    items = list(docs.items())
    for start in range(0, len(items), 500):
        batch = client.batch()
        for doc_id, data in items[start : start + 500]:
            batch.set(coll.document(doc_id), data)
        batch.commit()


@pytest.fixture(scope="module")
def thousand(fs_client: firestore.Client) -> Any:
    coll = fs_client.collection(f"paging-{uuid.uuid4().hex}")
    docs = {f"d{i:04d}": {"i": i, "g": (i * 7) % 10} for i in range(N_DOCS)}
    _write_all(fs_client, coll, docs)
    return coll


ORDERS: dict[str, tuple[list[tuple[str, str]], Callable[[int], Any]]] = {
    "ascending": ([("i", ASC)], lambda i: i),
    "descending": ([("i", DESC)], lambda i: -i),
    "multi-field": ([("g", ASC), ("i", DESC)], lambda i: ((i * 7) % 10, -i)),
    "desc-then-implicit-name": ([("g", DESC)], lambda i: (-((i * 7) % 10), -i)),
}


def _ordered(thousand: Any, orders: list[tuple[str, str]]) -> Any:
    query = thousand
    for field, direction in orders:
        query = query.order_by(field, direction=direction)
    return query


@pytest.mark.parametrize("order", list(ORDERS))
def test_paging_with_start_after_cursors(thousand: Any, order: str) -> None:
    orders, sort_key = ORDERS[order]
    expected = [f"d{i:04d}" for i in sorted(range(N_DOCS), key=sort_key)]
    query, got, last = _ordered(thousand, orders), [], None
    while True:
        page_query = query.limit(PAGE) if last is None else query.start_after(last).limit(PAGE)
        page = list(page_query.stream())
        got += [d.id for d in page]
        if len(page) < PAGE:
            break
        last = page[-1]
    assert got == expected


@pytest.mark.parametrize("order", list(ORDERS))
def test_paging_with_offset(thousand: Any, order: str) -> None:
    orders, sort_key = ORDERS[order]
    expected = [f"d{i:04d}" for i in sorted(range(N_DOCS), key=sort_key)]
    query, got = _ordered(thousand, orders), []
    for offset in range(0, N_DOCS + PAGE, PAGE):
        got += _ids(query.offset(offset).limit(PAGE))
    assert got == expected


@pytest.fixture
def mixed(fs_client: firestore.Client, coll: Any) -> Any:
    # Ids are deliberately not in `n` order so ordering by n is distinguishable.
    _write_all(
        fs_client,
        coll,
        {
            "k-c": {"n": 1, "tags": ["a", "b"], "s": "x"},
            "k-a": {"n": 2, "tags": ["b"], "s": "y"},
            "k-b": {"n": 3.5, "tags": [], "s": None},
            "k-e": {"n": "3", "tags": "a"},
            "k-f": {"other": 1},
            "k-d": {"n": None},
        },
    )
    return coll


FILTERS = [
    (("n", "==", 2), {"k-a"}),
    (("n", "==", 1.0), {"k-c"}),
    (("n", "!=", 2), {"k-c", "k-b", "k-e"}),
    (("n", "<", 3), {"k-c", "k-a"}),
    (("n", "<=", 2), {"k-c", "k-a"}),
    (("n", ">", 1), {"k-a", "k-b"}),
    (("n", ">=", 3.5), {"k-b"}),
    (("n", ">", "2"), {"k-e"}),
    (("tags", "array_contains", "a"), {"k-c"}),
    (("tags", "array_contains_any", ["a", "b"]), {"k-c", "k-a"}),
    (("n", "in", [1, "3", 99]), {"k-c", "k-e"}),
    (("n", "not-in", [1, 2]), {"k-b", "k-e"}),
    (("s", "==", None), {"k-b"}),
    (("s", "!=", None), {"k-c", "k-a"}),
]


@pytest.mark.parametrize(("where", "expected"), FILTERS, ids=[f"{w[1]}-{w[2]}" for w, _ in FILTERS])
def test_field_filter_operators(
    mixed: Any, where: tuple[str, str, Any], expected: set[str]
) -> None:
    assert set(_ids(mixed.where(filter=FieldFilter(*where)))) == expected


def test_nan_filters(fs_client: firestore.Client, coll: Any) -> None:
    _write_all(
        fs_client, coll, {"nan": {"v": math.nan}, "one": {"v": 1}, "nul": {"v": None}, "no": {}}
    )
    assert _ids(coll.where(filter=FieldFilter("v", "==", math.nan))) == ["nan"]
    not_nan = set(_ids(coll.where(filter=FieldFilter("v", "!=", math.nan))))
    assert "one" in not_nan and "nan" not in not_nan and "no" not in not_nan


def test_composite_filters(mixed: Any) -> None:
    either = Or(
        [FieldFilter("s", "==", "x"), And([FieldFilter("n", ">", 1), FieldFilter("n", "<", 3)])]
    )
    assert set(_ids(mixed.where(filter=either))) == {"k-c", "k-a"}
    both = And(
        [
            Or([FieldFilter("n", "==", 1), FieldFilter("n", "==", 3.5)]),
            FieldFilter("tags", "array_contains", "b"),
        ]
    )
    assert _ids(mixed.where(filter=both)) == ["k-c"]


def test_inequality_field_orders_results(mixed: Any) -> None:
    assert _ids(mixed.where(filter=FieldFilter("n", ">", 0))) == ["k-c", "k-a", "k-b"]
    desc = mixed.where(filter=FieldFilter("n", "!=", 2)).order_by("n", direction=DESC)
    assert _ids(desc) == ["k-e", "k-b", "k-c"]


@pytest.mark.parametrize(
    "make",
    [
        lambda c: c.order_by("__name__").order_by("n"),
        lambda c: c.order_by("__name__").where(filter=FieldFilter("n", ">", 0)),
        lambda c: c.order_by("m").order_by("__name__").where(filter=FieldFilter("n", ">", 0)),
    ],
    ids=["order-after-name", "inequality-after-name", "inequality-after-field-and-name"],
)
def test_nothing_may_be_ordered_after_the_name(coll: Any, make: Callable[[Any], Any]) -> None:
    coll.document("a").set({"n": 1, "m": 1})
    with pytest.raises(exceptions.InvalidArgument) as raised:
        list(make(coll).stream())
    assert raised.value.message == "order by clause cannot contain more fields after the key"
    inequality = coll.where(filter=FieldFilter("n", ">", 0))
    assert _ids(inequality.order_by("n").order_by("__name__")) == ["a"]


def test_order_by_excludes_documents_missing_the_field(mixed: Any) -> None:
    assert _ids(mixed.order_by("n")) == ["k-d", "k-c", "k-a", "k-b", "k-e"]
    assert _ids(mixed.order_by("n", direction=DESC).limit(2)) == ["k-e", "k-b"]


def test_cross_type_ordering(fs_client: firestore.Client, coll: Any) -> None:
    ref = fs_client.collection("refs").document("r")
    ordered = [
        None,
        False,
        True,
        math.nan,
        -math.inf,
        -1,
        0.5,
        1,
        2.0,
        3,
        dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
        dt.datetime(2021, 1, 1, tzinfo=dt.UTC),
        "",
        "a",
        "b",
        b"\x00",
        b"a",
        ref,
        GeoPoint(0, 0),
        GeoPoint(1, -1),
        [],
        [1],
        [1, 2],
        [2],
        Vector([5.0]),
        Vector([1.0, 2.0]),
        Vector([2.0, 1.0]),
        {},
        {"a": 1},
        {"b": 0},
    ]
    # Ids in reverse so that the name tie-breaker can't produce the expected order.
    ids = [f"v{len(ordered) - i:02d}" for i in range(len(ordered))]
    _write_all(fs_client, coll, {i: {"v": v} for i, v in zip(ids, ordered, strict=True)})
    assert _ids(coll.order_by("v")) == ids
    assert _ids(coll.order_by("v", direction=DESC)) == ids[::-1]
    numbers = coll.where(filter=FieldFilter("v", ">=", -math.inf)).where(
        filter=FieldFilter("v", "<", 3)
    )
    assert _ids(numbers) == ids[4:9]


@pytest.fixture
def numbered(fs_client: firestore.Client, coll: Any) -> Any:
    _write_all(fs_client, coll, {f"n{i:02d}": {"n": i, "odd": i % 2} for i in range(1, 11)})
    return coll.order_by("n")


def test_cursor_variants(numbered: Any) -> None:
    def ns(query: Any) -> list[int]:
        return [d.get("n") for d in query.get()]

    assert ns(numbered.start_at({"n": 3}).end_before({"n": 6})) == [3, 4, 5]
    assert ns(numbered.start_after({"n": 3}).end_at({"n": 6})) == [4, 5, 6]
    assert ns(numbered.start_after({"n": 8})) == [9, 10]
    assert ns(numbered.end_at({"n": 2})) == [1, 2]
    assert ns(numbered.start_at({"n": 4}).offset(2).limit(3)) == [6, 7, 8]
    assert ns(numbered.limit_to_last(3)) == [8, 9, 10]


def test_cursor_on_multiple_fields(fs_client: firestore.Client, coll: Any) -> None:
    _write_all(fs_client, coll, {f"x{i}": {"a": i // 3, "b": i % 3} for i in range(9)})
    query = coll.order_by("a").order_by("b", direction=DESC)
    after = query.start_after({"a": 1, "b": 1})
    assert [(d.get("a"), d.get("b")) for d in after.limit(3).stream()] == [(1, 0), (2, 2), (2, 1)]
    prefix = query.start_at({"a": 2})
    assert [(d.get("a"), d.get("b")) for d in prefix.stream()] == [(2, 2), (2, 1), (2, 0)]


def test_projections(fs_client: firestore.Client, coll: Any) -> None:
    coll.document("p").set({"a": 1, "b": 2, "m": {"x": 1, "y": 2}})
    (doc,) = coll.select(["a", "m.x"]).stream()
    assert doc.to_dict() == {"a": 1, "m": {"x": 1}}
    (name_only,) = coll.select([]).stream()
    assert name_only.exists and name_only.id == "p" and name_only.to_dict() == {}


def test_collection_group_queries(
    fs_client: firestore.Client, fs_gapic: FirestoreClient, unique: Callable[[str], str]
) -> None:
    group, c1, c2 = unique("g"), unique("c1"), unique("c2")
    docs = {
        f"{c1}/x/{group}/1": 1,
        f"{c2}/y/{group}/2": 2,
        f"{group}/3": 3,
        f"{c1}/x/{group}/1/{group}/4": 4,
        f"{c1}/x/other/5": 5,
    }
    for path, v in docs.items():
        fs_client.document(path).set({"v": v})
    group_query = fs_client.collection_group(group)
    assert sorted(d.get("v") for d in group_query.stream()) == [1, 2, 3, 4]
    filtered = group_query.where(filter=FieldFilter("v", ">", 1)).order_by("v", direction=DESC)
    assert [d.get("v") for d in filtered.stream()] == [4, 3, 2]
    responses = fs_gapic.run_query(
        request={
            "parent": fs_client.document(f"{c1}/x")._document_path,
            "structured_query": {"from_": [{"collection_id": group, "all_descendants": True}]},
        }
    )
    found = sorted(r.document.fields["v"].integer_value for r in responses if r.document.name)
    assert found == [1, 4]


def _kindless(gapic: FirestoreClient, parent: str, **query: Any) -> list[str]:
    responses = gapic.run_query(
        request={
            "parent": parent,
            "structured_query": {"from_": [{"all_descendants": True}], **query},
        }
    )
    return [r.document.name.split("/documents/", 1)[1] for r in responses if r.document.name]


def test_kindless_queries_return_every_descendant_in_name_order(
    fs_emulator_host: str, fs_gapic: FirestoreClient, unique: Callable[[str], str]
) -> None:
    # A project of its own: a query at the root sees every document of the database.
    client = firestore.Client(project=unique("kindless"))
    paths = ["top/a", "top/a/sub/x", "top/a/sub/x/deep/y", "top/b/other/z", "else/q", "top/a0/s/w"]
    for path in paths:
        client.document(path).set({"v": 1})
    root = f"{client._database_string}/documents"
    assert _kindless(fs_gapic, root) == [
        "else/q",
        "top/a",
        "top/a/sub/x",
        "top/a/sub/x/deep/y",
        "top/a0/s/w",
        "top/b/other/z",
    ]
    assert _kindless(fs_gapic, f"{root}/top/a") == ["top/a/sub/x", "top/a/sub/x/deep/y"]
    assert _kindless(fs_gapic, root, limit=2) == ["else/q", "top/a"]
    top = client.collection("top")
    recursive = [d.reference.path for d in top.recursive().stream()]
    assert recursive == [
        "top/a",
        "top/a/sub/x",
        "top/a/sub/x/deep/y",
        "top/a0/s/w",
        "top/b/other/z",
    ]
    assert client.recursive_delete(top) == 5
    assert _kindless(fs_gapic, root) == ["else/q"]


# `__id<int64>__` ids are numeric: before every string id, by value among themselves.
NUMERIC_IDS = ["__id-9223372036854775808__", "__id-10__", "__id-3__", "__id5__", "__id10__"]
STRING_IDS = ["0", "A", "Aristotle", "_", "__", "____", "__a", "__id5", "`", "a"]


def test_numeric_ids_order_before_string_ids(fs_client: firestore.Client, coll: Any) -> None:
    ordered = NUMERIC_IDS + STRING_IDS
    _write_all(fs_client, coll, {i: {"r": coll.document(i)} for i in reversed(ordered)})
    assert _ids(coll.order_by("__name__")) == ordered
    assert _ids(coll) == ordered
    assert _ids(coll.order_by("r")) == ordered
    assert _ids(coll.order_by("r", direction=DESC)) == ordered[::-1]
    assert [d.id for d in coll.list_documents()] == ordered
    name = "__name__"
    at = coll.order_by(name).start_at({name: coll.document("__id-3__")})
    assert _ids(at) == ordered[2:]
    assert _ids(coll.order_by(name).end_before({name: coll.document("0")})) == NUMERIC_IDS
    after = coll.where(filter=FieldFilter(name, ">", coll.document("__id5__")))
    assert _ids(after) == ordered[4:]
    refs = coll.where(filter=FieldFilter("r", "<", coll.document("A")))
    assert _ids(refs) == [*NUMERIC_IDS, "0"]


def test_recursive_queries_see_numeric_and_string_ids(
    fs_client: firestore.Client, coll: Any
) -> None:
    # The client brackets recursive() with start_at(<parent>/__id-9223372036854775808__).
    paths = ["Aristotle", "a", "0", "__id5__", "__id-3__", "__id5__/s/__id1__", "__id5__/s/b"]
    for path in paths:
        coll.document(path).set({"v": 1})
    recursive = [d.reference.path.split("/", 1)[1] for d in coll.recursive().stream()]
    assert recursive == [
        "__id-3__",
        "__id5__",
        "__id5__/s/__id1__",
        "__id5__/s/b",
        "0",
        "Aristotle",
        "a",
    ]
    sub = [d.id for d in coll.document("__id5__").collection("s").recursive().stream()]
    assert sub == ["__id1__", "b"]
    assert fs_client.recursive_delete(coll.document("__id5__")) == 3
    assert fs_client.recursive_delete(coll) == 4
    assert list(coll.recursive().stream()) == []


NAME_ASC = {"field": {"field_path": "__name__"}, "direction": "ASCENDING"}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            {"order_by": [{**NAME_ASC, "direction": "DESCENDING"}]},
            "kind is required for all orders except __key__ ascending",
        ),
        (
            {"order_by": [{**NAME_ASC, "field": {"field_path": "v"}}]},
            "kind is required for all orders except __key__ ascending",
        ),
        (
            {
                "where": {
                    "field_filter": {
                        "field": {"field_path": "v"},
                        "op": "EQUAL",
                        "value": {"integer_value": 1},
                    }
                }
            },
            "kind is required for filter: v",
        ),
        ({"order_by": [NAME_ASC]}, None),
    ],
    ids=["name-descending", "field-order", "field-filter", "name-ascending"],
)
def test_kindless_queries_order_and_filter_only_by_name(
    fs_emulator_host: str,
    fs_gapic: FirestoreClient,
    unique: Callable[[str], str],
    query: Any,
    message: str | None,
) -> None:
    # At the root of a project of its own (under a document, Google's emulator answers some
    # of these with a different, emulator-only message).
    client = firestore.Client(project=unique("kindless"))
    client.document("c/a").set({"v": 1})
    parent = f"{client._database_string}/documents"
    if message is None:
        assert _kindless(fs_gapic, parent, **query) == ["c/a"]
        return
    with pytest.raises(exceptions.InvalidArgument) as raised:
        _kindless(fs_gapic, parent, **query)
    assert raised.value.message == message
