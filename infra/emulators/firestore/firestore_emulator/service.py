"""The google.firestore.v1.Firestore methods, on raw protobuf requests and responses."""

import secrets
import string
from collections.abc import Iterator

from . import pb
from .aggregation import aggregate, aggregated_fields, aliases
from .commits import batch_write, commit
from .errors import invalid, not_found
from .listen import Listener
from .listing import list_collection_ids, list_documents
from .paths import check_document_name, check_parent, split_database
from .query import mask_paths, project, projection
from .reads import Scope, query_documents, read_documents, resolve_scope
from .store import Database, Store
from .transactions import begin, finish

_ID_ALPHABET = string.ascii_letters + string.digits


def auto_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(20))


class FirestoreService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def db(self, name: str) -> Database:
        return self.store.get(*split_database(name))

    def _read(
        self,
        db: Database,
        req: pb.GetDocumentRequest | pb.BatchGetDocumentsRequest,
        names: list[str],
    ) -> tuple[Scope, list[pb.Document | None]]:
        for name in names:
            check_document_name(name)
        with db.mutex:
            scope = resolve_scope(db, req)
            return scope, read_documents(db, scope, names)

    def get_document(self, req: pb.GetDocumentRequest) -> pb.Document:
        db = self.db(req.name)
        _, (doc,) = self._read(db, req, [req.name])
        if doc is None:
            raise not_found(f'Document "{req.name}" not found.')
        return project(doc, mask_paths(req.mask) if req.HasField("mask") else None)

    def batch_get_documents(
        self, req: pb.BatchGetDocumentsRequest
    ) -> Iterator[pb.BatchGetDocumentsResponse]:
        db = self.db(req.database)
        scope, docs = self._read(db, req, list(req.documents))
        paths = mask_paths(req.mask) if req.HasField("mask") else None
        read_time = scope.read_time(db)
        for i, (name, doc) in enumerate(zip(req.documents, docs, strict=True)):
            resp = pb.BatchGetDocumentsResponse(read_time=read_time)
            if doc is None:
                resp.missing = name
            else:
                resp.found.CopyFrom(project(doc, paths))
            if i == 0 and scope.new_id:
                resp.transaction = scope.new_id
            yield resp
        if not docs and scope.new_id:
            yield pb.BatchGetDocumentsResponse(transaction=scope.new_id, read_time=read_time)

    def run_query(self, req: pb.RunQueryRequest) -> Iterator[pb.RunQueryResponse]:
        db = self.db(req.parent)
        sq = req.structured_query
        with db.mutex:
            scope = resolve_scope(db, req)
            docs = query_documents(db, scope, req.parent, sq)
            read_time = scope.read_time(db)
        paths = projection(sq)
        for i, doc in enumerate(docs):
            resp = pb.RunQueryResponse(document=project(doc, paths), read_time=read_time)
            if i == 0 and scope.new_id:
                resp.transaction = scope.new_id
            yield resp
        if not docs:
            yield pb.RunQueryResponse(read_time=read_time, transaction=scope.new_id or b"")

    def run_aggregation_query(
        self, req: pb.RunAggregationQueryRequest
    ) -> Iterator[pb.RunAggregationQueryResponse]:
        db = self.db(req.parent)
        saq = req.structured_aggregation_query
        names = aliases(saq.aggregations)  # before the query, which may lock documents
        with db.mutex:
            scope = resolve_scope(db, req)
            fields = aggregated_fields(saq.aggregations)
            docs = query_documents(db, scope, req.parent, saq.structured_query, fields)
            read_time = scope.read_time(db)
        yield pb.RunAggregationQueryResponse(
            result=aggregate(docs, saq.aggregations, names),
            read_time=read_time,
            transaction=scope.new_id or b"",
        )

    def begin_transaction(self, req: pb.BeginTransactionRequest) -> pb.BeginTransactionResponse:
        db = self.db(req.database)
        with db.mutex:
            txn = begin(db, req.options if req.HasField("options") else None)
        return pb.BeginTransactionResponse(transaction=txn.id)

    def rollback(self, req: pb.RollbackRequest) -> pb.Empty:
        db = self.db(req.database)
        with db.mutex:
            txn = db.txns.get(req.transaction)
            if txn is None:
                raise invalid("The referenced transaction has expired or is no longer valid.")
            finish(db, txn)
        return pb.Empty()

    def commit(self, req: pb.CommitRequest) -> pb.CommitResponse:
        db = self.db(req.database)
        commit_time, results = commit(db, req.writes, req.transaction)
        return pb.CommitResponse(write_results=results, commit_time=commit_time)

    def batch_write(self, req: pb.BatchWriteRequest) -> pb.BatchWriteResponse:
        results, statuses = batch_write(self.db(req.database), req.writes)
        return pb.BatchWriteResponse(write_results=results, status=statuses)

    def create_document(self, req: pb.CreateDocumentRequest) -> pb.Document:
        check_parent(req.parent)
        if not req.collection_id:
            raise invalid("collection_id is required.")
        name = f"{req.parent}/{req.collection_id}/{req.document_id or auto_id()}"
        write = pb.Write(current_document=pb.Precondition(exists=False))
        write.update.name = name
        write.update.fields.MergeFrom(req.document.fields)
        return self._write_and_read(name, write, req)

    def update_document(self, req: pb.UpdateDocumentRequest) -> pb.Document:
        write = pb.Write(update=req.document)
        if req.HasField("update_mask"):
            write.update_mask.CopyFrom(req.update_mask)
        if req.HasField("current_document"):
            write.current_document.CopyFrom(req.current_document)
        return self._write_and_read(req.document.name, write, req)

    def _write_and_read(
        self, name: str, write: pb.Write, req: pb.CreateDocumentRequest | pb.UpdateDocumentRequest
    ) -> pb.Document:
        db = self.db(name)
        commit(db, [write])
        with db.mutex:
            doc = db.read(name)
        assert doc is not None  # a successful create or update leaves the document in place
        return project(doc, mask_paths(req.mask) if req.HasField("mask") else None)

    def delete_document(self, req: pb.DeleteDocumentRequest) -> pb.Empty:
        write = pb.Write(delete=req.name)
        if req.HasField("current_document"):
            write.current_document.CopyFrom(req.current_document)
        commit(self.db(req.name), [write])
        return pb.Empty()

    def list_documents(self, req: pb.ListDocumentsRequest) -> pb.ListDocumentsResponse:
        return list_documents(self.db(req.parent), req)

    def list_collection_ids(self, req: pb.ListCollectionIdsRequest) -> pb.ListCollectionIdsResponse:
        return list_collection_ids(self.db(req.parent), req)

    def listen(self, requests: Iterator[pb.ListenRequest]) -> Listener:
        return Listener(self.store, requests)
