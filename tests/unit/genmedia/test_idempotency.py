"""Idempotency: fingerprints, key validation, and the guard that runs a request once."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from genmedia.errors import IdempotencyInProgress, IdempotencyKeyReused, InvalidArgument
from genmedia.idempotency import (
    LEASE,
    IdempotencyGuard,
    StoredResponse,
    fingerprint,
    validate_key,
)
from tests.fakes.clock import FakeClock
from tests.fakes.store import InMemoryDatabase

BODY: dict[str, Any] = {
    "prompt": "a kite",
    "count": 2,
    "style": None,
    "extra": {"a": 1, "b": [1, 2]},
}
PATH = "/v1/images:generate"


def test_fingerprint_is_a_stable_sha256_hex() -> None:
    value = fingerprint("POST", PATH, BODY)
    assert value == fingerprint("POST", PATH, dict(BODY))
    assert re.fullmatch("[0-9a-f]{64}", value)


def test_fingerprint_ignores_key_order_at_every_depth() -> None:
    reordered = {"extra": {"b": [1, 2], "a": 1}, "style": None, "count": 2, "prompt": "a kite"}
    assert fingerprint("POST", PATH, reordered) == fingerprint("POST", PATH, BODY)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", PATH, BODY),
        ("POST", "/v1/videos:generate", BODY),
        ("POST", PATH, BODY | {"prompt": "a kite "}),
        ("POST", PATH, BODY | {"count": 3}),
        ("POST", PATH, BODY | {"count": "2"}),
        ("POST", PATH, BODY | {"style": ""}),
        ("POST", PATH, BODY | {"extra": {"a": 1, "b": [2, 1]}}),  # list order matters
    ],
)
def test_fingerprint_changes_with_any_meaningful_difference(
    method: str, path: str, body: dict[str, Any]
) -> None:
    assert fingerprint(method, path, body) != fingerprint("POST", PATH, BODY)


def test_fingerprint_fields_cannot_bleed_into_each_other() -> None:
    # Naive concatenation would make these two equal.
    assert fingerprint("POST", "/a", {"b": 1}) != fingerprint("POST", '/a", {"b', 1)


@pytest.mark.parametrize(
    "key",
    ["k", "k" * 255, "550e8400-e29b-41d4-a716-446655440000", "a b ~!@#$%^&*()"],
)
def test_valid_keys_are_returned_unchanged(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize(
    "key",
    ["", "k" * 256, "tab\there", "new\nline", "nul\x00", "del\x7f", "clé", "键"],
)
def test_invalid_keys_are_422_on_the_header(key: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_key(key)
    assert caught.value.status == 422
    assert [e.field for e in caught.value.errors] == ["header.Idempotency-Key"]


# --- the guard, over the in-memory repository ------------------------------------------------


class Guarded:
    def __init__(self) -> None:
        self.db = InMemoryDatabase()
        self.clock = FakeClock()
        self.guard = IdempotencyGuard(self.db.idempotency, self.clock, timedelta(hours=1))
        self.runs = 0

    def work(self, status: int = 200) -> StoredResponse:
        self.runs += 1
        return StoredResponse(status, f'{{"run":{self.runs}}}', {"Location": "/x"})

    def run(self, key: str = "k1", fp: str = "fp1", uid: str = "alice") -> Any:
        return self.guard.run(uid, key, fp, self.work)


def test_the_first_request_runs_and_later_ones_replay_it() -> None:
    g = Guarded()
    first, replayed = g.run()
    again, replayed_again = g.run()
    assert (replayed, replayed_again) == (False, True)
    assert again == first == StoredResponse(200, '{"run":1}', {"Location": "/x"})
    assert g.runs == 1


def test_keys_are_per_user_and_a_reused_key_with_another_body_is_refused() -> None:
    g = Guarded()
    g.run()
    assert g.run(uid="bob")[1] is False
    with pytest.raises(IdempotencyKeyReused):
        g.run(fp="other")


def test_a_failure_releases_the_key_so_a_retry_runs_again() -> None:
    g = Guarded()

    def boom() -> StoredResponse:
        raise RuntimeError("provider down")

    with pytest.raises(RuntimeError):
        g.guard.run("alice", "k1", "fp1", boom)
    assert g.run()[1] is False and g.runs == 1


def test_a_key_in_progress_is_409_until_its_lease_expires_then_taken_over() -> None:
    g = Guarded()
    inner: list[Any] = []

    def nested() -> StoredResponse:
        with pytest.raises(IdempotencyInProgress) as caught:
            g.run()
        inner.append(caught.value.retry_after)
        return g.work()

    g.guard.run("alice", "k1", "fp1", nested)
    assert inner == [2]
    # An owner that died: its record stays IN_PROGRESS until the lease passes.
    doc_id = next(iter(g.db.state.idempotency))
    record, _ = g.db.state.idempotency[doc_id]
    g.db.state.idempotency[doc_id] = (replace(record, state="IN_PROGRESS"), g.db.state.stamp())
    with pytest.raises(IdempotencyInProgress):
        g.run()
    g.clock.advance(LEASE.total_seconds() + 1)
    assert g.run()[1] is False


def test_expired_records_run_again() -> None:
    g = Guarded()
    g.run()
    g.clock.advance(3601)
    assert g.run()[1] is False and g.runs == 2


class CountingRecords:
    """The fake idempotency repository, counting the calls that would be Firestore RPCs."""

    def __init__(self) -> None:
        self.inner = InMemoryDatabase().idempotency
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        self.calls.append(name)
        return getattr(self.inner, name)


def test_a_replay_costs_one_read_and_a_new_key_a_read_and_a_create() -> None:
    records = CountingRecords()
    guard = IdempotencyGuard(records, FakeClock(), timedelta(hours=1))  # type: ignore[arg-type]
    work = lambda: StoredResponse(200, '{"ok":true}', {})  # noqa: E731
    guard.run("u", "key-1", "fp", work)
    assert records.calls == ["get", "create", "complete"]
    records.calls.clear()
    response, replayed = guard.run("u", "key-1", "fp", work)
    assert replayed and response.body == '{"ok":true}'
    assert records.calls == ["get"]
