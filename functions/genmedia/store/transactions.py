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
    from google.cloud import firestore

    @firestore.transactional
    def run(txn: firestore.Transaction) -> T:
        return work(txn)

    result: T = run(db.transaction())
    return result
