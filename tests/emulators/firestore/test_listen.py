"""Listen: on_snapshot of documents, queries and collections; raw stream and resume tokens.

Snapshots arrive on the client's background thread; the tests wait for them on a queue
with a timeout and never assert after a fixed sleep.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.services.firestore import FirestoreClient
from google.cloud.firestore_v1.types import firestore as firestore_types

WAIT_S = 15.0
TargetChangeType = firestore_types.TargetChange.TargetChangeType


class Snapshots:
    """Collects on_snapshot callbacks; `next` waits for the next one."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[list[Any], list[Any], Any]] = queue.Queue()

    def __call__(self, docs: list[Any], changes: list[Any], read_time: Any) -> None:
        self._queue.put((docs, changes, read_time))

    def next(self) -> tuple[dict[str, Any], list[tuple[str, str]], Any]:
        """({id: data}, [(change type, id)], read_time) of the next snapshot."""
        try:
            docs, changes, read_time = self._queue.get(timeout=WAIT_S)
        except queue.Empty:
            pytest.fail(f"no snapshot within {WAIT_S} s")
        state = {d.id: d.to_dict() for d in docs if d.exists}
        return state, [(c.type.name, c.document.id) for c in changes], read_time


@pytest.fixture
def other_client(fs_client: firestore.Client) -> firestore.Client:
    """A second client: the listener sees its writes, as it would another process's."""
    return firestore.Client(project=fs_client.project)


@pytest.fixture
def snapshots() -> Iterator[Callable[[Any], Snapshots]]:
    watches: list[Any] = []

    def watch(ref: Any) -> Snapshots:
        recorder = Snapshots()
        watches.append(ref.on_snapshot(recorder))
        return recorder

    yield watch
    for w in watches:
        w.unsubscribe()


def test_document_listener_sees_changes(
    coll: Any, other_client: firestore.Client, snapshots: Callable[[Any], Snapshots]
) -> None:
    doc = coll.document("a")
    doc.set({"n": 1})
    seen = snapshots(doc)
    state, changes, first_time = seen.next()
    assert (state, changes) == ({"a": {"n": 1}}, [("ADDED", "a")])
    other = other_client.collection(coll.id).document("a")
    other.update({"n": 2})
    state, changes, read_time = seen.next()
    assert (state, changes) == ({"a": {"n": 2}}, [("MODIFIED", "a")])
    assert read_time >= first_time
    other.delete()
    assert seen.next()[:2] == ({}, [("REMOVED", "a")])
    other.set({"n": 3})
    assert seen.next()[:2] == ({"a": {"n": 3}}, [("ADDED", "a")])


def test_document_listener_on_missing_document(
    coll: Any, snapshots: Callable[[Any], Snapshots]
) -> None:
    seen = snapshots(coll.document("missing"))
    assert seen.next()[:2] == ({}, [])
    coll.document("missing").set({"x": True})
    assert seen.next()[:2] == ({"missing": {"x": True}}, [("ADDED", "missing")])


def test_query_listener_documents_enter_and_leave(
    coll: Any, other_client: firestore.Client, snapshots: Callable[[Any], Snapshots]
) -> None:
    coll.document("a").set({"k": 1})
    coll.document("b").set({"k": 2})
    seen = snapshots(coll.where(filter=FieldFilter("k", "==", 1)))
    assert seen.next()[:2] == ({"a": {"k": 1}}, [("ADDED", "a")])
    others = other_client.collection(coll.id)
    others.document("b").update({"k": 1})  # enters the result set
    assert seen.next()[:2] == ({"a": {"k": 1}, "b": {"k": 1}}, [("ADDED", "b")])
    others.document("a").update({"k": 1, "x": 0})
    assert seen.next()[:2] == ({"a": {"k": 1, "x": 0}, "b": {"k": 1}}, [("MODIFIED", "a")])
    others.document("b").update({"k": 3})  # leaves it, still exists
    assert seen.next()[:2] == ({"a": {"k": 1, "x": 0}}, [("REMOVED", "b")])
    others.document("a").delete()
    assert seen.next()[:2] == ({}, [("REMOVED", "a")])


def test_query_listener_with_order_and_limit(
    coll: Any, snapshots: Callable[[Any], Snapshots]
) -> None:
    for i in (1, 2, 3):
        coll.document(f"d{i}").set({"n": i})
    seen = snapshots(coll.order_by("n").limit(2))
    state, changes, _ = seen.next()
    assert state == {"d1": {"n": 1}, "d2": {"n": 2}}
    coll.document("d0").set({"n": 0})  # pushes d2 out of the first two
    state, changes, _ = seen.next()
    assert state == {"d0": {"n": 0}, "d1": {"n": 1}}
    assert sorted(changes) == [("ADDED", "d0"), ("REMOVED", "d2")]


