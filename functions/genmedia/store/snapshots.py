"""Documents read and decoded without the library's snapshots.

The library builds a ``DocumentSnapshot`` per document: a proto-plus wrapper, the fields
decoded and then deep-copied, and ``to_dict()`` copies them again on every call. The store
builds a record from the fields at once and drops them, so none of that buys anything: it was
two thirds of the CPU of a library page of 20 and a third of a single-document read.

These send exactly the RPC the library would (its own request builders, default retry and
deadline) and decode each response's protobuf with the library's own decoder. Semi-private
hooks, pinned by tests/unit/genmedia/store/test_snapshots.py: ``Query._prep_stream`` and
``Client._prep_get_all`` build the requests, ``Client._firestore_api`` sends them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from google.cloud import firestore
    from google.cloud.firestore_v1.base_query import BaseQuery


@dataclass(frozen=True, slots=True)
class Stored:
    """A document as read: its fields and its update time (a write precondition)."""

    fields: dict[str, Any]
    update_time: datetime


def read(
    refs: Sequence[firestore.DocumentReference], txn: firestore.Transaction | None = None
) -> dict[str, Stored]:
    """The documents of ``refs`` that exist, by path: one BatchGetDocuments (in ``txn`` if
    given, which locks them as ``DocumentReference.get(transaction=txn)`` would)."""
    from google.api_core import gapic_v1
    from google.api_core.datetime_helpers import DatetimeWithNanoseconds
    from google.cloud.firestore_v1 import _helpers

    decode: Any = _helpers.decode_dict
    timestamp: Any = DatetimeWithNanoseconds.from_timestamp_pb

    if not refs:
        return {}
    client: Any = refs[0]._client
    request, _, kwargs = client._prep_get_all(list(refs), None, txn, gapic_v1.method.DEFAULT)
    responses = client._firestore_api.batch_get_documents(
        request=request, metadata=client._rpc_metadata, **kwargs
    )
    found: dict[str, Stored] = {}
    prefix = len(client._database_string) + len("/documents/")
    for response in responses:
        pb = response._pb
        if pb.WhichOneof("result") == "found":
            doc = pb.found
            found[doc.name[prefix:]] = Stored(
                decode(doc.fields, client), timestamp(doc.update_time)
            )
    return found


def read_one(
    ref: firestore.DocumentReference, txn: firestore.Transaction | None = None
) -> Stored | None:
    return read([ref], txn).get(ref.path)


def query_rows(query: BaseQuery) -> list[tuple[str, dict[str, Any]]]:
    """(document id, fields) of every document ``query`` matches, in its order: one RunQuery.

    A stream cut mid-way raises rather than resuming as ``stream()`` would: the store only
    reads pages, which a retry of the whole request reads again.
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
