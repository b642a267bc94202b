"""The Listen stream: targets' initial state, live changes, resume tokens.

Each stream has one queue and two threads: gRPC's worker thread runs `responses` and is
the only one that touches the stream's targets; a reader thread moves the client's
requests onto the queue. A commit tells the stream through the database's watchers
(under the database mutex) by putting the changed names on the queue, which never
blocks. The stream itself only takes the database mutex to evaluate its targets, holding
nothing else and waiting for no document lock, so it cannot deadlock with transactions.
When the RPC ends, gRPC's termination callback ends the queue, and the stream
unregisters its watcher.
"""

import queue
import struct
import threading
from collections.abc import Iterator

from . import pb
from .errors import RpcError, aborted, invalid
from .paths import split_database
from .store import RETENTION_US, Database, Store, now_us
from .targets import Results, WatchTarget, changes, evaluate, make_target
from .values import micros_to_timestamp, timestamp_to_micros

# A resume point this close to the version-retention horizon is answered with a RESET.
RESUME_MARGIN_US = 1_000_000


class _End:
    """The RPC ended (client closed or cancelled it, or the server is stopping)."""


class _Reset:
    """The database was reset: its state is gone, so the client must listen again."""


Event = pb.ListenRequest | tuple[str, ...] | _End | _Reset


class Listener:
    def __init__(self, store: Store, requests: Iterator[pb.ListenRequest]) -> None:
        self._store = store
        self._requests = requests
        self._events: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self._pending: Event | None = None
        self._db: Database | None = None
        self._targets: dict[int, WatchTarget] = {}

    def close(self) -> None:
        """Called by gRPC, on any thread, when the RPC terminates."""
        self._events.put(_End())

    def _notify(self, names: tuple[str, ...] | None) -> None:
        self._events.put(names if names is not None else _Reset())

    def responses(self) -> Iterator[pb.ListenResponse]:
        threading.Thread(target=self._read, name="firestore-listen", daemon=True).start()
        try:
            while True:
                event = self._next()
                if isinstance(event, _End):
                    return
                if isinstance(event, _Reset):
                    raise aborted("The database was reset; listen again.")
                if isinstance(event, tuple):
                    yield from self._on_commit(self._coalesce(set(event)))
                else:
                    yield from self._on_request(event)
        finally:
            self._detach()

    def _read(self) -> None:
        try:
            for request in self._requests:
                self._events.put(request)
        except Exception:  # noqa: S110 - the RPC ended (cancelled or failed): the stream is over
            pass
        finally:
            self._events.put(_End())

    def _next(self) -> Event:
        event, self._pending = self._pending, None
        return event if event is not None else self._events.get()

    def _coalesce(self, names: set[str]) -> set[str]:
        """Fold the commits already queued into one evaluation, as production batches them."""
        while self._pending is None:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                break
            if isinstance(event, tuple):
                names.update(event)
            else:
                self._pending = event
        return names

    def _attach(self, database: str) -> Database:
        if self._db is None:
            db = self._store.get(*split_database(database))
            with db.mutex:
                db.watchers.add(self._notify)
            self._db = db
        elif database and database != f"projects/{self._db.project}/databases/{self._db.database}":
            raise invalid("A Listen stream serves one database.")
        return self._db

    def _detach(self) -> None:
        if self._db is not None:
            with self._db.mutex:
                self._db.watchers.discard(self._notify)

    def _on_request(self, req: pb.ListenRequest) -> Iterator[pb.ListenResponse]:
        db = self._attach(req.database)
        kind = req.WhichOneof("target_change")
        if kind == "add_target":
            yield from self._add(db, req.add_target)
        elif kind == "remove_target":
            self._targets.pop(req.remove_target, None)
            yield _target_change(pb.TARGET_REMOVE, [req.remove_target])
        else:
            raise invalid("A ListenRequest needs add_target or remove_target.")

    def _add(self, db: Database, spec: pb.Target) -> Iterator[pb.ListenResponse]:
        tid = spec.target_id or max(self._targets, default=0) + 1
        try:
            if tid in self._targets:
                raise invalid(f"Target id {tid} is already in use on this stream.")
            target = make_target(db, spec, tid)
            with db.mutex:
                reset = _start(db, target, spec)
                new = evaluate(db, target, None)
                at = db.snapshot_time()
                diffs = changes(db, target, new, micros_to_timestamp(at))
        except RpcError as exc:
            # As Google's emulator does: the target is added, then removed with the cause.
            cause = pb.Status(code=exc.code.value[0], message=exc.message)
            yield _target_change(pb.TARGET_ADD, [tid])
            yield _target_change(pb.TARGET_REMOVE, [tid], cause=cause)
            return
        target.docs = new
        self._targets[tid] = target
        yield _target_change(pb.TARGET_ADD, [tid])
        if reset:
            yield _target_change(pb.TARGET_RESET, [tid])
        yield from diffs
        yield self._marker(pb.TARGET_CURRENT, [tid], db, at)
        yield self._marker(pb.TARGET_NO_CHANGE, [], db, at)
        if spec.once:
            del self._targets[tid]
            yield _target_change(pb.TARGET_REMOVE, [tid])

    def _on_commit(self, names: set[str]) -> Iterator[pb.ListenResponse]:
        db = self._db
        affected = [t for t in self._targets.values() if any(map(t.relevant, names))]
        if db is None or not affected:
            return
        out: list[pb.ListenResponse] = []
        with db.mutex:
            at = db.snapshot_time()
            read_time = micros_to_timestamp(at)
            for target in affected:
                new = evaluate(db, target, None)
                out += changes(db, target, new, read_time)
                target.docs = new
        if out:
            yield from out
            # A global NO_CHANGE with a read time tells the client the changes are complete.
            yield self._marker(pb.TARGET_NO_CHANGE, [], db, at)

    def _marker(self, kind: int, ids: list[int], db: Database, at: int) -> pb.ListenResponse:
        token = db.epoch + struct.pack(">Q", at)
        return _target_change(kind, ids, resume_token=token, read_time=micros_to_timestamp(at))


def _start(db: Database, target: WatchTarget, spec: pb.Target) -> bool:
    """Set what the client already has; True if it must first forget it (RESET).

    A resume token (or read_time) within version retention gives the state at that time,
    so only what changed since is sent. One from before a reset, or too old, cannot be
    honoured: the client is told to reset and gets the whole state.
    """
    at = _resume_time(db, spec)
    if at is not None and at >= now_us() - RETENTION_US + RESUME_MARGIN_US:
        target.docs = evaluate(db, target, at)
        return False
    target.docs = Results()
    return bool(spec.resume_token) or spec.HasField("read_time")


def _resume_time(db: Database, spec: pb.Target) -> int | None:
    token = spec.resume_token
    if token:
        if len(token) != 16 or token[:8] != db.epoch:
            return None
        return int(struct.unpack(">Q", token[8:])[0])
    if spec.HasField("read_time"):
        return timestamp_to_micros(spec.read_time)
    return None


def _target_change(
    kind: int,
    ids: list[int],
    cause: pb.Status | None = None,
    resume_token: bytes = b"",
    read_time: pb.Timestamp | None = None,
) -> pb.ListenResponse:
    change = pb.TargetChange(
        target_change_type=kind,
        target_ids=ids,
        cause=cause,
        resume_token=resume_token,
        read_time=read_time,
    )
    return pb.ListenResponse(target_change=change)