def test_collection_listener(
    coll: Any, other_client: firestore.Client, snapshots: Callable[[Any], Snapshots]
) -> None:
    coll.document("b").set({"v": 1})
    seen = snapshots(coll)
    assert seen.next()[:2] == ({"b": {"v": 1}}, [("ADDED", "b")])
    others = other_client.collection(coll.id)
    batch = other_client.batch()
    batch.set(others.document("a"), {"v": 2})
    batch.set(others.document("c"), {"v": 3})
    batch.commit()  # one commit: one snapshot with both additions
    state, changes, _ = seen.next()
    assert state == {"a": {"v": 2}, "b": {"v": 1}, "c": {"v": 3}}
    assert changes == [("ADDED", "a"), ("ADDED", "c")]
    others.document("b").set({"v": 4})
    assert seen.next()[1] == [("MODIFIED", "b")]
    others.document("a").delete()
    state, changes, _ = seen.next()
    assert (sorted(state), changes) == (["b", "c"], [("REMOVED", "a")])
    # A document in a subcollection is not in the collection.
    others.document("b").collection("sub").document("x").set({"v": 5})
    others.document("c").delete()
    assert seen.next()[:2] == ({"b": {"v": 4}}, [("REMOVED", "c")])


def test_listener_is_not_blocked_by_a_transaction(
    fs_client: firestore.Client, coll: Any, snapshots: Callable[[Any], Snapshots]
) -> None:
    doc = coll.document("t")
    doc.set({"n": 0})
    transaction = fs_client.transaction()
    transaction._begin()
    try:
        doc.get(transaction=transaction)  # this emulator locks it until commit
        seen = snapshots(doc)
        assert seen.next()[0] == {"t": {"n": 0}}
        transaction.update(doc, {"n": 1})
        transaction._commit()
    finally:
        if transaction.in_progress:
            transaction._rollback()
    assert seen.next()[:2] == ({"t": {"n": 1}}, [("MODIFIED", "t")])


def test_listener_sees_transactional_increments(
    fs_client: firestore.Client, coll: Any, snapshots: Callable[[Any], Snapshots]
) -> None:
    doc = coll.document("counter")
    doc.set({"n": 0})
    seen = snapshots(doc)
    assert seen.next()[0] == {"counter": {"n": 0}}

    @firestore.transactional
    def increment(transaction: Any) -> None:
        current = doc.get(transaction=transaction).get("n")
        transaction.update(doc, {"n": current + 1})

    for _ in range(5):
        increment(fs_client.transaction())
    values = []
    while not values or values[-1] != 5:
        values.append(seen.next()[0]["counter"]["n"])
    assert values == sorted(values)


class RawListen:
    """A Listen stream through the generated client; responses are read on a thread."""

    def __init__(self, gapic: FirestoreClient, database: str, **target: Any) -> None:
        self.database = database
        self._requests: queue.Queue[firestore_types.ListenRequest | None] = queue.Queue()
        # The generated client waits for the first response before it returns the stream,
        # so the first target must already be queued.
        self.add(**target)
        self._responses: queue.Queue[Any] = queue.Queue()
        # Google's emulator answers a Listen stream only with the resource prefix header,
        # which the high-level client sends too.
        metadata = [("authorization", "Bearer owner"), ("google-cloud-resource-prefix", database)]
        self._call = gapic.listen(requests=self._request_iter(), metadata=metadata)
        threading.Thread(target=self._read, daemon=True).start()

    def _request_iter(self) -> Iterator[firestore_types.ListenRequest]:
        while (request := self._requests.get()) is not None:
            yield request

    def _read(self) -> None:
        try:
            for response in self._call:
                self._responses.put(response)
        except Exception as exc:
            self._responses.put(exc)

    def add(self, **target: Any) -> None:
        self._requests.put(firestore_types.ListenRequest(database=self.database, add_target=target))

    def next(self) -> firestore_types.ListenResponse:
        try:
            response = self._responses.get(timeout=WAIT_S)
        except queue.Empty:
            pytest.fail(f"no Listen response within {WAIT_S} s")
        assert not isinstance(response, Exception), response
        return response

    def sync(
        self, state: dict[str, Any], initial: bool = False
    ) -> tuple[firestore_types.TargetChange | None, firestore_types.TargetChange]:
        """Apply responses to `state` until a set of changes is complete.

        That is a global NO_CHANGE (no target ids), after CURRENT when the target is new
        or was RESET (Google's emulator resends a query's whole state on every change).
        Returns (the CURRENT target change or None, that NO_CHANGE).
        """
        current, awaiting_current = None, initial
        while True:
            response = self.next()
            kind = firestore_types.ListenResponse.pb(response).WhichOneof("response_type")
            if kind == "target_change":
                change = response.target_change
                if change.target_change_type == TargetChangeType.RESET:
                    state.clear()
                    awaiting_current = True
                elif change.target_change_type == TargetChangeType.CURRENT:
                    current, awaiting_current = change, False
                elif change.target_change_type == TargetChangeType.REMOVE:
                    pytest.fail(f"target removed: {change.cause}")
                elif not change.target_ids and not awaiting_current:
                    return current, change
            elif kind == "document_change":
                doc = response.document_change.document
                if response.document_change.target_ids:
                    state[doc.name] = {k: v.integer_value for k, v in doc.fields.items()}
                else:
                    state.pop(doc.name, None)
            elif kind == "document_delete":
                state.pop(response.document_delete.document, None)
            elif kind == "document_remove":
                state.pop(response.document_remove.document, None)

    def close(self) -> None:
        self._requests.put(None)
        self._call.cancel()


