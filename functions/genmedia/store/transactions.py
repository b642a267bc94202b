"""The one way to run a Firestore transaction: ``run_transaction(db, work)``.

``work`` receives the transaction and passes it to repository methods; the client retries
``work`` on contention (ABORTED), so it must only read and write through that transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from google.cloud import firestore

T = TypeVar("T")


def run_transaction(db: firestore.Client, work: Callable[[firestore.Transaction], T]) -> T:
    from google.api_core.exceptions import GoogleAPIError
    from google.cloud import firestore

    @firestore.transactional
    def run(txn: firestore.Transaction) -> T:
        return work(txn)

    try:
        result: T = run(db.transaction())
    except ValueError as exc:
        # When BeginTransaction itself fails (Firestore unreachable), the library's rollback
        # raises "no transaction ID" over the real error; report the real one (a 503).
        if exc.__cause__ is None and isinstance(exc.__context__, GoogleAPIError):
            raise exc.__context__ from None
        raise
    return result
