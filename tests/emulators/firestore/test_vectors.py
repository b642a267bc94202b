"""Vector values and find_nearest: measures, thresholds, filters, dimensions, errors."""

from __future__ import annotations

import math
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.base_vector_query import DistanceMeasure
from google.cloud.firestore_v1.vector import Vector

EUCLIDEAN, COSINE, DOT = (
    DistanceMeasure.EUCLIDEAN,
    DistanceMeasure.COSINE,
    DistanceMeasure.DOT_PRODUCT,
)
QUERY = Vector([1.0, 0.0])
ROOT2, ROOT5 = math.sqrt(2), math.sqrt(5)


@pytest.fixture
def vectors(coll: Any) -> Any:
    docs: dict[str, dict[str, Any]] = {
        "a": {"e": Vector([1.0, 0.0]), "k": 1},
        "b": {"e": Vector([0.0, 1.0]), "k": 2},
        "c": {"e": Vector([2.0, 2.0]), "k": 1},
        "f": {"e": Vector([0.0, 0.0]), "k": 1},
        "h": {"e": Vector([3.0, -1.0]), "k": 1},
        # Skipped by every search for [1, 0]: another dimension, not a vector, no field.
        "d": {"e": Vector([1.0, 0.0, 0.0]), "k": 1},
        "g": {"e": [1.0, 0.0], "k": 1},
        "i": {"k": 1},
    }
    for doc_id, data in docs.items():
        coll.document(doc_id).set(data)
    return coll


def _found(query: Any) -> list[tuple[str, Any]]:
    return [(d.id, d.get("dist")) for d in query.stream()]


def _nearest(query: Any, measure: DistanceMeasure, **kwargs: Any) -> list[tuple[str, Any]]:
    kwargs.setdefault("limit", 10)
    vq = query.find_nearest(
        "e", QUERY, distance_measure=measure, distance_result_field="dist", **kwargs
    )
    return _found(vq)


def _assert_distances(got: list[tuple[str, Any]], want: list[tuple[str, float]]) -> None:
    assert [i for i, _ in got] == [i for i, _ in want]
    for (_, g), (_, w) in zip(got, want, strict=True):
        assert math.isnan(g) if math.isnan(w) else g == pytest.approx(w)


def test_vector_round_trips(coll: Any) -> None:
    coll.document("v").set({"e": Vector([0.5, -1.25, 3.0])})
    value = coll.document("v").get().get("e")
    assert isinstance(value, Vector)
    assert list(value) == [0.5, -1.25, 3.0]


MEASURES = {
    # Ties (c and h; b and f) come in name order.
    "euclidean": (EUCLIDEAN, [("a", 0.0), ("f", 1.0), ("b", ROOT2), ("c", ROOT5), ("h", ROOT5)]),
    # 1 - cos; a zero vector has no direction: NaN, last.
    "cosine": (
        COSINE,
        [
            ("a", 0.0),
            ("h", 1 - 3 / math.sqrt(10)),
            ("c", 1 - 1 / ROOT2),
            ("b", 1.0),
            ("f", math.nan),
        ],
    ),
    # A larger dot product is nearer.
    "dot_product": (DOT, [("h", 3.0), ("c", 2.0), ("a", 1.0), ("b", 0.0), ("f", 0.0)]),
}


@pytest.mark.parametrize("measure", list(MEASURES))
def test_find_nearest_orders_by_distance(vectors: Any, measure: str) -> None:
    distance_measure, want = MEASURES[measure]
    _assert_distances(_nearest(vectors, distance_measure), want)


def test_find_nearest_limit_keeps_the_nearest(vectors: Any) -> None:
    _assert_distances(_nearest(vectors, EUCLIDEAN, limit=2), [("a", 0.0), ("f", 1.0)])


THRESHOLDS = {
    "euclidean": (EUCLIDEAN, ROOT2, ["a", "f", "b"]),  # distance <= threshold
    "cosine": (COSINE, 0.5, ["a", "h", "c"]),  # NaN passes no threshold
    "dot_product": (DOT, 2.0, ["h", "c"]),  # dot product >= threshold
}


@pytest.mark.parametrize("measure", list(THRESHOLDS))
def test_find_nearest_distance_threshold(vectors: Any, measure: str) -> None:
    distance_measure, threshold, want = THRESHOLDS[measure]
    got = _nearest(vectors, distance_measure, distance_threshold=threshold)
    assert [i for i, _ in got] == want


def test_find_nearest_after_where_filter(vectors: Any) -> None:
    query = vectors.where(filter=FieldFilter("k", "==", 1))
    got = _nearest(query, EUCLIDEAN)
    _assert_distances(got, [("a", 0.0), ("f", 1.0), ("c", ROOT5), ("h", ROOT5)])


def test_find_nearest_with_inequality_filter(vectors: Any) -> None:
    query = vectors.where(filter=FieldFilter("k", ">", 1))
    _assert_distances(_nearest(query, EUCLIDEAN), [("b", ROOT2)])


def test_find_nearest_only_matches_its_dimension(vectors: Any) -> None:
    vq = vectors.find_nearest(
        "e",
        Vector([0.0, 0.0, 1.0]),
        distance_measure=EUCLIDEAN,
        limit=5,
        distance_result_field="dist",
    )
    _assert_distances(_found(vq), [("d", ROOT2)])


