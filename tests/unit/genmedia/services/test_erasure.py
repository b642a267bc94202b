"""Account erasure with fakes of our ports: everything of the user goes, nobody else's, once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from genmedia.errors import AccountErasing, NotFound, Unavailable
from genmedia.principal import Principal
from genmedia.services import (
    erasure,
    erasure_worker,
    exports,
    generate_image,
    generate_video,
    library_trash,
    sweeper,
    webhooks,
)
from genmedia.services.erasure_worker import Delivery
from genmedia.services.generate_video import VideoRequest
from genmedia.store.records import AuditEvent
from tests.fakes.ports import Fakes, make_deps
from tests.unit.genmedia.services._assets import add_asset

ALICE = Principal("alice", "user", token="alice-token")
ADMIN = Principal("root", "admin", token="root-token")


@pytest.fixture
def fakes() -> Fakes:
    made = make_deps(datetime(2026, 6, 15, 12, tzinfo=UTC))
    made.resolver.table["hooks.example"] = ["127.0.0.1"]
    made.users.accounts.update({"alice": {}, "bob": {}})
    return made


def alices_data(fakes: Fakes) -> None:
    fakes.deps.database.audit.add(None, AuditEvent(
        time=fakes.clock.now(), action="asset.purge", target_type="asset", target_id="a0",
        details={"owner_uid": "alice"},
    ))  # fmt: skip
    add_asset(fakes, "a1")
    add_asset(fakes, "a2")
    library_trash.delete_asset(fakes.deps, ALICE, "a2", allow_missing=False)
    add_asset(fakes, "b1", owner="bob")
    fakes.bucket.objects["users/alice/orphan.png"] = b"left behind"
    generate_video.submit(fakes.deps, ALICE, VideoRequest("a heron"), "rid")
    webhooks.create(fakes.deps, ALICE, "http://hooks.example:8080/x", ["job.succeeded"])
    exports.request_export(fakes.deps, ALICE)


def run_to_end(fakes: Fakes, erasure_id: str, budget_s: float = 60.0) -> list[str]:
    outcomes, step = [], 0
    while True:
        outcome = erasure_worker.handle(fakes.deps, Delivery(erasure_id, step), budget_s)
        outcomes.append(outcome)
        if outcome != "continued":
            return outcomes
        step += 1


def test_erasing_removes_every_record_and_object_of_the_user_and_then_the_account(
    fakes: Fakes,
) -> None:
    alices_data(fakes)
    started = erasure.request_erasure(fakes.deps, ALICE, "alice")["erasure"]
    assert started["state"] == "RUNNING" and started["id"] == erasure.pseudonym("alice")
    assert "alice" in fakes.users.disabled  # signed out at once
    assert run_to_end(fakes, started["id"]) == ["done"]

    s = fakes.db.state
    assert [a.owner_uid for a in s.assets.values()] == ["bob"]
    assert not s.jobs and not s.webhooks and not s.exports
    assert "alice" not in s.usage and "alice" not in s.users
    assert sorted(fakes.bucket.objects) == sorted(p for p in fakes.bucket.objects if "bob" in p)
    assert fakes.users.deleted == ["alice"] and "bob" in fakes.users.accounts
    done = s.erasures[started["id"]]
    assert done.state == "DONE" and done.uid is None and done.counts["assets"] == 2
    everything = repr([e for _, e in s.audit])
    assert "'alice'" not in everything  # only the pseudonym is left in the audit log
    assert [e.action for _, e in s.audit][-1] == "user.erased"


def test_an_account_being_erased_cannot_start_new_work(fakes: Fakes) -> None:
    erasure.request_erasure(fakes.deps, ALICE, "alice")
    with pytest.raises(AccountErasing):
        generate_video.submit(fakes.deps, ALICE, VideoRequest("a heron"), "rid")
    with pytest.raises(AccountErasing):
        generate_image._charge(fakes.deps, "alice", [], fakes.clock.now())


def test_a_small_budget_resumes_across_steps_and_duplicates_do_nothing(fakes: Fakes) -> None:
    alices_data(fakes)
    erasure_id = erasure.request_erasure(fakes.deps, ALICE, "alice")["erasure"]["id"]
    assert erasure_worker.handle(fakes.deps, Delivery(erasure_id, 0), budget_s=-1) == "continued"
    assert list(fakes.erasures.tasks) == [f"{erasure_id}-0", f"{erasure_id}-1"]
    assert erasure_worker.handle(fakes.deps, Delivery(erasure_id, 0)) == "skipped"  # duplicate
    with pytest.raises(Unavailable):  # ahead of the record: retried later
        erasure_worker.handle(fakes.deps, Delivery(erasure_id, 2))
    assert erasure_worker.handle(fakes.deps, Delivery(erasure_id, 1)) == "done"
    assert erasure_worker.handle(fakes.deps, Delivery(erasure_id, 1)) == "skipped"
    assert [e.action for _, e in fakes.db.state.audit].count("user.erased") == 1


def test_a_failed_object_delete_keeps_the_document_for_the_retry(fakes: Fakes) -> None:
    add_asset(fakes, "a1")
    erasure_id = erasure.request_erasure(fakes.deps, ALICE, "alice")["erasure"]["id"]
    fakes.bucket.fail_on = "a1/"
    with pytest.raises(ConnectionError):
        erasure_worker.handle(fakes.deps, Delivery(erasure_id, 0))
    assert "a1" in fakes.db.state.assets and fakes.users.deleted == []
    fakes.bucket.fail_on = None
    assert erasure_worker.handle(fakes.deps, Delivery(erasure_id, 0)) == "done"
    assert "a1" not in fakes.db.state.assets


def test_asking_again_resumes_the_same_erasure_and_admins_can_erase_anyone(
    fakes: Fakes,
) -> None:
    first = erasure.request_erasure(fakes.deps, ADMIN, "bob")["erasure"]
    again = erasure.request_erasure(fakes.deps, ADMIN, "bob")["erasure"]
    assert first["id"] == again["id"] and first["requested_by"] == "admin"
    assert len(fakes.db.state.erasures) == 1
    assert erasure.get_erasure(fakes.deps, first["id"])["state"] == "RUNNING"
    with pytest.raises(NotFound):
        erasure.request_erasure(fakes.deps, ADMIN, "nobody")
    with pytest.raises(NotFound):
        erasure.get_erasure(fakes.deps, erasure.pseudonym("nobody"))


def test_a_failed_start_is_finished_by_the_retry(fakes: Fakes) -> None:
    fakes.erasures.down = True
    with pytest.raises(ConnectionError):
        erasure.request_erasure(fakes.deps, ALICE, "alice")
    with pytest.raises(AccountErasing):  # the mark is already there
        exports.request_export(fakes.deps, ALICE)
    fakes.erasures.down = False
    erasure_id = erasure.request_erasure(fakes.deps, ADMIN, "alice")["erasure"]["id"]
    assert list(fakes.erasures.tasks) == [f"{erasure_id}-0"]


def test_the_sweeper_restarts_an_erasure_whose_task_was_lost(fakes: Fakes) -> None:
    fakes.erasures.down = True  # the request dies after the account was disabled
    with pytest.raises(ConnectionError):
        erasure.request_erasure(fakes.deps, ALICE, "alice")
    fakes.erasures.down = False
    assert sweeper.sweep(fakes.deps)["erasures_requeued"] == 0  # too recent to be stuck
    fakes.clock.advance(601)
    assert sweeper.sweep(fakes.deps)["erasures_requeued"] == 1
    assert sweeper.sweep(fakes.deps)["erasures_requeued"] == 0  # the name dedupes
    (task_id,) = fakes.erasures.tasks
    assert erasure_worker.handle(fakes.deps, Delivery(erasure.pseudonym("alice"), 0)) == "done"
    assert task_id == f"{erasure.pseudonym('alice')}-0"


def test_the_sweeper_ends_an_export_stuck_past_its_retries(fakes: Fakes) -> None:
    stuck = exports.request_export(fakes.deps, ALICE)["export"]["id"]
    fakes.clock.advance(7201)
    assert sweeper.sweep(fakes.deps)["exports_failed"] == 1
    assert fakes.db.state.exports[stuck].state == "FAILED"
    assert exports.request_export(fakes.deps, ALICE)["export"]["id"] != stuck
