"""Compiling StructuredQuery filters into document predicates."""

from collections.abc import Callable

from . import pb
from .errors import invalid
from .paths import FieldPath, parse_field_path
from .values import NAN_KEY, TYPE_NULL, Key, doc_field, is_nan, is_null, value_key

Predicate = Callable[[pb.Document], bool]
Getter = Callable[[pb.Document], pb.Value | None]
MAX_DISJUNCTION_VALUES = 30
RANGE_OPS: dict[int, Callable[[Key, Key], bool]] = {
    pb.OP_LT: lambda a, b: a < b,
    pb.OP_LTE: lambda a, b: a <= b,
    pb.OP_GT: lambda a, b: a > b,
    pb.OP_GTE: lambda a, b: a >= b,
}
INEQUALITY_OPS = {*RANGE_OPS, pb.OP_NEQ, pb.OP_NOT_IN}
INEQUALITY_UNARY = {pb.OP_IS_NOT_NAN, pb.OP_IS_NOT_NULL}
_NULL_KEY = (TYPE_NULL,)


def compile_filter(f: pb.StructuredQuery.Filter) -> Predicate:
    kind = f.WhichOneof("filter_type")
    if kind == "composite_filter":
        return _composite(f.composite_filter)
    if kind == "field_filter":
        return _field_filter(f.field_filter)
    if kind == "unary_filter":
        return _unary_filter(f.unary_filter)
    raise invalid("A filter must be a composite, field or unary filter.")


def inequality_fields(f: pb.StructuredQuery.Filter) -> set[FieldPath]:
    """Fields constrained by an inequality; production orders results by these first."""
    kind = f.WhichOneof("filter_type")
    if kind == "composite_filter":
        return set().union(*(inequality_fields(x) for x in f.composite_filter.filters))
    if kind == "field_filter" and f.field_filter.op in INEQUALITY_OPS:
        return {parse_field_path(f.field_filter.field.field_path)}
    if kind == "unary_filter" and f.unary_filter.op in INEQUALITY_UNARY:
        return {parse_field_path(f.unary_filter.field.field_path)}
    return set()


def filter_fields(f: pb.StructuredQuery.Filter) -> list[str]:
    """The field path text of every field and unary filter, in request order."""
    kind = f.WhichOneof("filter_type")
    if kind == "composite_filter":
        return [path for x in f.composite_filter.filters for path in filter_fields(x)]
    if kind == "field_filter":
        return [f.field_filter.field.field_path]
    if kind == "unary_filter":
        return [f.unary_filter.field.field_path]
    return []


def _composite(c: pb.StructuredQuery.CompositeFilter) -> Predicate:
    parts = [compile_filter(x) for x in c.filters]
    if not parts:
        raise invalid("A composite filter must contain at least one filter.")
    if c.op == pb.OP_AND:
        return lambda d: all(p(d) for p in parts)
    if c.op == pb.OP_OR:
        return lambda d: any(p(d) for p in parts)
    raise invalid("A composite filter must use AND or OR.")


def _getter(path_text: str) -> Getter:
    path = parse_field_path(path_text)
    return lambda d: doc_field(d, path)


def _field_filter(f: pb.StructuredQuery.FieldFilter) -> Predicate:
    get = _getter(f.field.field_path)
    op = f.op
    key = value_key(f.value)
    if op in RANGE_OPS:
        return _range(get, RANGE_OPS[op], key)
    if op == pb.OP_EQ:
        return lambda d: (v := get(d)) is not None and value_key(v) == key
    if op == pb.OP_NEQ:
        return lambda d: (v := get(d)) is not None and (k := value_key(v)) != key and k != _NULL_KEY
    if op == pb.OP_ARRAY_CONTAINS:
        return lambda d: key in _element_keys(get(d))
    keys = _disjunction_keys(f.value)
    if op == pb.OP_ARRAY_CONTAINS_ANY:
        return lambda d: not keys.isdisjoint(_element_keys(get(d)))
    if op == pb.OP_IN:
        return lambda d: (v := get(d)) is not None and value_key(v) in keys
    if op == pb.OP_NOT_IN:
        if _NULL_KEY in keys:
            return lambda d: False
        return lambda d: (
            (v := get(d)) is not None and (k := value_key(v)) not in keys and (k != _NULL_KEY)
        )
    raise invalid("Unsupported field filter operator.")


def _range(get: Getter, cmp: Callable[[Key, Key], bool], key: Key) -> Predicate:
    if key == NAN_KEY:
        return lambda d: False

    def match(d: pb.Document) -> bool:
        v = get(d)
        if v is None:
            return False
        k = value_key(v)
        # Range filters only match values of the same type class (ints and doubles share one).
        return k[0] == key[0] and k != NAN_KEY and cmp(k, key)

    return match


def _element_keys(v: pb.Value | None) -> set[Key]:
    if v is None or v.WhichOneof("value_type") != "array_value":
        return set()
    return {value_key(x) for x in v.array_value.values}


def _disjunction_keys(value: pb.Value) -> set[Key]:
    if value.WhichOneof("value_type") != "array_value" or not value.array_value.values:
        raise invalid("'IN', 'NOT_IN' and 'ARRAY_CONTAINS_ANY' require a non-empty array.")
    if len(value.array_value.values) > MAX_DISJUNCTION_VALUES:
        raise invalid(f"A disjunction supports at most {MAX_DISJUNCTION_VALUES} values.")
    return {value_key(x) for x in value.array_value.values}


def _unary_filter(f: pb.StructuredQuery.UnaryFilter) -> Predicate:
    get = _getter(f.field.field_path)
    op = f.op
    if op == pb.OP_IS_NAN:
        return lambda d: (v := get(d)) is not None and is_nan(v)
    if op == pb.OP_IS_NULL:
        return lambda d: (v := get(d)) is not None and is_null(v)
    if op == pb.OP_IS_NOT_NAN:
        return lambda d: (v := get(d)) is not None and not is_nan(v) and not is_null(v)
    if op == pb.OP_IS_NOT_NULL:
        return lambda d: (v := get(d)) is not None and not is_null(v)
    raise invalid("Unsupported unary filter operator.")
