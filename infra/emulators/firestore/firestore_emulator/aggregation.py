"""count / sum / avg over query results with production's result-type rules."""

from collections.abc import Sequence

from . import pb
from .errors import invalid
from .paths import FieldPath, parse_field_path
from .values import get_field

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
MAX_AGGREGATIONS = 5
Aggregation = pb.StructuredAggregationQuery.Aggregation


def aliases(aggregations: Sequence[Aggregation]) -> list[str]:
    """Validate the aggregation list before the query runs; return each result's alias.

    As in production, an aggregation without an alias is named `field_N`, where N counts
    only the unaliased ones, and a default name may collide with an explicit alias.
    """
    if not aggregations:
        raise invalid("Aggregations can not be empty.")
    if len(aggregations) > MAX_AGGREGATIONS:
        raise invalid(f"An aggregation query needs 1 to {MAX_AGGREGATIONS} aggregations.")
    names: list[str] = []
    unaliased = 0
    for agg in aggregations:
        if not agg.alias:
            unaliased += 1
        names.append(agg.alias or f"field_{unaliased}")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise invalid(f"Aggregation aliases contain duplicate alias: {name}.")
        seen.add(name)
    return names


def aggregated_fields(aggregations: Sequence[Aggregation]) -> list[FieldPath]:
    """The fields summed or averaged: the query is ordered by them (query.normalized_orders)."""
    fields = []
    for agg in aggregations:
        kind = agg.WhichOneof("operator")
        if kind in ("sum", "avg"):
            field = agg.sum.field if kind == "sum" else agg.avg.field
            fields.append(parse_field_path(field.field_path))
    return fields


def aggregate(
    docs: list[pb.Document], aggregations: Sequence[Aggregation], names: list[str]
) -> pb.AggregationResult:
    result = pb.AggregationResult()
    for name, agg in zip(names, aggregations, strict=True):
        result.aggregate_fields[name].CopyFrom(_one(docs, agg))
    return result


def _one(docs: list[pb.Document], agg: Aggregation) -> pb.Value:
    kind = agg.WhichOneof("operator")
    if kind == "count":
        n = len(docs)
        if agg.count.HasField("up_to"):
            if agg.count.up_to.value <= 0:
                raise invalid("count up_to must be positive.")
            n = min(n, agg.count.up_to.value)
        return pb.Value(integer_value=n)
    if kind in ("sum", "avg"):
        field = agg.sum.field if kind == "sum" else agg.avg.field
        path = parse_field_path(field.field_path)
        ints, doubles, seen = _numbers(docs, path)
        if kind == "sum":
            return _sum_value(ints, doubles)
        if not seen:
            return pb.Value(null_value=0)
        return pb.Value(double_value=(sum(ints) + sum(doubles)) / seen)
    raise invalid("An aggregation must be count, sum or avg.")


def _numbers(docs: list[pb.Document], path: tuple[str, ...]) -> tuple[list[int], list[float], int]:
    ints: list[int] = []
    doubles: list[float] = []
    for doc in docs:
        v = get_field(doc.fields, path)
        if v is None:
            continue
        kind = v.WhichOneof("value_type")
        if kind == "integer_value":
            ints.append(v.integer_value)
        elif kind == "double_value":
            doubles.append(v.double_value)
    return ints, doubles, len(ints) + len(doubles)


def _sum_value(ints: list[int], doubles: list[float]) -> pb.Value:
    total = sum(ints)
    if not doubles and INT64_MIN <= total <= INT64_MAX:
        return pb.Value(integer_value=total)
    # Any double operand, or an int64 overflow, makes the sum a double.
    return pb.Value(double_value=float(total) + sum(doubles))
