"""Vector values: a map `{"__type__": "__vector__", "value": [double, ...]}`.

Production and Google's emulator store a vector as that map and check its shape on every
write, so a stored vector is always well formed and `vector_of` can simply read it.
"""

import math
from collections.abc import Callable, Sequence

from . import pb
from .errors import invalid

VECTOR_TYPE = "__vector__"
MAX_DIMENSIONS = 2048
Vector = list[float]
Measure = Callable[[Sequence[float], Sequence[float]], float]


def is_vector_map(m: pb.MapValue) -> bool:
    fields = m.fields
    # `in` first: indexing a message map would insert the key into a shared document.
    return "__type__" in fields and fields["__type__"].string_value == VECTOR_TYPE


def check_vector(m: pb.MapValue) -> None:
    """Reject a malformed vector map with the message Google's emulator gives."""
    if "value" not in m.fields:
        raise invalid("Vector map is missing key 'value'.")
    if len(m.fields) != 2:
        raise invalid("Vector Value map has extraneous entries.")
    value = m.fields["value"]
    if value.WhichOneof("value_type") != "array_value":
        raise invalid("Vector Value type must be an array.")
    elements = value.array_value.values
    if any(x.WhichOneof("value_type") != "double_value" for x in elements):
        raise invalid("Vector must only contain values of type 'double'")
    if not elements:
        raise invalid("Cannot have a zero length vector.")
    if len(elements) > MAX_DIMENSIONS:
        raise invalid(f"Vectors must be at most {MAX_DIMENSIONS} dimensions.")


def vector_of(v: pb.Value | None) -> Vector | None:
    """The components of a stored vector value, or None if `v` is not a vector."""
    if v is None or v.WhichOneof("value_type") != "map_value" or not is_vector_map(v.map_value):
        return None
    return [x.double_value for x in v.map_value.fields["value"].array_value.values]


def euclidean(a: Sequence[float], b: Sequence[float]) -> float:
    return math.sqrt(sum((x - y) * (x - y) for x, y in zip(a, b, strict=True)))


def dot_product(a: Sequence[float], b: Sequence[float]) -> float:
    return math.fsum(x * y for x, y in zip(a, b, strict=True))


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """1 - cos(a, b); NaN when either vector is zero, as Google's emulator answers."""
    norms = math.sqrt(dot_product(a, a)) * math.sqrt(dot_product(b, b))
    return 1.0 - dot_product(a, b) / norms if norms else math.nan


MEASURES: dict[int, Measure] = {
    pb.DISTANCE_EUCLIDEAN: euclidean,
    pb.DISTANCE_COSINE: cosine,
    pb.DISTANCE_DOT_PRODUCT: dot_product,
}
