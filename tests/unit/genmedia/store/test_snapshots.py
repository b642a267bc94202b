"""fields_of: a snapshot's fields without to_dict()'s second copy, and the library hook it uses."""

from __future__ import annotations

from typing import Any

from google.cloud.firestore_v1.base_document import DocumentSnapshot

from genmedia.store.snapshots import fields_of


def snapshot(data: dict[str, Any] | None) -> DocumentSnapshot[Any]:
    return DocumentSnapshot(None, data, data is not None, None, None, None)


def test_the_fields_are_the_snapshots_own_without_a_copy() -> None:
    data = {"owner_uid": "alice", "tags": ["a"]}
    snap = snapshot(data)
    assert fields_of(snap) == data
    # The library still keeps the decoded fields where fields_of reads them (no second copy).
    assert fields_of(snap) is snap._data


def test_a_missing_document_has_no_fields() -> None:
    assert fields_of(snapshot(None)) is None


def test_without_the_library_hook_the_fields_are_copied_as_before() -> None:
    class Plain:
        exists = True

        def to_dict(self) -> dict[str, Any]:
            return {"owner_uid": "bob"}

    assert fields_of(Plain()) == {"owner_uid": "bob"}  # type: ignore[arg-type]
