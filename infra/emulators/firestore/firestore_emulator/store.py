"""In-memory multi-version document store: one `Database` per (project, database).

Each document keeps a short list of (commit_time_us, Document|None) versions so read-only
transactions and read_time reads see a consistent snapshot. Stored Document messages are
never mutated after they are installed, so readers can share them without copying.
"""

import bisect
import os
import threading
import time
from collections.abc import Callable, Iterable, Set
from typing import TYPE_CHECKING

from . import pb
from .eqindex import EqualityIndexes
from .locks import LockTable
from .paths import (
    PAST_SEGMENTS,
    FieldPath,
    collection_id_of,
    collection_of,
    documents_root,
    path_key,
)
from .values import Key

if TYPE_CHECKING:
    from .transactions import Txn

# Versions older than this are dropped unless an open read-only transaction still needs them.
RETENTION_US = 60_000_000
Version = tuple[int, pb.Document | None]
# Told, under the db mutex, the names a commit changed (None: the database was reset). It
# must not block or take a lock: it only queues the news for a Listen stream's thread.
Watcher = Callable[[tuple[str, ...] | None], None]


def now_us() -> int:
    return time.time_ns() // 1000


class Database:
    def __init__(self, project: str, database: str, lock_timeout: float) -> None:
        self.project = project
        self.database = database
        self.root = documents_root(project, database)
        self.mutex = threading.Lock()
        self.locks = LockTable(self.mutex, lock_timeout)
        self.versions: dict[str, list[Version]] = {}
        self.by_collection: dict[str, set[str]] = {}
        self.by_group: dict[str, set[str]] = {}
        # Every name in versions, in path_key order: a parent's descendants are one slice.
        self.ordered: list[str] = []
        self.equality = EqualityIndexes()
        self.txns: dict[bytes, Txn] = {}
        self.last_commit = 0
        self.dirty = True  # a fresh (or reset) database must reach the data dir too
        self.watchers: set[Watcher] = set()
        # In resume tokens, so a token from before a reset is not taken for this database's.
        self.epoch = os.urandom(8)

    # -- reads ---------------------------------------------------------------------------
    def read(self, name: str, at: int | None = None) -> pb.Document | None:
        versions = self.versions.get(name)
        if not versions:
            return None
        if at is None or versions[-1][0] <= at:
            return versions[-1][1]
        i = bisect.bisect_right(versions, at, key=lambda v: v[0])
        return versions[i - 1][1] if i else None

    def read_time(self) -> int:
        return max(now_us(), self.last_commit)

    def snapshot_time(self) -> int:
        """A read time that every later commit is strictly after (for resume tokens)."""
        self.last_commit = self.read_time()
        return self.last_commit

    def collection_names(self, collection: str) -> Iterable[str]:
        return self.by_collection.get(collection, ())

    def group_names(self, parent: str, collection_id: str) -> Iterable[str]:
        """Names of the collection group (every document with no id) under `parent`."""
        prefix = parent + "/"
        lo, hi = self._range(prefix)
        if not collection_id:
            return self.ordered[lo:hi]
        group = self.by_group.get(collection_id, ())
        if len(group) <= hi - lo:
            return group if parent == self.root else [n for n in group if n.startswith(prefix)]
        return [n for n in self.ordered[lo:hi] if collection_id_of(n) == collection_id]

    def _range(self, prefix: str) -> tuple[int, int]:
        """The slice of `ordered` whose names start with `prefix` (which ends with "/").

        In path_key order a name's descendants directly follow it: after the parent's own
        key, before the parent's segments followed by one past every segment.
        """
        parent = path_key(prefix[:-1])
        lo = bisect.bisect_right(self.ordered, parent, key=path_key)
        return lo, bisect.bisect_left(self.ordered, parent + PAST_SEGMENTS, lo, key=path_key)

    def equal_names(self, collection_id: str, path: FieldPath, key: Key) -> Set[str]:
        """Current documents of the collection group whose field `path` equals `key`."""
        return self.equality.names(
            (collection_id, path), key, lambda: self.by_group.get(collection_id, ()), self.read
        )

    def names_under(self, prefix: str) -> list[str]:
        """Every name (of a document or a deleted one still versioned) below `prefix`/."""
        lo, hi = self._range(prefix)
        return self.ordered[lo:hi]

    # -- writes --------------------------------------------------------------------------
    def next_commit_time(self) -> int:
        self.last_commit = max(now_us(), self.last_commit + 1)
        return self.last_commit

    def install(self, changes: dict[str, pb.Document | None], commit_time: int) -> None:
        cutoff = self._cutoff()
        for name, doc in changes.items():
            versions = self.versions.get(name)
            if versions is None:
                versions = self.versions[name] = []
                self.by_collection.setdefault(collection_of(name), set()).add(name)
                self.by_group.setdefault(collection_id_of(name), set()).add(name)
                bisect.insort(self.ordered, name, key=path_key)
            versions.append((commit_time, doc))
            self.equality.update(collection_id_of(name), name, doc)
            self._prune(name, versions, cutoff)
        self.dirty = True
        if self.watchers:
            names = tuple(changes)
            for notify in self.watchers:
                notify(names)

    def close_watchers(self) -> None:
        for notify in self.watchers:
            notify(None)
        self.watchers.clear()

    def load(self, doc: pb.Document, update_time: int) -> None:
        self.install({doc.name: doc}, update_time)
        self.last_commit = max(self.last_commit, update_time)

    def sweep(self) -> None:
        cutoff = self._cutoff()
        for name, versions in list(self.versions.items()):
            self._prune(name, versions, cutoff)

    def _cutoff(self) -> int:
        floor = now_us() - RETENTION_US
        snapshots = [t.snapshot for t in self.txns.values() if t.snapshot is not None]
        return min([floor, *snapshots])

    def _prune(self, name: str, versions: list[Version], cutoff: int) -> None:
        drop = 0
        while drop + 1 < len(versions) and versions[drop + 1][0] <= cutoff:
            drop += 1
        if drop:
            del versions[:drop]
        if len(versions) == 1 and versions[0][1] is None and versions[0][0] <= cutoff:
            del self.versions[name]
            self.by_collection[collection_of(name)].discard(name)
            self.by_group[collection_id_of(name)].discard(name)
            del self.ordered[bisect.bisect_left(self.ordered, path_key(name), key=path_key)]


class Store:
    """All databases of all projects, created on first use like production's emulator."""

    def __init__(self, lock_timeout: float) -> None:
        self.lock_timeout = lock_timeout
        self._mutex = threading.Lock()
        self._dbs: dict[tuple[str, str], Database] = {}

    def get(self, project: str, database: str) -> Database:
        db = self._dbs.get((project, database))
        if db is None:
            with self._mutex:
                db = self._dbs.setdefault(
                    (project, database), Database(project, database, self.lock_timeout)
                )
        return db

    def replace(self, project: str, database: str) -> Database | None:
        """Swap in an empty database and return the old one (for reset)."""
        with self._mutex:
            old = self._dbs.get((project, database))
            self._dbs[(project, database)] = Database(project, database, self.lock_timeout)
            return old

    def all(self) -> list[Database]:
        with self._mutex:
            return list(self._dbs.values())
