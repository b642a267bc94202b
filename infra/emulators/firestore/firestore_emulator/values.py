"""Firestore value ordering, equality and document size.

`value_key` maps a Value to a plain Python tuple whose natural ordering is Firestore's
cross-type ordering, so sorting, cursors and filters can all use tuple comparison:
null < bool < number < timestamp < string < bytes < reference < geopoint < array < vector
< map, as Google's emulator orders them; vectors (maps with `__type__: "__vector__"`) compare
by dimension, then element by element.
"""

import math
from collections.abc import Iterable, Mapping

from . import pb
from .errors import invalid
from .paths import FieldPath, path_key
from .vectors import check_vector, is_vector_map

TYPE_NULL, TYPE_BOOL, TYPE_NUMBER, TYPE_TIMESTAMP, TYPE_STRING = 0, 1, 2, 3, 4
TYPE_BYTES, TYPE_REFERENCE, TYPE_GEO, TYPE_ARRAY, TYPE_VECTOR, TYPE_MAP = 5, 6, 7, 8, 9, 10

# NaN sorts before every other number; real numbers carry a 1 so int and float compare by value.
NAN_KEY = (TYPE_NUMBER, 0)
MAX_DOCUMENT_BYTES = 1_048_576

# Nested tuples of type tags, numbers, strings and bytes, only ever compared with each other.
Key = tuple[object, ...]


def value_key(v: pb.Value) -> Key:
    kind = v.WhichOneof("value_type")
    if kind == "integer_value":
        return (TYPE_NUMBER, 1, v.integer_value)
    if kind == "string_value":
        return (TYPE_STRING, v.string_value)
    if kind == "double_value":
        d = v.double_value
        return NAN_KEY if math.isnan(d) else (TYPE_NUMBER, 1, d)
    if kind == "boolean_value":
        return (TYPE_BOOL, v.boolean_value)
    if kind == "timestamp_value":
        return (TYPE_TIMESTAMP, v.timestamp_value.seconds, v.timestamp_value.nanos)
    if kind == "map_value":
        fields = v.map_value.fields
        if is_vector_map(v.map_value) and "value" in fields:
            elements = fields["value"].array_value.values
            return (TYPE_VECTOR, len(elements), tuple(value_key(x) for x in elements))
        return (TYPE_MAP, tuple((k, value_key(fields[k])) for k in sorted(fields)))
    if kind == "array_value":
        return (TYPE_ARRAY, tuple(value_key(x) for x in v.array_value.values))
    if kind == "bytes_value":
        return (TYPE_BYTES, v.bytes_value)
    if kind == "reference_value":
        return (TYPE_REFERENCE, path_key(v.reference_value))
    if kind == "geo_point_value":
        return (TYPE_GEO, v.geo_point_value.latitude, v.geo_point_value.longitude)
    return (TYPE_NULL,)


def reject_nested_arrays(values: Iterable[pb.Value], in_array: bool = False) -> None:
    """Production cannot store an array directly inside an array; maps in arrays are fine.

    Vector maps are checked here too, as every stored value passes this way.
    """
    for v in values:
        kind = v.WhichOneof("value_type")
        if kind == "array_value":
            if in_array:
                raise invalid("Cannot convert an array value in an array value.")
            reject_nested_arrays(v.array_value.values, in_array=True)
        elif kind == "map_value":
            if is_vector_map(v.map_value):
                check_vector(v.map_value)
            reject_nested_arrays(v.map_value.fields.values())


def name_key(name: str) -> Key:
    return (TYPE_REFERENCE, path_key(name))


def is_nan(v: pb.Value) -> bool:
    return bool(v.WhichOneof("value_type") == "double_value" and math.isnan(v.double_value))


def is_null(v: pb.Value) -> bool:
    return bool(v.WhichOneof("value_type") == "null_value")


def compare(a: Key, b: Key) -> int:
    return (a > b) - (a < b)


def get_field(fields: Mapping[str, pb.Value], path: FieldPath) -> pb.Value | None:
    """Value at `path` in a fields map, or None; never mutates the (shared) message."""
    value = None
    level: Mapping[str, pb.Value] | None = fields
    for seg in path:
        if level is None or seg not in level:
            return None
        value = level[seg]
        level = value.map_value.fields if value.WhichOneof("value_type") == "map_value" else None
    return value


def doc_field(doc: pb.Document, path: FieldPath) -> pb.Value | None:
    if path == ("__name__",):
        return pb.Value(reference_value=doc.name)
    return get_field(doc.fields, path)


def _str_size(s: str) -> int:
    return len(s.encode("utf-8")) + 1


def value_size(v: pb.Value) -> int:
    kind = v.WhichOneof("value_type")
    if kind == "string_value":
        return _str_size(v.string_value)
    if kind == "bytes_value":
        return len(v.bytes_value)
    if kind == "reference_value":
        return name_size(v.reference_value)
    if kind == "geo_point_value":
        return 16
    if kind == "array_value":
        return sum(value_size(x) for x in v.array_value.values)
    if kind == "map_value":
        return fields_size(v.map_value.fields)
    if kind in ("integer_value", "double_value", "timestamp_value"):
        return 8
    return 1


def fields_size(fields: Mapping[str, pb.Value]) -> int:
    return sum(_str_size(k) + value_size(v) for k, v in fields.items())


def name_size(name: str) -> int:
    """Storage size of a document name as documented for Firestore billing/limits."""
    rel = name.split("/documents/", 1)[-1]
    return sum(_str_size(seg) for seg in rel.split("/")) + 16


def document_size(doc: pb.Document) -> int:
    return name_size(doc.name) + fields_size(doc.fields) + 32


def micros_to_timestamp(us: int) -> pb.Timestamp:
    seconds, rem = divmod(us, 1_000_000)
    return pb.Timestamp(seconds=seconds, nanos=rem * 1000)


def timestamp_to_micros(ts: pb.Timestamp) -> int:
    return int(ts.seconds * 1_000_000 + ts.nanos // 1000)
