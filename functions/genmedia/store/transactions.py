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
        # The library reports two outages as ValueError; raise the real error (a 503, retry
        # later; nothing was committed): its retries ran out on contention ("failed to commit
        # in N attempts", from the last ABORTED), or BeginTransaction itself failed (Firestore
        # unreachable) and its rollback raised "no transaction ID" over that error.
        cause = exc.__cause__ if exc.__cause__ is not None else exc.__context__
        if isinstance(cause, GoogleAPIError):
            raise cause from None
        raise
    return result
