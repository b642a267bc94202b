"""Evaluating a StructuredQuery: scope, filters, ordering, cursors, offset/limit, projection."""

from collections.abc import Iterable, Set

from . import pb
from .errors import invalid
from .filters import compile_filter, filter_fields, inequality_fields
from .nearest import check_find_nearest, nearest
from .paths import NAME_FIELD, FieldPath, collection_of, parse_field_path
from .store import Database
from .transforms import set_field
from .values import Key, compare, doc_field, get_field, value_key

Order = tuple[FieldPath, bool]  # (field path, descending)
Row = tuple[tuple[Key, ...], pb.Document]  # (order keys, document)


def normalized_orders(sq: pb.StructuredQuery, aggregated: Iterable[FieldPath] = ()) -> list[Order]:
    """Explicit orders, then unordered inequality fields, then __name__ (production's rule).

    An aggregation query also orders by every field it sums or averages, after the
    inequality fields (production scans the index of those fields). So a limit keeps the
    lowest values, and a document that lacks one of those fields is not counted at all.
    """
    orders: list[Order] = [
        (parse_field_path(o.field.field_path), o.direction == pb.DIR_DESCENDING)
        for o in sq.order_by
    ]
    explicit = {path for path, _ in orders}
    last_desc = orders[-1][1] if orders else False
    implicit = inequality_fields(sq.where) if sq.HasField("where") else set()
    inequalities = sorted(implicit - explicit - {NAME_FIELD})
    # Names are unique, so nothing can follow the name in an index.
    if NAME_FIELD in explicit and (orders[-1][0] != NAME_FIELD or inequalities):
        raise invalid("order by clause cannot contain more fields after the key")
    orders += [(path, last_desc) for path in inequalities]
    unordered = sorted(set(aggregated) - {path for path, _ in orders} - {NAME_FIELD})
    if unordered and NAME_FIELD in explicit:
        fields = ", ".join(".".join(path) for path in unordered)
        raise invalid(
            f"This query requires an index that has fields [{fields}] after __name__ and "
            "Firestore does not currently support such an index. Please try the query "
            "again with additional ordering on those fields."
        )
    orders += [(path, last_desc) for path in unordered]
    if NAME_FIELD not in explicit:
        orders.append((NAME_FIELD, last_desc))
    return orders


def candidates(
    db: Database, parent: str, sq: pb.StructuredQuery, at: int | None
) -> list[pb.Document]:
    if len(sq.from_) != 1:
        raise invalid("A query must select exactly one collection.")
    selector = sq.from_[0]
    cid = selector.collection_id
    names: Iterable[str]
    if selector.all_descendants:
        if not cid:
            _check_kindless(sq)
        names = db.group_names(parent, cid)
        prefix = parent + "/"
        indexed = _indexed(db, sq, cid, at, len(db.by_group.get(cid, ())))
        if indexed is not None:
            names = [n for n in indexed if n.startswith(prefix)]
    elif cid:
        collection = f"{parent}/{cid}"
        names = db.collection_names(collection)
        indexed = _indexed(db, sq, cid, at, len(db.by_collection.get(collection, ())))
        if indexed is not None:
            names = [n for n in indexed if collection_of(n) == collection]
    else:
        raise invalid("A collection query needs a collection id.")
    docs = (db.read(n, at) for n in names)
    return [d for d in docs if d is not None]


def _indexed(
    db: Database, sq: pb.StructuredQuery, cid: str, at: int | None, scan: int
) -> Set[str] | None:
    """The smallest equality index match among the query's `==` filters, if it is smaller
    than the `scan` of its scope; None: scan. Only the latest state is indexed."""
    if at is not None or not cid or not sq.HasField("where"):
        return None
    best: Set[str] | None = None
    for path, key in equalities(sq.where):
        names = db.equal_names(cid, path, key)
        if best is None or len(names) < len(best):
            best = names
    return best if best is not None and len(best) < scan else None


def equalities(f: pb.StructuredQuery.Filter) -> list[tuple[FieldPath, Key]]:
    """(field, value key) of the `==` field filters every match must satisfy (ANDed)."""
    kind = f.WhichOneof("filter_type")
    if kind == "composite_filter" and f.composite_filter.op == pb.OP_AND:
        return [e for x in f.composite_filter.filters for e in equalities(x)]
    if kind == "field_filter" and f.field_filter.op == pb.OP_EQ:
        path = parse_field_path(f.field_filter.field.field_path)
        if path != NAME_FIELD:
            return [(path, value_key(f.field_filter.value))]
    return []


