"""Transactions: serializability under contention, locking, read-only snapshots, ids."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import firestore
from google.cloud.firestore_v1.services.firestore import FirestoreClient

LOCKED_WAIT_S = 0.8  # long enough for a blocked read to have finished had it not waited


PESSIMISTIC_LOCKS = pytest.mark.production_rule(
    "server client libraries' transactions take pessimistic locks, so concurrent "
    "read-modify-write transactions queue behind each other; Google's emulator aborts most "
    "of them, and @transactional gives up after 5 attempts. "
    "https://cloud.google.com/firestore/docs/transaction-data-contention"
)


def _increment(client: firestore.Client, ref: firestore.DocumentReference) -> int:
    @firestore.transactional
    def run(tx: firestore.Transaction) -> int:
        snap = ref.get(transaction=tx)
        value = int(snap.get("n")) + 1
        tx.update(ref, {"n": value})
        return value

    return int(run(client.transaction()))


@PESSIMISTIC_LOCKS
def test_fifty_concurrent_transactional_increments(
    fs_client: firestore.Client, coll: Any, run_threads: Callable[..., list[Any]]
) -> None:
    ref = coll.document("counter")
    ref.set({"n": 0})
    results = run_threads([lambda: _increment(fs_client, ref)] * 50)
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    assert ref.get().get("n") == 50
    # Every transaction saw a distinct committed value: no two applied on the same read.
    assert sorted(results) == list(range(1, 51))


@PESSIMISTIC_LOCKS
def test_transfers_across_two_documents_stay_consistent(
    fs_client: firestore.Client, coll: Any, run_threads: Callable[..., list[Any]]
) -> None:
    a, b = coll.document("a"), coll.document("b")
    a.set({"n": 100})
    b.set({"n": 100})

    def transfer(src: Any, dst: Any) -> None:
        @firestore.transactional
        def run(tx: firestore.Transaction) -> None:
            s, d = src.get(transaction=tx), dst.get(transaction=tx)
            tx.update(src, {"n": s.get("n") - 1})
            tx.update(dst, {"n": d.get("n") + 1})

        run(fs_client.transaction())

    # Opposite lock orders provoke deadlocks that must be resolved by aborting and retrying.
    targets = [lambda: transfer(a, b), lambda: transfer(b, a)] * 6
    results = run_threads(targets)
    assert [r for r in results if isinstance(r, Exception)] == []
    assert a.get().get("n") + b.get().get("n") == 200
    assert a.get().get("n") == 100


class _Holder:
    """Runs a read-write transaction that reads `ref` and keeps it locked until released."""

    def __init__(self, client: firestore.Client, ref: Any, fail: bool = False) -> None:
        self.locked = threading.Event()
        self.release = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(client, ref, fail))
        self.thread.start()
        assert self.locked.wait(10), "holder could not read the document"

    def _run(self, client: firestore.Client, ref: Any, fail: bool) -> None:
        @firestore.transactional
        def run(tx: firestore.Transaction) -> None:
            snap = ref.get(transaction=tx)
            self.locked.set()
            self.release.wait(30)
            if fail:
                raise RuntimeError("holder gives up")
            tx.update(ref, {"n": snap.get("n") + 10})

        try:
            run(client.transaction())
        except BaseException as exc:
            self.error = exc

    def finish(self) -> None:
        self.release.set()
        self.thread.join(30)


def test_conflicting_read_waits_for_the_lock_then_sees_the_commit(
    fs_client: firestore.Client, coll: Any
) -> None:
    ref = coll.document("doc")
    ref.set({"n": 1})
    holder = _Holder(fs_client, ref)
    seen: list[int] = []
    waiter = threading.Thread(target=lambda: seen.append(_increment(fs_client, ref)))
    waiter.start()
    time.sleep(LOCKED_WAIT_S)
    assert seen == [], "a conflicting transactional read must wait for the lock"
    holder.finish()
    waiter.join(30)
    assert holder.error is None
    assert seen == [12]
    assert ref.get().get("n") == 12


def test_lock_wait_times_out_with_aborted(fs_client: firestore.Client, coll: Any) -> None:
    ref = coll.document("doc")
    ref.set({"n": 1})
    holder = _Holder(fs_client, ref)
    try:
        started = time.monotonic()
        with pytest.raises((exceptions.Aborted, ValueError)) as info:

            @firestore.transactional
            def run(tx: firestore.Transaction) -> None:
                snap = ref.get(transaction=tx)
                tx.update(ref, {"n": snap.get("n") + 100})

            run(fs_client.transaction(max_attempts=1))
        error = info.value
        # The client reports a failed commit as ValueError caused by the ABORTED status.
        assert isinstance(error, exceptions.Aborted) or isinstance(
            error.__cause__, exceptions.Aborted
        )
        assert time.monotonic() - started >= 1.0, "aborted without waiting for the lock"
    finally:
        holder.finish()
    assert holder.error is None
    assert ref.get().get("n") == 11


def test_rollback_releases_locks(fs_client: firestore.Client, coll: Any) -> None:
    ref = coll.document("doc")
    ref.set({"n": 1})
    holder = _Holder(fs_client, ref, fail=True)
    done: list[float] = []

    def waiter() -> None:
        _increment(fs_client, ref)
        done.append(time.monotonic())

    thread = threading.Thread(target=waiter)
    thread.start()
    time.sleep(LOCKED_WAIT_S)
    assert done == []
    released = time.monotonic()
    holder.finish()
    thread.join(30)
    assert isinstance(holder.error, RuntimeError)
    assert done and done[0] - released < 2.0, "waiter was not released by the rollback"
    assert ref.get().get("n") == 2


def test_query_in_transaction_locks_returned_documents(
    fs_client: firestore.Client, coll: Any
) -> None:
    ref = coll.document("doc")
    ref.set({"n": 1, "kind": "x"})
    locked, release = threading.Event(), threading.Event()

    @firestore.transactional
    def reader(tx: firestore.Transaction) -> None:
        docs = list(tx.get(coll.where(filter=firestore.FieldFilter("kind", "==", "x"))))
        locked.set()
        release.wait(30)
        tx.update(ref, {"n": docs[0].get("n") * 10})

    thread = threading.Thread(target=lambda: reader(fs_client.transaction()))
    thread.start()
    assert locked.wait(10)
    writes: list[Any] = []
    writer = threading.Thread(
        target=lambda: writes.append(ref.update({"n": firestore.Increment(1)}))
    )
    writer.start()
    time.sleep(LOCKED_WAIT_S)
    assert writes == [], "a plain write must wait for the transaction's lock"
    release.set()
    thread.join(30)
    writer.join(30)
    assert len(writes) == 1
    assert ref.get().get("n") == 11  # 1 * 10 by the transaction, then + 1


def test_read_only_transaction_reads_a_snapshot(fs_client: firestore.Client, coll: Any) -> None:
    a, b = coll.document("a"), coll.document("b")
    a.set({"v": 1})
    b.set({"v": 1})

    @firestore.transactional
    def read_both(tx: firestore.Transaction) -> tuple[int, int, int]:
        first = a.get(transaction=tx).get("v")
        a.update({"v": 2})
        b.update({"v": 2})
        second = b.get(transaction=tx).get("v")
        count = len(list(tx.get(coll.where(filter=firestore.FieldFilter("v", "==", 1)))))
        return first, second, count

    assert read_both(fs_client.transaction(read_only=True)) == (1, 1, 2)
    assert b.get().get("v") == 2


def test_read_only_transaction_rejects_writes(fs_client: firestore.Client, coll: Any) -> None:
    tx = fs_client.transaction(read_only=True)
    with pytest.raises(ValueError):
        tx.set(coll.document("x"), {"a": 1})


def _commit(gapic: FirestoreClient, client: firestore.Client, tid: bytes) -> Any:
    return gapic.commit(request={"database": client._database_string, "transaction": tid})


def test_unknown_transaction_id_is_invalid_argument(
    fs_client: firestore.Client, fs_gapic: FirestoreClient, coll: Any
) -> None:
    bogus = b"\x00unknown-transaction"
    with pytest.raises(exceptions.InvalidArgument):
        _commit(fs_gapic, fs_client, bogus)
    with pytest.raises(exceptions.InvalidArgument):
        fs_gapic.rollback(request={"database": fs_client._database_string, "transaction": bogus})
    with pytest.raises(exceptions.InvalidArgument):
        name = f"{fs_client._database_string}/documents/{coll.id}/x"
        list(
            fs_gapic.batch_get_documents(
                request={
                    "database": fs_client._database_string,
                    "documents": [name],
                    "transaction": bogus,
                }
            )
        )


def test_finished_transaction_id_is_invalid_argument(
    fs_client: firestore.Client, fs_gapic: FirestoreClient
) -> None:
    database = fs_client._database_string
    tid = fs_gapic.begin_transaction(request={"database": database}).transaction
    _commit(fs_gapic, fs_client, tid)
    with pytest.raises(exceptions.InvalidArgument):
        _commit(fs_gapic, fs_client, tid)
    tid = fs_gapic.begin_transaction(request={"database": database}).transaction
    fs_gapic.rollback(request={"database": database, "transaction": tid})
    with pytest.raises(exceptions.InvalidArgument):
        _commit(fs_gapic, fs_client, tid)


def test_batch_get_can_begin_a_transaction(
    fs_client: firestore.Client, fs_gapic: FirestoreClient, coll: Any
) -> None:
    ref = coll.document("doc")
    ref.set({"n": 1})
    database = fs_client._database_string
    responses = list(
        fs_gapic.batch_get_documents(
            request={
                "database": database,
                "documents": [ref._document_path],
                "new_transaction": {"read_write": {}},
            }
        )
    )
    # The id comes in the first response; Google's emulator sends it on its own.
    tid = responses[0].transaction
    assert tid
    (found,) = [r.found for r in responses if r._pb.HasField("found")]
    assert found.fields["n"].integer_value == 1
    write = {"update": {"name": ref._document_path, "fields": {"n": {"integer_value": 5}}}}
    fs_gapic.commit(request={"database": database, "writes": [write], "transaction": tid})
    assert ref.get().get("n") == 5
