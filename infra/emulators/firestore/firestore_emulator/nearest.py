"""StructuredQuery.find_nearest: exact k-nearest-neighbour search over a query's matches.

Production answers from a vector index (approximate); an exact scan gives the same
answer on the small data sets tests use, as Google's emulator does. Documents whose
vector field is missing, not a vector, or of another dimension than the query vector
are skipped, as in production.
"""

import math
import re

from . import pb
from .errors import invalid
from .paths import parse_field_path
from .values import doc_field, name_key
from .vectors import MEASURES, Vector, check_vector, is_vector_map, vector_of

MAX_LIMIT = 1000
_RESERVED = re.compile(r"__.*__")


def check_find_nearest(sq: pb.StructuredQuery) -> Vector:
    """Validate find_nearest (messages as Google's emulator gives); return the query vector."""
    fn = sq.find_nearest
    if not fn.vector_field.field_path:
        raise invalid("Invalid empty property path string.")
    target = _query_vector(fn)
    if fn.distance_measure not in MEASURES:
        raise invalid("Unknown Distance Measure.")
    if not fn.HasField("limit") or not 1 <= fn.limit.value <= MAX_LIMIT:
        raise invalid(f"FindNearest.limit must be a positive integer of no more than {MAX_LIMIT}")
    if fn.HasField("distance_threshold") and not math.isfinite(fn.distance_threshold.value):
        raise invalid("distanceThreshold must be a finite number.")
    if _RESERVED.fullmatch(fn.distance_result_field):
        raise invalid(
            f'The distanceResultField.property.name "{fn.distance_result_field}" is reserved.'
        )
    if sq.HasField("limit"):
        raise invalid("A query limit cannot be used with FindNearest")
    if sq.offset:
        raise invalid("A query offset cannot be used with FindNearest")
    if sq.HasField("start_at") or sq.HasField("end_at"):
        raise invalid("A cursor cannot be used with FindNearest")
    return target


def _query_vector(fn: pb.StructuredQuery.FindNearest) -> Vector:
    qv = fn.query_vector
    kind = qv.WhichOneof("value_type")
    if kind is None:
        raise invalid("Cannot convert firestore.v1.Value with type unset.")
    if kind != "map_value" or not is_vector_map(qv.map_value):
        raise invalid("Query Value must be of type vector.")
    check_vector(qv.map_value)
    vector = vector_of(qv)
    assert vector is not None  # checked just above
    return vector


def nearest(docs: list[pb.Document], sq: pb.StructuredQuery) -> list[pb.Document]:
    """The `limit` documents nearest the query vector, nearest first (ties by name).

    For DOT_PRODUCT a larger value is nearer. A threshold keeps distances <= it
    (EUCLIDEAN, COSINE) or >= it (DOT_PRODUCT); NaN (COSINE of a zero vector) sorts last
    and passes no threshold.
    """
    target = check_find_nearest(sq)
    fn = sq.find_nearest
    measure = MEASURES[fn.distance_measure]
    larger_is_nearer = fn.distance_measure == pb.DISTANCE_DOT_PRODUCT
    path = parse_field_path(fn.vector_field.field_path)
    scored: list[tuple[float, pb.Document]] = []
    for doc in docs:
        vector = vector_of(doc_field(doc, path))
        if vector is not None and len(vector) == len(target):
            scored.append((measure(vector, target), doc))
    if fn.HasField("distance_threshold"):
        limit = fn.distance_threshold.value
        scored = [(d, doc) for d, doc in scored if (d >= limit if larger_is_nearer else d <= limit)]
    sign = -1.0 if larger_is_nearer else 1.0
    # Name order first; the stable sort by distance then breaks ties by name.
    scored.sort(key=lambda s: name_key(s[1].name))
    scored.sort(key=lambda s: (math.isnan(s[0]), 0.0 if math.isnan(s[0]) else sign * s[0]))
    return [_with_distance(doc, d, fn.distance_result_field) for d, doc in scored[: fn.limit.value]]


def _with_distance(doc: pb.Document, distance: float, field: str) -> pb.Document:
    if not field:
        return doc
    out = pb.Document()
    out.CopyFrom(doc)  # stored documents are shared and never mutated
    out.fields[field].double_value = distance
    return out
