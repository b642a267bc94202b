"""--data-dir: snapshot every database's current documents to one file, atomically."""

import os
import tempfile
from pathlib import Path

from . import pb
from .paths import split_database
from .store import Store
from .values import timestamp_to_micros

STATE_FILE = "firestore-state.pb"


def state_path(data_dir: str) -> Path:
    return Path(data_dir) / STATE_FILE


def load(store: Store, data_dir: str) -> int:
    """Load a previous snapshot if there is one; return the number of documents."""
    path = state_path(data_dir)
    if not path.exists():
        return 0
    snapshot = pb.ListDocumentsResponse.FromString(path.read_bytes())
    for doc in snapshot.documents:
        db = store.get(*split_database(doc.name))
        db.load(doc, timestamp_to_micros(doc.update_time))
    for db in store.all():
        db.dirty = False
    return len(snapshot.documents)


def save(store: Store, data_dir: str, force: bool = False) -> bool:
    """Write the snapshot if anything changed (temp file + fsync + os.replace)."""
    dbs = store.all()
    if not force and not any(db.dirty for db in dbs):
        return False
    snapshot = pb.ListDocumentsResponse()
    for db in dbs:
        with db.mutex:
            db.dirty = False
            docs = [vs[-1][1] for vs in db.versions.values() if vs[-1][1] is not None]
        snapshot.documents.extend(docs)
    _atomic_write(state_path(data_dir), snapshot.SerializeToString())
    return True


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".firestore-state-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
