"""ListDocuments (incl. show_missing) and ListCollectionIds."""

from collections.abc import Callable, Iterator
from typing import TypeVar

from . import pb
from .errors import invalid
from .paths import check_parent
from .query import mask_paths, project
from .reads import resolve_scope
from .store import Database
from .values import Key, name_key, timestamp_to_micros

_SortKey = TypeVar("_SortKey", Key, str)


def _existing_under(db: Database, prefix: str, at: int | None) -> Iterator[str]:
    return (n for n in db.names_under(prefix) if db.read(n, at) is not None)


def list_documents(db: Database, req: pb.ListDocumentsRequest) -> pb.ListDocumentsResponse:
    check_parent(req.parent)
    if not req.collection_id:
        raise invalid("collection_id is required.")
    if req.page_size < 0:
        raise invalid("page_size must not be negative.")
    prefix = f"{req.parent}/{req.collection_id}/"
    with db.mutex:
        scope = resolve_scope(db, req)
        if req.show_missing:
            # A "missing" document does not exist but has documents beneath it.
            names = {
                prefix + n[len(prefix) :].split("/", 1)[0]
                for n in _existing_under(db, prefix, scope.at)
            }
        else:
            coll = prefix[:-1]
            names = {n for n in db.collection_names(coll) if db.read(n, scope.at) is not None}
        page, token = _page(sorted(names, key=name_key), req.page_token, req.page_size, name_key)
        docs = [(n, db.read(n, scope.at)) for n in page]
    paths = mask_paths(req.mask) if req.HasField("mask") else None
    out = pb.ListDocumentsResponse(next_page_token=token)
    for name, doc in docs:
        out.documents.append(pb.Document(name=name) if doc is None else project(doc, paths))
    return out


def list_collection_ids(
    db: Database, req: pb.ListCollectionIdsRequest
) -> pb.ListCollectionIdsResponse:
    check_parent(req.parent)
    prefix = req.parent + "/"
    at = timestamp_to_micros(req.read_time) if req.HasField("read_time") else None
    with db.mutex:
        ids = {n[len(prefix) :].split("/", 1)[0] for n in _existing_under(db, prefix, at)}
    page, token = _page(sorted(ids), req.page_token, req.page_size, lambda s: s)
    return pb.ListCollectionIdsResponse(collection_ids=page, next_page_token=token)


def _page(
    items: list[str], token: str, size: int, key: Callable[[str], _SortKey]
) -> tuple[list[str], str]:
    """Resume after `token` (the last item of the previous page); page_size 0 means all."""
    if token:
        after = key(token)
        items = [i for i in items if key(i) > after]
    if size and len(items) > size:
        return items[:size], items[size - 1]
    return items, ""