def _check_kindless(sq: pb.StructuredQuery) -> None:
    """A query over every descendant (no collection id) may only use the document name.

    Documents of different collections share no index but the name one, so production and
    Google's emulator reject other orders and filters (in Datastore terms: __key__).
    """
    for o in sq.order_by:
        if parse_field_path(o.field.field_path) != NAME_FIELD or o.direction == pb.DIR_DESCENDING:
            raise invalid("kind is required for all orders except __key__ ascending")
    for path in filter_fields(sq.where) if sq.HasField("where") else []:
        if parse_field_path(path) != NAME_FIELD:
            raise invalid(f"kind is required for filter: {path}")


def run_query(
    db: Database,
    parent: str,
    sq: pb.StructuredQuery,
    at: int | None,
    aggregated: Iterable[FieldPath] = (),
) -> list[pb.Document]:
    """Matching documents in order, after cursors, offset and limit (not yet projected).

    `aggregated`: the fields an aggregation sums or averages (see normalized_orders).
    """
    predicate = compile_filter(sq.where) if sq.HasField("where") else None
    if sq.HasField("find_nearest"):
        check_find_nearest(sq)  # before any document is read
        matches = [d for d in candidates(db, parent, sq, at) if predicate is None or predicate(d)]
        return nearest(matches, sq)
    orders = normalized_orders(sq, aggregated)
    rows: list[Row] = []
    for doc in candidates(db, parent, sq, at):
        if predicate is not None and not predicate(doc):
            continue
        keys = _order_keys(doc, orders)
        if keys is not None:
            rows.append((keys, doc))
    for i in range(len(orders) - 1, -1, -1):
        rows.sort(key=lambda r: r[0][i], reverse=orders[i][1])
    rows = _apply_cursors(rows, sq, orders)
    if sq.offset < 0 or (sq.HasField("limit") and sq.limit.value < 0):
        raise invalid("offset and limit must not be negative.")
    rows = rows[sq.offset :]
    if sq.HasField("limit"):
        rows = rows[: sq.limit.value]
    return [doc for _, doc in rows]


def _order_keys(doc: pb.Document, orders: list[Order]) -> tuple[Key, ...] | None:
    keys = []
    for path, _ in orders:
        v = doc_field(doc, path)
        if v is None:
            return None  # ordering by a field excludes documents that lack it
        keys.append(value_key(v))
    return tuple(keys)


def _apply_cursors(rows: list[Row], sq: pb.StructuredQuery, orders: list[Order]) -> list[Row]:
    if sq.HasField("start_at"):
        start = _cursor_keys(sq.start_at, orders)
        inclusive = sq.start_at.before
        rows = [r for r in rows if _position(r[0], start, orders) >= (0 if inclusive else 1)]
    if sq.HasField("end_at"):
        end = _cursor_keys(sq.end_at, orders)
        inclusive = not sq.end_at.before
        rows = [r for r in rows if _position(r[0], end, orders) <= (0 if inclusive else -1)]
    return rows


def _cursor_keys(cursor: pb.Cursor, orders: list[Order]) -> list[Key]:
    if len(cursor.values) > len(orders):
        raise invalid("Too many cursor values specified. The specified order by clause has fewer.")
    return [value_key(v) for v in cursor.values]


def _position(keys: tuple[Key, ...], cursor: list[Key], orders: list[Order]) -> int:
    """<0 if the row sorts before the cursor, 0 if at it, >0 if after (in query order)."""
    for i, ck in enumerate(cursor):
        c = compare(keys[i], ck)
        if c:
            return -c if orders[i][1] else c
    return 0


def projection(sq: pb.StructuredQuery) -> list[FieldPath] | None:
    if not sq.HasField("select"):
        return None
    return [parse_field_path(f.field_path) for f in sq.select.fields]


def mask_paths(mask: pb.DocumentMask) -> list[FieldPath]:
    return [parse_field_path(p) for p in mask.field_paths]


def project(doc: pb.Document, paths: list[FieldPath] | None) -> pb.Document:
    """A copy of `doc` holding only `paths` (None keeps every field; shares `doc`)."""
    if paths is None:
        return doc
    out = pb.Document(name=doc.name, create_time=doc.create_time, update_time=doc.update_time)
    for path in paths:
        if path == NAME_FIELD:
            continue
        value = get_field(doc.fields, path)
        if value is not None:
            set_field(out.fields, path, value)
    return out
