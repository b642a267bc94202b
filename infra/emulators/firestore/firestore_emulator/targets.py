"""Listen targets: what a target matches at a time, and the changes between two states.

A target is a set of document names or a query. Its state is the documents it matches,
by name; the changes that take a client from one state to the next are a DocumentChange
per new or updated document, and a DocumentDelete (deleted) or DocumentRemove (no longer
matching) per document that left, as production sends them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from . import pb
from .errors import invalid
from .paths import check_document_name, check_parent, collection_id_of, collection_of
from .query import project, projection, run_query
from .store import Database
from .values import name_key

Results = dict[str, pb.Document]


@dataclass
class WatchTarget:
    target_id: int
    spec: pb.Target
    relevant: Callable[[str], bool]  # may a change to this document name affect the target?
    docs: Results = field(default_factory=dict)  # the state the client was last sent


def make_target(db: Database, spec: pb.Target, target_id: int) -> WatchTarget:
    """Validate a target and work out which document names can affect it."""
    kind = spec.WhichOneof("target_type")
    if kind == "documents":
        names = set(spec.documents.documents)
        for name in names:
            check_document_name(name)
            if not name.startswith(db.root + "/"):
                raise invalid(f'Document "{name}" is not in database "{db.root}".')
        return WatchTarget(target_id, spec, names.__contains__)
    if kind == "query":
        check_parent(spec.query.parent)
        selectors = spec.query.structured_query.from_
        if len(selectors) != 1:
            raise invalid("A query must select exactly one collection.")
        return WatchTarget(target_id, spec, _in_scope(spec.query.parent, selectors[0]))
    raise invalid("A target must be a query or a set of documents.")


def _in_scope(
    parent: str, selector: pb.StructuredQuery.CollectionSelector
) -> Callable[[str], bool]:
    collection_id = selector.collection_id
    if not selector.all_descendants:
        collection = f"{parent}/{collection_id}"
        return lambda name: collection_of(name) == collection
    prefix = parent + "/"
    return lambda name: (
        name.startswith(prefix) and (not collection_id or collection_id_of(name) == collection_id)
    )


def evaluate(db: Database, target: WatchTarget, at: int | None) -> Results:
    """The documents the target matches at `at` (None: now); call with db.mutex held."""
    spec = target.spec
    if spec.WhichOneof("target_type") == "documents":
        docs = (db.read(name, at) for name in spec.documents.documents)
        return {d.name: d for d in docs if d is not None}
    query = spec.query
    sq = query.structured_query
    paths = projection(sq)
    return {d.name: project(d, paths) for d in run_query(db, query.parent, sq, at)}


def changes(
    db: Database, target: WatchTarget, new: Results, read_time: pb.Timestamp
) -> list[pb.ListenResponse]:
    """The responses that take a client from `target.docs` to `new`, in name order.

    Call with db.mutex held, right after evaluating `new`, so a document that left is
    reported as deleted exactly when it no longer exists.
    """
    ids = [target.target_id]
    out: list[tuple[str, pb.ListenResponse]] = []
    for name, doc in new.items():
        old = target.docs.get(name)
        if old is None or old.update_time != doc.update_time:
            change = pb.DocumentChange(document=doc, target_ids=ids)
            out.append((name, pb.ListenResponse(document_change=change)))
    for name in target.docs.keys() - new.keys():
        if db.read(name) is None:
            gone = pb.DocumentDelete(document=name, removed_target_ids=ids, read_time=read_time)
            out.append((name, pb.ListenResponse(document_delete=gone)))
        else:
            left = pb.DocumentRemove(document=name, removed_target_ids=ids, read_time=read_time)
            out.append((name, pb.ListenResponse(document_remove=left)))
    out.sort(key=lambda item: name_key(item[0]))
    return [resp for _, resp in out]
