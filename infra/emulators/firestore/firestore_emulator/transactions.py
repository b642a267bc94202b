"""Transaction lifecycle: begin, lookup, finish and idle expiry (all under the db mutex)."""

import os
import struct
import time

from . import pb
from .errors import aborted, invalid
from .locks import LockOwner, next_age
from .store import Database
from .values import timestamp_to_micros

IDLE_EXPIRY_S = 60.0
_INVALID = "The referenced transaction has expired or is no longer valid."


class Txn(LockOwner):
    def __init__(self, tid: bytes, age: int, read_only: bool, snapshot: int | None) -> None:
        super().__init__(age)
        self.id = tid
        self.read_only = read_only
        self.snapshot = snapshot
        self.last_used = time.monotonic()


def begin(db: Database, options: pb.TransactionOptions | None) -> Txn:
    """Start a transaction from TransactionOptions (read_write by default)."""
    if options is not None and options.HasField("read_only"):
        ro = options.read_only
        at = timestamp_to_micros(ro.read_time) if ro.HasField("read_time") else db.last_commit
        return _register(db, Txn(_new_id(next_age()), next_age(), True, at))
    age = next_age()
    retry = options.read_write.retry_transaction if options is not None else b""
    if len(retry) == 16:
        # A retried transaction keeps its original age so it wins deadlock tie-breaks.
        age = min(age, struct.unpack(">Q", retry[:8])[0])
    return _register(db, Txn(_new_id(age), age, False, None))


def _new_id(age: int) -> bytes:
    return struct.pack(">Q", age) + os.urandom(8)


def _register(db: Database, txn: Txn) -> Txn:
    db.txns[txn.id] = txn
    return txn


def lookup(db: Database, tid: bytes) -> Txn:
    txn = db.txns.get(tid)
    if txn is None:
        raise invalid(_INVALID)
    txn.last_used = time.monotonic()
    return txn


def finish(db: Database, txn: Txn) -> None:
    db.locks.release_all(txn)
    db.txns.pop(txn.id, None)


def check_alive(txn: Txn) -> None:
    """Raise ABORTED if the transaction lost a lock conflict.

    The aborted transaction stays registered (holding no locks) so the client's usual
    Rollback after a failed attempt succeeds; it is dropped on rollback or idle expiry.
    """
    if txn.doomed is not None:
        raise aborted(f"Transaction aborted: {txn.doomed}. Retry the transaction.")


def expire_idle(db: Database) -> None:
    limit = time.monotonic() - IDLE_EXPIRY_S
    for txn in list(db.txns.values()):
        if txn.waiting is None and txn.last_used < limit:
            db.locks.doom(txn, "transaction expired")
            db.txns.pop(txn.id, None)


def abort_all(db: Database, reason: str) -> None:
    for txn in list(db.txns.values()):
        db.locks.doom(txn, reason)
    db.txns.clear()
