"""Decoded documents, read without the copies the library's snapshots make.

``DocumentSnapshot`` deep-copies a document's fields when it is built, and ``to_dict()``
copies them again on every call. The hot reads build a record from the fields at once and
drop them, so neither copy buys anything: on a library page of 20 the snapshots (proto-plus
wrappers, decoding and two deep copies) were two thirds of the function's CPU.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from google.cloud.firestore_v1.base_document import DocumentSnapshot
    from google.cloud.firestore_v1.base_query import BaseQuery


def fields_of(snap: DocumentSnapshot[Any]) -> dict[str, Any] | None:
    """The snapshot's decoded fields, without ``to_dict()``'s copy; None if it does not exist.

    Never keep the dict or the snapshot beyond building a record from it.
    """
    if not snap.exists:
        return None
    data = getattr(snap, "_data", None)  # the library's own; should it ever go, copy as before
    return data if isinstance(data, dict) else snap.to_dict()


def query_rows(query: BaseQuery) -> list[tuple[str, dict[str, Any]]]:
    """(document id, fields) of every document ``query`` matches, in its order.

    One RunQuery, as ``query.stream()`` sends it (the same request, default retry and
    deadline), but each response is decoded straight from its protobuf by the library's own
    decoder, with no snapshot: a third of the CPU of ``stream()`` for the same rows. A stream
    cut mid-way raises instead of resuming, which only the pages of genmedia/store ask for.
    Semi-private hooks (pinned by tests/unit/genmedia/store/test_snapshots.py):
    ``Query._prep_stream`` builds the request, ``Client._firestore_api`` sends it.
    """
    from google.api_core import gapic_v1
    from google.cloud.firestore_v1 import _helpers

    client: Any = query._client
    request, _, kwargs = query._prep_stream(retry=gapic_v1.method.DEFAULT)
    responses = client._firestore_api.run_query(
        request=request, metadata=client._rpc_metadata, **kwargs
    )
    rows: list[tuple[str, Any]] = []
    for response in responses:
        pb = response._pb
        if pb.HasField("document"):  # some responses carry only progress (read_time)
            doc = pb.document
            rows.append((doc.name.rpartition("/")[2], _helpers.decode_dict(doc.fields, client)))
    return rows
