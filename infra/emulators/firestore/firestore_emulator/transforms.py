"""Field-level mutation of a (private, not yet installed) Document, and field transforms."""

# pb.MessageMap is not subscriptable at run time: annotations here are for the type checker only.
from __future__ import annotations

import math

from . import pb
from .errors import invalid
from .paths import FieldPath
from .values import get_field, value_key

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
NULL_VALUE = pb.Value(null_value=0)


def set_field(fields: pb.MessageMap[str, pb.Value], path: FieldPath, value: pb.Value) -> None:
    for seg in path[:-1]:
        holder = fields[seg]
        if holder.WhichOneof("value_type") != "map_value":
            holder.Clear()
            holder.map_value.SetInParent()
        fields = holder.map_value.fields
    fields[path[-1]].CopyFrom(value)


def delete_field(fields: pb.MessageMap[str, pb.Value], path: FieldPath) -> None:
    for seg in path[:-1]:
        if seg not in fields or fields[seg].WhichOneof("value_type") != "map_value":
            return
        fields = fields[seg].map_value.fields
    if path[-1] in fields:
        del fields[path[-1]]


def _number(v: pb.Value | None) -> int | float | None:
    if v is None:
        return None
    kind = v.WhichOneof("value_type")
    if kind == "integer_value":
        return int(v.integer_value)
    if kind == "double_value":
        return float(v.double_value)
    return None


def _to_value(n: int | float) -> pb.Value:
    if isinstance(n, int):
        return pb.Value(integer_value=max(INT64_MIN, min(INT64_MAX, n)))
    return pb.Value(double_value=n)


def _increment(current: pb.Value | None, operand: pb.Value) -> pb.Value:
    a, b = _number(current), _number(operand)
    if b is None:
        raise invalid("Increment operand must be an integer or a double.")
    if a is None:
        return operand
    if isinstance(a, int) and isinstance(b, int):
        return _to_value(a + b)  # saturates at the int64 bounds, as production does
    return _to_value(float(a) + float(b))


def _extreme(current: pb.Value | None, operand: pb.Value, want_max: bool) -> pb.Value:
    a, b = _number(current), _number(operand)
    if b is None:
        raise invalid("Maximum/minimum operand must be an integer or a double.")
    if current is None or a is None:
        return operand
    if isinstance(a, float) and math.isnan(a):
        return current
    if isinstance(b, float) and math.isnan(b):
        return operand
    if a == b:
        return current  # equal values keep the stored one (and its type)
    return operand if (b > a) == want_max else current


def _array_values(v: pb.Value | None) -> list[pb.Value]:
    if v is not None and v.WhichOneof("value_type") == "array_value":
        return list(v.array_value.values)
    return []


def _append_missing(current: pb.Value | None, operand: pb.ArrayValue) -> pb.Value:
    values = _array_values(current)
    seen = {value_key(x) for x in values}
    for element in operand.values:
        key = value_key(element)
        if key not in seen:
            seen.add(key)
            values.append(element)
    return pb.Value(array_value=pb.ArrayValue(values=values))


def _remove_all(current: pb.Value | None, operand: pb.ArrayValue) -> pb.Value:
    drop = {value_key(x) for x in operand.values}
    kept = [x for x in _array_values(current) if value_key(x) not in drop]
    return pb.Value(array_value=pb.ArrayValue(values=kept))


def apply_transform(
    fields: pb.MessageMap[str, pb.Value],
    path: FieldPath,
    ft: pb.DocumentTransform.FieldTransform,
    request_time: pb.Timestamp,
) -> pb.Value:
    """Apply one FieldTransform in place; return its transform_result value."""
    kind = ft.WhichOneof("transform_type")
    current = get_field(fields, path)
    if kind == "set_to_server_value":
        if ft.set_to_server_value != pb.SERVER_REQUEST_TIME:
            raise invalid("Unsupported server value.")
        # Production documents REQUEST_TIME as the commit time to the millisecond only.
        millis = pb.Timestamp(
            seconds=request_time.seconds, nanos=request_time.nanos // 1_000_000 * 1_000_000
        )
        new, result = pb.Value(timestamp_value=millis), None
    elif kind == "increment":
        new = result = _increment(current, ft.increment)
    elif kind in ("maximum", "minimum"):
        operand = ft.maximum if kind == "maximum" else ft.minimum
        new = result = _extreme(current, operand, kind == "maximum")
    elif kind == "append_missing_elements":
        new, result = _append_missing(current, ft.append_missing_elements), NULL_VALUE
    elif kind == "remove_all_from_array":
        new, result = _remove_all(current, ft.remove_all_from_array), NULL_VALUE
    else:
        raise invalid("A field transform must set a transform type.")
    if new is not current:
        set_field(fields, path, new)
    return new if result is None else result
