"""Soft delete and undelete with the lease, on an in-memory database and bucket."""

from __future__ import annotations

import pytest

from genmedia.errors import AlreadyExists, FailedPrecondition, NotFound
from genmedia.principal import Principal
from genmedia.services import library_trash
from tests.fakes.ports import Fakes, make_deps
from tests.unit.genmedia.services._assets import add_asset

ALICE, ADMIN = Principal("alice", "user"), Principal("root", "admin")


@pytest.fixture
def fakes() -> Fakes:
    fakes = make_deps(GENMEDIA_PURGE_RETENTION_DAYS="7")
    add_asset(fakes, "a1")
    return fakes


def test_delete_moves_objects_to_trash_and_undelete_brings_them_back(fakes: Fakes) -> None:
    deleted = library_trash.delete_asset(fakes.deps, ALICE, "a1", allow_missing=False)
    assert deleted["state"] == "DELETED" and deleted["purge_time"] > deleted["delete_time"]
    assert all(p.startswith("trash/users/alice/") for p in fakes.bucket.objects)
    stored = fakes.db.state.assets["a1"]
    assert stored.lease_id is None and stored.lease_until is None

    restored = library_trash.undelete_asset(fakes.deps, ALICE, "a1")
    assert restored["state"] == "ACTIVE" and "purge_time" not in restored
    assert all(p.startswith("users/alice/") for p in fakes.bucket.objects)


def test_a_second_delete_is_404_unless_allow_missing(fakes: Fakes) -> None:
    library_trash.delete_asset(fakes.deps, ALICE, "a1", allow_missing=False)
    with pytest.raises(NotFound):
        library_trash.delete_asset(fakes.deps, ALICE, "a1", allow_missing=False)
    again = library_trash.delete_asset(fakes.deps, ALICE, "a1", allow_missing=True)
    assert again["state"] == "DELETED"


def test_undeleting_an_active_asset_is_a_conflict(fakes: Fakes) -> None:
    with pytest.raises(AlreadyExists):
        library_trash.undelete_asset(fakes.deps, ALICE, "a1")


def test_admins_read_but_do_not_delete_for_users(fakes: Fakes) -> None:
    with pytest.raises(NotFound):
        library_trash.delete_asset(fakes.deps, ADMIN, "a1", allow_missing=False)
    assert fakes.db.state.assets["a1"].state == "ACTIVE"


def test_a_held_lease_is_waited_for_then_refused_with_retry_after(fakes: Fakes) -> None:
    from dataclasses import replace
    from datetime import timedelta

    held = replace(
        fakes.db.state.assets["a1"],
        lease_id="other",
        lease_until=fakes.clock.now() + timedelta(seconds=60),
    )
    fakes.db.state.assets["a1"] = held
    with pytest.raises(FailedPrecondition) as caught:
        library_trash.delete_asset(fakes.deps, ALICE, "a1", allow_missing=False)
    assert caught.value.retry_after == 1
    assert sum(fakes.clock.slept) <= library_trash.WAIT_SECONDS
    assert fakes.db.state.assets["a1"].state == "ACTIVE"  # nothing changed
