"""Transactions whose contention outlasts the library's attempts: an outage to retry (503),
never a 500, and nothing written."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.api_core import exceptions

from genmedia.http.problem import to_genmedia_error
from genmedia.store.client import firestore_client
from genmedia.store.snapshots import read_one
from genmedia.store.transactions import run_transaction
from tests.emulators.process import FIRESTORE

PROJECT = "demo-genmedia"


@pytest.fixture
def impatient_firestore() -> Iterator[str]:
    """Our emulator with a short lock wait: a transaction queued behind a held lock longer
    than this is aborted, as Firestore aborts one that waits too long."""
    emulator = FIRESTORE.launch("--lock-timeout", "0.3")
    try:
        yield emulator.host
    finally:
        emulator.stop()


def test_contention_past_every_attempt_is_unavailable_and_writes_nothing(
    impatient_firestore: str,
) -> None:
    client = firestore_client(PROJECT, 5.0, impatient_firestore)
    hot = client.collection("usage").document("u")
    hot.set({"images": 0})
    # Another instance's transaction holds the document for the whole test.
    other = firestore_client(PROJECT, 5.0, impatient_firestore)
    holder = other.transaction()
    holder._begin()
    assert read_one(other.collection("usage").document("u"), holder) is not None
    attempts = []

    def charge(txn: object) -> None:
        attempts.append(1)
        txn.update(hot, {"images": 1})  # type: ignore[attr-defined]

    with pytest.raises(exceptions.Aborted) as raised:
        run_transaction(client, charge)
    assert len(attempts) == 5  # the library's attempts, each aborted at commit
    err, _ = to_genmedia_error(raised.value)
    assert (err.status, err.code, err.retry_after) == (503, "UNAVAILABLE", 5)
    holder._rollback()
    assert hot.get().to_dict() == {"images": 0}