def test_find_nearest_distance_field_replaces_a_field(vectors: Any) -> None:
    vq = vectors.find_nearest(
        "e", QUERY, distance_measure=EUCLIDEAN, limit=1, distance_result_field="k"
    )
    (doc,) = vq.stream()
    assert doc.to_dict() == {"e": Vector([1.0, 0.0]), "k": 0.0}
    assert vectors.document("a").get().get("k") == 1  # the stored document is unchanged


def test_find_nearest_without_distance_field(vectors: Any) -> None:
    vq = vectors.find_nearest("e", QUERY, distance_measure=DOT, limit=1)
    assert [(d.id, d.to_dict()) for d in vq.stream()] == [("h", {"e": Vector([3.0, -1.0]), "k": 1})]


def test_find_nearest_in_collection_group(fs_client: firestore.Client, vectors: Any) -> None:
    group = fs_client.collection_group(vectors.id)
    vq = group.find_nearest("e", QUERY, distance_measure=EUCLIDEAN, limit=2)
    assert [d.id for d in vq.stream()] == ["a", "f"]


def test_find_nearest_limit_of_1000_is_allowed(vectors: Any) -> None:
    assert len(_nearest(vectors, EUCLIDEAN, limit=1000)) == 5


LIMIT = "FindNearest.limit must be a positive integer of no more than 1000"
BAD_QUERIES = {
    "limit-0": (lambda c: c, {"limit": 0}, LIMIT),
    "limit-1001": (lambda c: c, {"limit": 1001}, LIMIT),
    "query-limit": (lambda c: c.limit(2), {}, "A query limit cannot be used with FindNearest"),
    "offset": (lambda c: c.offset(1), {}, "A query offset cannot be used with FindNearest"),
    "cursor": (
        lambda c: c.order_by("__name__").start_after({"__name__": "a"}),
        {},
        "A cursor cannot be used with FindNearest",
    ),
    "empty-vector": (
        lambda c: c,
        {"query_vector": Vector([])},
        "Cannot have a zero length vector.",
    ),
    "threshold-nan": (
        lambda c: c,
        {"distance_threshold": math.nan},
        "distanceThreshold must be a finite number.",
    ),
    "reserved-result-field": (
        lambda c: c,
        {"distance_result_field": "__name__"},
        'The distanceResultField.property.name "__name__" is reserved.',
    ),
}


@pytest.mark.parametrize("case", list(BAD_QUERIES))
def test_find_nearest_rejects_bad_requests(vectors: Any, case: str) -> None:
    shape, overrides, message = BAD_QUERIES[case]
    kwargs: dict[str, Any] = {"query_vector": QUERY, "distance_measure": EUCLIDEAN, "limit": 3}
    kwargs.update(overrides)
    with pytest.raises(exceptions.InvalidArgument) as raised:
        list(shape(vectors).find_nearest("e", **kwargs).stream())
    assert message in str(raised.value)


BAD_VECTORS = {
    "int-element": ([1, 2], "Vector must only contain values of type 'double'"),
    "string-element": ([1.0, "x"], "Vector must only contain values of type 'double'"),
    "not-an-array": (5, "Vector Value type must be an array."),
    "empty": ([], "Cannot have a zero length vector."),
    "2049-dimensions": ([1.0] * 2049, "Vectors must be at most 2048 dimensions."),
}


@pytest.mark.parametrize("case", list(BAD_VECTORS))
def test_malformed_vector_is_not_stored(coll: Any, case: str) -> None:
    value, message = BAD_VECTORS[case]
    with pytest.raises(exceptions.InvalidArgument) as raised:
        coll.document("v").set({"e": {"__type__": "__vector__", "value": value}})
    assert message in str(raised.value)
    assert not coll.document("v").get().exists


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"__type__": "__vector__"}, "Vector map is missing key 'value'."),
        (
            {"__type__": "__vector__", "value": [1.0], "x": 1},
            "Vector Value map has extraneous entries.",
        ),
    ],
    ids=["missing-value", "extra-entry"],
)
def test_malformed_vector_map_is_not_stored(coll: Any, data: dict[str, Any], message: str) -> None:
    with pytest.raises(exceptions.InvalidArgument) as raised:
        coll.document("v").set({"nested": {"e": data}})
    assert message in str(raised.value)


def test_vector_of_2048_dimensions_is_stored(coll: Any) -> None:
    coll.document("v").set({"e": Vector([0.25] * 2048)})
    assert len(coll.document("v").get().get("e")) == 2048


def test_vectors_order_by_dimension_then_elements_between_arrays_and_maps(coll: Any) -> None:
    docs: dict[str, Any] = {
        "arr": [9.0, 9.0, 9.0, 9.0],
        "v1": Vector([3.0]),
        "v2a": Vector([2.0, 2.0]),
        "v3a": Vector([1.0, 2.0, 3.0]),
        "v3b": Vector([2.0, 2.0, 3.0]),
        "empty_map": {},
        "map": {"a": 1},
    }
    for doc_id, value in reversed(docs.items()):
        coll.document(doc_id).set({"e": value})
    ordered = list(docs)
    assert [d.id for d in coll.order_by("e").stream()] == ordered
    desc = coll.order_by("e", direction=firestore.Query.DESCENDING)
    assert [d.id for d in desc.stream()] == ordered[::-1]
    # Range filters stay within their type: vectors only.
    at_least = coll.where(filter=FieldFilter("e", ">=", Vector([3.0])))
    assert [d.id for d in at_least.stream()] == ["v1", "v2a", "v3a", "v3b"]
    longer = coll.where(filter=FieldFilter("e", ">", Vector([2.0, 5.0])))
    assert [d.id for d in longer.stream()] == ["v3a", "v3b"]
