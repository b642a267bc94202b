"""Reads under a consistency selector: latest, read_time snapshot, or a transaction.

Read-write transactions lock what they read; read-only transactions read their snapshot.
A read-write transaction that lost a lock conflict still gets its read answered (from the
latest committed state) and learns about the abort at Commit, which is where the client
libraries retry ABORTED; its commit can then never apply on that stale read.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from . import pb
from .paths import FieldPath, check_parent
from .query import run_query
from .store import Database
from .transactions import Txn, begin, lookup
from .values import micros_to_timestamp, timestamp_to_micros

# The requests that carry a consistency selector; only some of them can begin a transaction.
BeginsTransaction = pb.BatchGetDocumentsRequest | pb.RunQueryRequest | pb.RunAggregationQueryRequest
SelectsConsistency = BeginsTransaction | pb.GetDocumentRequest | pb.ListDocumentsRequest


@dataclass
class Scope:
    txn: Txn | None = None
    at: int | None = None  # snapshot time in µs; None reads the latest state
    new_id: bytes | None = None  # set when the request began the transaction

    @property
    def locking(self) -> bool:
        return self.txn is not None and not self.txn.read_only and self.txn.doomed is None

    def read_time(self, db: Database) -> pb.Timestamp:
        return micros_to_timestamp(self.at if self.at is not None else db.read_time())


def resolve_scope(db: Database, req: SelectsConsistency) -> Scope:
    """Interpret the request's consistency selector; call with db.mutex held."""
    kind = req.WhichOneof("consistency_selector")
    if kind == "transaction":
        txn = lookup(db, req.transaction)
        return Scope(txn=txn, at=txn.snapshot)
    if kind == "new_transaction":
        assert isinstance(req, BeginsTransaction)  # the others have no new_transaction
        txn = begin(db, req.new_transaction)
        return Scope(txn=txn, at=txn.snapshot, new_id=txn.id)
    if kind == "read_time":
        return Scope(at=timestamp_to_micros(req.read_time))
    return Scope()


def read_documents(db: Database, scope: Scope, names: list[str]) -> list[pb.Document | None]:
    """Documents (or None) for `names`; locks them first inside a read-write transaction."""
    if scope.locking:
        assert scope.txn is not None
        for name in sorted(set(names)):
            if not db.locks.acquire(scope.txn, name):
                break
    return [db.read(name, scope.at) for name in names]


def query_documents(
    db: Database,
    scope: Scope,
    parent: str,
    sq: pb.StructuredQuery,
    aggregated: Iterable[FieldPath] = (),
) -> list[pb.Document]:
    """Run a query; in a read-write transaction, lock every returned document.

    Waiting for a lock releases the mutex, so the query is re-run until every document
    it returns is locked by this transaction (and therefore current).
    """
    check_parent(parent)
    while True:
        docs = run_query(db, parent, sq, scope.at, aggregated)
        if not scope.locking:
            return docs
        assert scope.txn is not None
        missing = sorted({d.name for d in docs} - scope.txn.held)
        if not missing:
            return docs
        for name in missing:
            if not db.locks.acquire(scope.txn, name):
                break
