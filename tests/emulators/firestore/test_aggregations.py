"""Aggregations: result types, which documents a limited or ordered aggregation counts,
the aggregation list's rules.

Production answers an aggregation from the index of the fields it sums or averages, so
the query is ordered by those fields (after its explicit orders and inequality fields,
before __name__): a limit keeps their lowest values, and a document that lacks one of
them is not counted by any aggregation of the query. Google's emulator does the same.
"""

from __future__ import annotations

from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import firestore
from google.cloud.firestore_v1.base_aggregation import (
    AvgAggregation,
    CountAggregation,
    SumAggregation,
)
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.services.firestore import FirestoreClient

ASC, DESC = firestore.Query.ASCENDING, firestore.Query.DESCENDING


def _write_all(client: firestore.Client, coll: Any, docs: dict[str, dict[str, Any]]) -> None:
    batch = client.batch()
    for doc_id, data in docs.items():
        batch.set(coll.document(doc_id), data)
    batch.commit()


@pytest.fixture
def numbered(fs_client: firestore.Client, coll: Any) -> Any:
    _write_all(fs_client, coll, {f"n{i:02d}": {"n": i, "odd": i % 2} for i in range(1, 11)})
    return coll.order_by("n")


def _agg(query: Any) -> Any:
    return query.get()[0][0].value


def test_aggregations(fs_client: firestore.Client, coll: Any) -> None:
    _write_all(fs_client, coll, {"a": {"v": 1}, "b": {"v": 2}, "c": {"v": 3}, "d": {"v": "x"}})
    assert _agg(coll.count()) == 4
    total = _agg(coll.sum("v"))
    assert total == 6 and isinstance(total, int)
    average = _agg(coll.avg("v"))
    assert average == 2.0 and isinstance(average, float)
    assert _agg(coll.where(filter=FieldFilter("v", ">", 1)).count()) == 2
    assert _agg(coll.order_by("v").limit(2).sum("v")) == 3
    coll.document("e").set({"v": 1.5})
    mixed_total = _agg(coll.sum("v"))
    assert mixed_total == 7.5 and isinstance(mixed_total, float)


def _raw_aggregate(
    gapic: FirestoreClient, client: firestore.Client, coll: Any, aggregations: list[Any]
) -> Any:
    responses = gapic.run_aggregation_query(
        request={
            "parent": f"{client._database_string}/documents",
            "structured_aggregation_query": {
                "structured_query": {"from_": [{"collection_id": coll.id}]},
                "aggregations": aggregations,
            },
        }
    )
    return next(r for r in responses if r.result).result.aggregate_fields


@pytest.mark.parametrize(
    ("aggregation", "expected"),
    [
        ({"sum": {"field": {"field_path": "v"}}}, ("integer_value", 3)),
        ({"sum": {"field": {"field_path": "w"}}}, ("double_value", 1.0)),
        ({"sum": {"field": {"field_path": "nope"}}}, ("integer_value", 0)),
        ({"avg": {"field": {"field_path": "v"}}}, ("double_value", 1.5)),
        ({"avg": {"field": {"field_path": "nope"}}}, ("null_value", 0)),
    ],
    ids=["sum-int", "sum-double", "sum-none", "avg-int", "avg-none"],
)
def test_aggregation_result_types(
    fs_client: firestore.Client,
    fs_gapic: FirestoreClient,
    coll: Any,
    aggregation: Any,
    expected: tuple[str, Any],
) -> None:
    # One aggregation per query: several would count only documents that have all fields.
    _write_all(fs_client, coll, {"a": {"v": 1, "w": 1.0}, "b": {"v": 2, "w": "s"}, "c": {}})
    fields = _raw_aggregate(fs_gapic, fs_client, coll, [{"alias": "x", **aggregation}])
    kind = fields["x"]._pb.WhichOneof("value_type")
    assert (kind, getattr(fields["x"]._pb, kind)) == expected


def test_sum_overflow_becomes_double(fs_client: firestore.Client, coll: Any) -> None:
    _write_all(fs_client, coll, {"a": {"v": 2**63 - 1}, "b": {"v": 2**63 - 1}})
    total = _agg(coll.sum("v"))
    assert isinstance(total, float) and total == pytest.approx(2.0**64)


def test_count_up_to(
    fs_client: firestore.Client, fs_gapic: FirestoreClient, numbered: Any, coll: Any
) -> None:
    fields = _raw_aggregate(
        fs_gapic,
        fs_client,
        coll,
        [{"alias": "capped", "count": {"up_to": 4}}, {"alias": "all", "count": {}}],
    )
    assert fields["capped"].integer_value == 4
    assert fields["all"].integer_value == 10


COUNT: dict[str, Any] = {"count": {}}