def _query_target(fs_client: firestore.Client, coll: Any) -> dict[str, Any]:
    parent = f"{fs_client._database_string}/documents"
    return {"parent": parent, "structured_query": {"from_": [{"collection_id": coll.id}]}}


def _ids(state: dict[str, Any]) -> dict[str, Any]:
    return {name.rsplit("/", 1)[-1]: fields for name, fields in state.items()}


def test_raw_stream_target_changes(
    fs_client: firestore.Client, fs_gapic: FirestoreClient, coll: Any
) -> None:
    coll.document("a").set({"k": 1})
    stream = RawListen(
        fs_gapic, fs_client._database_string, query=_query_target(fs_client, coll), target_id=7
    )
    try:
        added = stream.next().target_change
        assert (added.target_change_type, list(added.target_ids)) == (TargetChangeType.ADD, [7])
        state: dict[str, Any] = {}
        current, done = stream.sync(state, initial=True)
        assert current is not None and list(current.target_ids) == [7]
        assert current.resume_token and done.resume_token
        assert _ids(state) == {"a": {"k": 1}}
        write_time = coll.document("b").set({"k": 2}).update_time
        _, done = stream.sync(state)
        assert _ids(state) == {"a": {"k": 1}, "b": {"k": 2}}
        assert done.read_time >= write_time
        assert done.resume_token != current.resume_token
    finally:
        stream.close()


def test_resume_token_gives_the_changes_since(
    fs_client: firestore.Client, fs_gapic: FirestoreClient, coll: Any
) -> None:
    for doc_id in ("a", "b"):
        coll.document(doc_id).set({"k": 1})
    target = {"query": _query_target(fs_client, coll), "target_id": 1}
    state: dict[str, Any] = {}
    first = RawListen(fs_gapic, fs_client._database_string, **target)
    try:
        _, done = first.sync(state, initial=True)
    finally:
        first.close()
    coll.document("a").set({"k": 2})
    coll.document("b").delete()
    coll.document("c").set({"k": 3})
    second = RawListen(
        fs_gapic, fs_client._database_string, **target, resume_token=done.resume_token
    )
    try:
        second.sync(state, initial=True)
    finally:
        second.close()
    assert _ids(state) == {"a": {"k": 2}, "c": {"k": 3}}


def test_unset_target_id_is_assigned(
    fs_client: firestore.Client, fs_gapic: FirestoreClient, coll: Any
) -> None:
    stream = RawListen(fs_gapic, fs_client._database_string, query=_query_target(fs_client, coll))
    try:
        added = stream.next().target_change
        assert added.target_change_type == TargetChangeType.ADD
        assert list(added.target_ids) == [1]
    finally:
        stream.close()


def test_old_read_time_resets_and_sends_the_whole_state(
    fs_client: firestore.Client, fs_gapic: FirestoreClient, coll: Any
) -> None:
    coll.document("a").set({"k": 1})
    state = {"stale": {"k": 0}}  # what a client might still hold from long ago
    target = {"query": _query_target(fs_client, coll), "target_id": 2, "read_time": {"seconds": 1}}
    stream = RawListen(fs_gapic, fs_client._database_string, **target)
    try:
        stream.sync(state, initial=True)
    finally:
        stream.close()
    assert _ids(state) == {"a": {"k": 1}}


BAD_TARGETS: dict[str, Callable[[str], dict[str, Any]]] = {
    # A document name (and a query parent) needs an even number of segments.
    "document-name": lambda db: {"documents": {"documents": [f"{db}/documents/odd"]}},
    "query-parent": lambda db: {"query": {"parent": f"{db}/documents/odd"}},
}


@pytest.mark.parametrize("case", list(BAD_TARGETS))
def test_bad_target_is_added_then_removed_with_its_cause(
    fs_client: firestore.Client, fs_gapic: FirestoreClient, case: str
) -> None:
    database = fs_client._database_string
    stream = RawListen(fs_gapic, database, **BAD_TARGETS[case](database), target_id=4)
    try:
        added, removed = stream.next().target_change, stream.next().target_change
    finally:
        stream.close()
    assert (added.target_change_type, list(added.target_ids)) == (TargetChangeType.ADD, [4])
    assert (removed.target_change_type, list(removed.target_ids)) == (TargetChangeType.REMOVE, [4])
    assert removed.cause.code == 3  # INVALID_ARGUMENT
    assert "odd" in removed.cause.message
