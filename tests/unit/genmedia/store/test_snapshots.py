"""The library hooks genmedia/store/snapshots.py reads through; the decoding itself is checked
against the library's own snapshots over the wire in tests/integration/test_store_reads.py."""

from __future__ import annotations

from google.api_core import gapic_v1
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter


def client() -> firestore.Client:
    return firestore.Client(project="demo-genmedia", credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]


def test_a_query_request_is_built_by_the_library_as_stream_sends_it() -> None:
    query = client().collection("assets").where(filter=FieldFilter("owner_uid", "==", "u"))
    request, prefix, kwargs = query.limit(2)._prep_stream(retry=gapic_v1.method.DEFAULT)
    assert request["parent"] == "projects/demo-genmedia/databases/(default)/documents"
    assert request["structured_query"].limit == 2
    assert prefix.endswith("/documents/assets")
    assert kwargs == {}  # the default retry and deadline of the (bounded) transport


def test_a_batch_get_request_is_built_by_the_library_as_get_all_sends_it() -> None:
    db = client()
    refs = [db.collection("usage").document("u"), db.collection("users").document("u")]
    request, _, kwargs = db._prep_get_all(refs, None, None, gapic_v1.method.DEFAULT)
    assert request["database"] == db._database_string
    assert request["documents"] == [db._database_string + "/documents/" + r.path for r in refs]
    assert request["transaction"] is None
    assert kwargs == {}