@pytest.mark.parametrize(
    ("aggregations", "message"),
    [
        ([], "Aggregations can not be empty."),
        (
            [{"alias": "x", **COUNT}, {"alias": "x", "sum": {"field": {"field_path": "v"}}}],
            "Aggregation aliases contain duplicate alias: x.",
        ),
        # The unaliased aggregation is named field_1: N counts only unaliased aggregations.
        (
            [{"alias": "field_1", **COUNT}, COUNT],
            "Aggregation aliases contain duplicate alias: field_1.",
        ),
    ],
    ids=["empty", "duplicate", "duplicate-default"],
)
def test_invalid_aggregation_lists(
    fs_client: firestore.Client,
    fs_gapic: FirestoreClient,
    coll: Any,
    aggregations: list[Any],
    message: str,
) -> None:
    coll.document("a").set({"v": 1})
    with pytest.raises(exceptions.InvalidArgument) as raised:
        _raw_aggregate(fs_gapic, fs_client, coll, aggregations)
    assert raised.value.message == message


def test_default_aggregation_aliases(
    fs_client: firestore.Client, fs_gapic: FirestoreClient, coll: Any
) -> None:
    coll.document("a").set({"v": 1})
    fields = _raw_aggregate(fs_gapic, fs_client, coll, [COUNT, {"alias": "x", **COUNT}, COUNT])
    assert sorted(fields) == ["field_1", "field_2", "x"]


def _results(aggregation_query: Any) -> dict[str, Any]:
    return {r.alias: r.value for r in aggregation_query.get()[0]}


@pytest.fixture
def products(fs_client: firestore.Client, coll: Any) -> Any:
    """Google's system-test data: stats.product = i * j for i, j in 0..4 (sum 100), plus
    documents without the field whose names sort first."""
    docs: dict[str, dict[str, Any]] = {
        f"doc-{i}-{j}": {"a": i, "b": j, "stats": {"product": i * j}}
        for i in range(5)
        for j in range(5)
    }
    docs.update({"aaa-no-stats": {"a": 9}, "aab-other-stats": {"stats": {"sum": 1}}})
    _write_all(fs_client, coll, docs)
    return coll


def test_limited_aggregation_keeps_the_lowest_values_of_the_field(products: Any) -> None:
    assert _agg(products.sum("stats.product")) == 100
    assert _agg(products.avg("stats.product")) == 4.0
    # The 12 lowest products are 0 (nine times), 1, 2, 2; in name order they would sum to 44.
    assert _agg(products.limit(12).sum("stats.product")) == 5
    assert _agg(products.limit(12).avg("stats.product")) == 5 / 12
    assert _agg(products.offset(9).limit(3).sum("stats.product")) == 5
    # count() names no field: its limit applies in name order, over every document.
    assert _agg(products.limit(12).count()) == 12
    assert _agg(products.count()) == 27


@pytest.fixture
def xyw(fs_client: firestore.Client, coll: Any) -> Any:
    docs = {
        "a": {"x": 30, "y": 1, "w": 1},
        "b": {"x": 10, "y": 3, "w": 1},
        "c": {"x": 20, "y": 2, "w": 1},
        "d": {"x": 10, "y": 100, "w": 2},
        "e": {"x": 1000, "y": 0, "w": 0},
        "f": {"y": 5, "w": 1},  # no x
    }
    _write_all(fs_client, coll, docs)
    return coll


def test_aggregated_field_orders_after_explicit_orders(xyw: Any) -> None:
    assert _agg(xyw.limit(2).sum("x")) == 20  # b and d: x = 10, 10
    assert _agg(xyw.order_by("x", direction=DESC).limit(1).sum("x")) == 1000
    # Ties in w are broken by x in w's direction: e, then b (x = 10) ...
    assert _agg(xyw.order_by("w").limit(2).sum("x")) == 1010
    # ... and, descending, d, then a (x = 30).
    assert _agg(xyw.order_by("w", direction=DESC).limit(2).sum("x")) == 40
    assert _agg(xyw.where(filter=FieldFilter("w", "==", 1)).limit(1).sum("x")) == 10


def test_inequality_fields_order_before_aggregated_fields(xyw: Any) -> None:
    # y > 0 orders by y first: a (y = 1) has x = 30, although b and d have x = 10.
    assert _agg(xyw.where(filter=FieldFilter("y", ">", 0)).limit(1).sum("x")) == 30


def test_several_aggregations_count_only_documents_with_every_field(xyw: Any) -> None:
    query = xyw.sum("x", alias="sx")
    query.add_aggregation(CountAggregation(alias="n"))
    assert _results(query) == {"sx": 1070, "n": 5}  # f has no x
    query.add_aggregation(AvgAggregation("nope", alias="an"))
    emptied = _results(query)
    assert (emptied["sx"], emptied["n"]) == (0, 0)
    # Several fields order in field-path order (w before x), whatever the aggregation order.
    limited = xyw.limit(2).sum("x", alias="sx")
    limited.add_aggregation(SumAggregation("w", alias="sw"))
    assert _results(limited) == {"sx": 1010, "sw": 1}  # e (w = 0), then b (w = 1, lowest x)


def test_aggregated_field_may_not_follow_the_name_order(xyw: Any) -> None:
    query = xyw.order_by("__name__").sum("x")
    with pytest.raises(exceptions.InvalidArgument) as raised:
        query.get()
    assert raised.value.message.startswith(
        "This query requires an index that has fields [x] after __name__"
    )
    assert _agg(xyw.order_by("x").order_by("__name__").sum("x")) == 1070
    assert _agg(xyw.order_by("__name__").limit(2).count()) == 2
