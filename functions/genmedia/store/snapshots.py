"""A document snapshot's fields, read without the copy ``to_dict()`` makes on every call."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from google.cloud.firestore_v1.base_document import DocumentSnapshot


def fields_of(snap: DocumentSnapshot[Any]) -> dict[str, Any] | None:
    """The snapshot's decoded fields; None if the document does not exist.

    ``DocumentSnapshot.to_dict()`` deep-copies them each time, though the snapshot already holds
    its own deep copy, made when it was built: that second copy was a quarter of the CPU of a
    library page of 20. The hot reads build a record from the dict at once and drop the
    snapshot, so nothing else ever sees it; never keep the dict or the snapshot beyond that.
    """
    if not snap.exists:
        return None
    data = getattr(snap, "_data", None)  # the library's own; should it ever go, copy as before
    return data if isinstance(data, dict) else snap.to_dict()
