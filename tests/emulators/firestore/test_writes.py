"""Writes: preconditions, transforms, masks, atomic commits, BatchWrite, size limit."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import firestore
from google.cloud.firestore_v1.services.firestore import FirestoreClient

INT64_MAX = 2**63 - 1


def test_twenty_concurrent_creates_exactly_one_wins(
    coll: Any, run_threads: Callable[..., list[Any]]
) -> None:
    ref = coll.document("same-id")
    results = run_threads([lambda i=i: ref.create({"writer": i}) for i in range(20)])
    winners = [r for r in results if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1
    assert len(losers) == 19
    assert all(isinstance(e, exceptions.AlreadyExists) for e in losers), losers
    assert ref.get().get("writer") in range(20)


def test_exists_preconditions(coll: Any) -> None:
    ref = coll.document("doc")
    with pytest.raises(exceptions.NotFound):
        ref.update({"a": 1})
    ref.create({"a": 1})
    with pytest.raises(exceptions.AlreadyExists):
        ref.create({"a": 2})
    assert ref.get().to_dict() == {"a": 1}


def test_stale_update_time_is_rejected(fs_client: firestore.Client, coll: Any) -> None:
    ref = coll.document("doc")
    first = ref.set({"v": 1}).update_time
    second = ref.update({"v": 2}).update_time
    assert second > first
    stale = fs_client.write_option(last_update_time=first)
    with pytest.raises(exceptions.FailedPrecondition):
        ref.update({"v": 3}, option=stale)
    with pytest.raises(exceptions.FailedPrecondition):
        ref.delete(option=stale)
    current = fs_client.write_option(last_update_time=second)
    ref.update({"v": 4}, option=current)
    assert ref.get().get("v") == 4


UPDATE_TIME_CASES = {
    # name: (shift of the precondition from the stored update_time, document exists, error)
    "past": (dt.timedelta(seconds=-1), True, exceptions.FailedPrecondition),
    "equal": (dt.timedelta(0), True, None),
    # A base version newer than the stored one could not have come from a read.
    "future": (dt.timedelta(hours=1), True, exceptions.InvalidArgument),
    "missing": (dt.timedelta(0), False, exceptions.FailedPrecondition),
}


def _set_with_update_time(
    gapic: FirestoreClient, client: firestore.Client, ref: Any, update_time: dt.datetime
) -> None:
    """A full set (no mask) with an update_time precondition: the high-level set() has none."""
    write = {
        "update": {"name": ref._document_path, "fields": {"v": {"integer_value": 2}}},
        "current_document": {"update_time": update_time},
    }
    gapic.commit(request={"database": client._database_string, "writes": [write]})


@pytest.mark.parametrize("op", ["update", "set", "delete"])
@pytest.mark.parametrize("case", list(UPDATE_TIME_CASES))
def test_update_time_precondition_matrix(
    fs_client: firestore.Client, fs_gapic: FirestoreClient, coll: Any, op: str, case: str
) -> None:
    shift, exists, error = UPDATE_TIME_CASES[case]
    ref = coll.document("doc")
    # For a missing document, use the update_time of one that exists, so only existence differs.
    stored = (ref if exists else coll.document("other")).set({"v": 1}).update_time
    option = fs_client.write_option(last_update_time=stored + shift)

    def write() -> None:
        if op == "update":
            ref.update({"v": 2}, option=option)
        elif op == "set":
            _set_with_update_time(fs_gapic, fs_client, ref, stored + shift)
        else:
            ref.delete(option=option)

    if error is None:
        write()
        expected = None if op == "delete" else {"v": 2}
    else:
        with pytest.raises(error):
            write()
        expected = {"v": 1} if exists else None
    assert ref.get().to_dict() == expected


def test_create_and_update_times(coll: Any) -> None:
    ref = coll.document("doc")
    ref.set({"v": 1})
    created = ref.get()
    ref.update({"v": 2})
    updated = ref.get()
    assert updated.create_time == created.create_time
    assert updated.update_time > created.update_time
    ref.delete()
    assert not ref.get().exists
    ref.set({"v": 3})
    assert ref.get().create_time > updated.update_time


def test_transforms_apply_and_return_results(fs_client: firestore.Client, coll: Any) -> None:
    ref = coll.document("doc")
    ref.set({"inc": 5, "hi": 10, "lo": 10, "arr": [1, 2], "gone": [1, 2, 1, 3]})
    batch = fs_client.batch()
    batch.update(
        ref,
        {
            "inc": firestore.Increment(3),
            "hi": firestore.Maximum(12),
            "lo": firestore.Minimum(7.5),
            "arr": firestore.ArrayUnion([2, 3, 3]),
            "gone": firestore.ArrayRemove([1]),
            "at": firestore.SERVER_TIMESTAMP,
        },
    )
    (result,) = batch.commit()
    values = [_plain(v) for v in result.transform_results]
    assert len(values) == 6
    assert 8 in values and 12 in values and 7.5 in values
    stamps = [v for v in values if isinstance(v, dt.datetime)]
    assert len(stamps) == 1
    doc = ref.get().to_dict()
    assert doc["inc"] == 8 and doc["hi"] == 12 and doc["lo"] == 7.5
    assert doc["arr"] == [1, 2, 3]
    assert doc["gone"] == [2, 3]
    # REQUEST_TIME has millisecond precision and is not after the commit.
    assert doc["at"] == stamps[0] and stamps[0].microsecond % 1000 == 0
    update_time = ref.get().update_time
    assert dt.timedelta(0) <= update_time - stamps[0] < dt.timedelta(seconds=1)


def _plain(value: Any) -> Any:
    kind = value._pb.WhichOneof("value_type")
    if kind == "timestamp_value":
        return value.timestamp_value
    return getattr(value, kind) if kind != "null_value" else None


def test_numeric_transform_rules(coll: Any) -> None:
    ref = coll.document("doc")
    ref.set({"i": 1, "s": "text", "big": INT64_MAX - 1, "same": 3, "d": 2.5})
    ref.update(
        {
            "i": firestore.Increment(1.5),
            "s": firestore.Increment(2),
            "missing": firestore.Increment(4),
            "big": firestore.Increment(10),
            "same": firestore.Maximum(3.0),
            "d": firestore.Minimum(2),
        }
    )
    doc = ref.get().to_dict()
    assert doc["i"] == 2.5 and isinstance(doc["i"], float)
    assert doc["s"] == 2  # a non-numeric field is replaced by the operand
    assert doc["missing"] == 4
    assert doc["big"] == INT64_MAX  # integer overflow saturates
    assert doc["same"] == 3 and isinstance(doc["same"], int)  # equal values keep the stored one
    assert doc["d"] == 2 and isinstance(doc["d"], int)  # the smaller operand keeps its type


def test_merge_and_field_deletes(coll: Any) -> None:
    ref = coll.document("doc")
    ref.set({"a": 1, "m": {"x": 1, "y": 2}, "z": 0})
    ref.set({"m": {"y": 3}, "b": 2}, merge=True)
    assert ref.get().to_dict() == {"a": 1, "m": {"x": 1, "y": 3}, "z": 0, "b": 2}
    ref.update({"m.x": firestore.DELETE_FIELD, "z": firestore.DELETE_FIELD, "m.w.deep": 1})
    assert ref.get().to_dict() == {"a": 1, "m": {"y": 3, "w": {"deep": 1}}, "b": 2}
    ref.set({"only": True})
    assert ref.get().to_dict() == {"only": True}


def test_commit_is_atomic(fs_client: firestore.Client, coll: Any) -> None:
    existing = coll.document("existing")
    existing.set({"v": 1})
    other = coll.document("other")
    other.set({"v": 1})
    batch = fs_client.batch()
    batch.set(coll.document("new"), {"v": 2})
    batch.update(existing, {"v": 3})
    batch.create(other, {"v": 4})
    with pytest.raises(exceptions.AlreadyExists):
        batch.commit()
    assert not coll.document("new").get().exists
    assert existing.get().get("v") == 1
    assert other.get().get("v") == 1


def test_several_writes_to_one_document_apply_in_order(
    fs_client: firestore.Client, coll: Any
) -> None:
    ref = coll.document("doc")
    batch = fs_client.batch()
    batch.set(ref, {"v": 1})
    batch.update(ref, {"w": 2})
    batch.update(ref, {"v": 3})
    batch.commit()
    assert ref.get().to_dict() == {"v": 3, "w": 2}
    batch = fs_client.batch()
    batch.delete(ref)
    batch.set(ref, {"z": 1})
    batch.commit()
    assert ref.get().to_dict() == {"z": 1}


def test_batch_write_reports_each_write(
    fs_client: firestore.Client, fs_gapic: FirestoreClient, coll: Any
) -> None:
    exists = coll.document("exists")
    exists.set({"v": 1})
    good, missing = coll.document("good"), coll.document("missing")
    writes = [
        {"update": {"name": good._document_path, "fields": {"v": {"integer_value": 1}}}},
        {
            "update": {"name": missing._document_path, "fields": {}},
            "update_mask": {"field_paths": ["v"]},
            "current_document": {"exists": True},
        },
        {
            "update": {"name": exists._document_path, "fields": {}},
            "current_document": {"exists": False},
        },
    ]
    response = fs_gapic.batch_write(
        request={"database": fs_client._database_string, "writes": writes}
    )
    codes = [s.code for s in response.status]
    assert codes == [0, 5, 6]  # OK, NOT_FOUND, ALREADY_EXISTS
    assert response.write_results[0].update_time
    assert good.get().get("v") == 1
    assert not missing.get().exists
    assert exists.get().get("v") == 1


def test_document_size_limit(coll: Any) -> None:
    ref = coll.document("doc")
    with pytest.raises(exceptions.InvalidArgument):
        ref.set({"blob": "x" * (1024 * 1024 + 16)})
    assert not ref.get().exists
    ref.set({"blob": "x" * 1_000_000})
    assert len(ref.get().get("blob")) == 1_000_000
    with pytest.raises(exceptions.InvalidArgument):
        ref.update({"more": b"y" * 60_000})
    assert len(ref.get().to_dict()) == 1


def test_delete_with_exists_precondition(coll: Any, fs_client: firestore.Client) -> None:
    ref = coll.document("doc")
    ref.delete()  # deleting a missing document is not an error
    with pytest.raises(exceptions.NotFound):
        batch = fs_client.batch()
        batch.delete(ref, option=fs_client.write_option(exists=True))
        batch.commit()


def test_special_double_transforms(coll: Any) -> None:
    ref = coll.document("doc")
    ref.set({"nan": math.nan, "x": 1})
    ref.update({"nan": firestore.Maximum(5), "x": firestore.Maximum(math.nan)})
    doc = ref.get().to_dict()
    assert math.isnan(doc["nan"]) and math.isnan(doc["x"])
