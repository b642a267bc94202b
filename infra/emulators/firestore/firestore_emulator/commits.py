"""Commit and BatchWrite: lock, stage, install atomically."""

from collections.abc import Sequence

import grpc

from . import pb
from .errors import RpcError, aborted, invalid
from .locks import LockOwner, next_age
from .store import Database
from .transactions import Txn, check_alive, finish, lookup
from .values import micros_to_timestamp
from .writes import check_write_names, stage_writes

READ_ONLY_WRITE = "Cannot modify entities in a read-only transaction."


def commit(
    db: Database, writes: Sequence[pb.Write], tid: bytes = b""
) -> tuple[pb.Timestamp, list[pb.WriteResult]]:
    """Apply `writes` atomically; return (commit_time Timestamp, [WriteResult])."""
    names = check_write_names(writes, db.root)
    with db.mutex:
        txn = lookup(db, tid) if tid else None
        if txn is not None and txn.read_only:
            finish(db, txn)
            if names:
                raise invalid(READ_ONLY_WRITE)
            return micros_to_timestamp(db.read_time()), []
        if txn is not None:
            check_alive(txn)
        if not names:
            if txn is not None:
                finish(db, txn)
            return micros_to_timestamp(db.read_time()), []
        return _locked_commit(db, txn, writes, names)


def _locked_commit(
    db: Database, txn: Txn | None, writes: Sequence[pb.Write], names: list[str]
) -> tuple[pb.Timestamp, list[pb.WriteResult]]:
    owner = txn if txn is not None else LockOwner(next_age())
    try:
        for name in sorted(set(names)):
            if not db.locks.acquire(owner, name):
                raise aborted(f"Commit aborted: {owner.doomed}. Retry the request.")
        commit_us = db.next_commit_time()
        commit_time = micros_to_timestamp(commit_us)
        staged, results = stage_writes(writes, db.read, commit_time)
        if staged:
            db.install(staged, commit_us)
    except RpcError as exc:
        if txn is not None and exc.code != grpc.StatusCode.ABORTED:
            # A failed commit ends the transaction; keep it registered so Rollback works.
            db.locks.doom(txn, f"commit failed: {exc.message}")
        elif txn is None:
            db.locks.release_all(owner)
        raise
    if txn is not None:
        finish(db, txn)
    else:
        db.locks.release_all(owner)
    return commit_time, results


def batch_write(
    db: Database, writes: Sequence[pb.Write]
) -> tuple[list[pb.WriteResult], list[pb.Status]]:
    """Apply each write on its own; return ([WriteResult], [google.rpc.Status])."""
    names = check_write_names(writes, db.root)
    if len(set(names)) != len(names):
        raise invalid("BatchWrite does not allow more than one write per document.")
    results: list[pb.WriteResult] = []
    statuses: list[pb.Status] = []
    for w in writes:
        try:
            _, (result,) = commit(db, [w])
            results.append(result)
            statuses.append(pb.Status(code=0))
        except RpcError as exc:
            results.append(pb.WriteResult())
            statuses.append(pb.Status(code=exc.code.value[0], message=exc.message))
    return results, statuses
