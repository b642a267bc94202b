"""The sweeper and the purge with fakes of our ports: what is due is settled once, the rest kept."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from genmedia.principal import Principal
from genmedia.services import generate_video, library_trash, purge, sweeper
from genmedia.services.generate_video import VideoRequest
from genmedia.store.records import AssetRecord, ObjectRef, UsageRecord
from tests.fakes.ports import Fakes, FakeTaskQueue, make_deps

ALICE = Principal("alice", "user", token="alice-token")


@pytest.fixture
def fakes() -> Fakes:
    # Midday: a refund gives back to the day the image was charged, and that must be today.
    noon = datetime(2026, 6, 15, 12, tzinfo=UTC)
    return make_deps(noon, GENMEDIA_SWEEP_PENDING_AFTER_SECONDS="600")


def pending_asset(fakes: Fakes, asset_id: str, age_s: float, state: str = "PENDING") -> None:
    now = fakes.clock.now()
    created = now - timedelta(seconds=age_s)
    fakes.db.state.assets[asset_id] = AssetRecord(
        id=asset_id, owner_uid="alice", type="image", state=state, prompt="a kite",  # type: ignore[arg-type]
        params={}, cost_micros=40_000, create_time=created, update_time=created,
    )  # fmt: skip
    usage = fakes.db.state.usage.get("alice", UsageRecord(now.strftime("%Y-%m-%d"), 0,
                                                          now.strftime("%Y-%m")))  # fmt: skip
    fakes.db.state.usage["alice"] = replace(
        usage, images=usage.images + 1, cost_micros=usage.cost_micros + 40_000
    )


def test_stale_pending_generations_are_failed_and_refunded_once(fakes: Fakes) -> None:
    pending_asset(fakes, "dead", age_s=601)
    pending_asset(fakes, "running", age_s=30)  # its generation may still finish
    assert sweeper.sweep(fakes.deps)["images_refunded"] == 1
    assert fakes.db.state.assets["dead"].state == "FAILED"
    assert fakes.db.state.assets["running"].state == "PENDING"
    usage = fakes.db.state.usage["alice"]
    assert (usage.images, usage.cost_micros) == (1, 40_000)
    assert sweeper.sweep(fakes.deps)["images_refunded"] == 0  # a second run is a no-op
    assert fakes.db.state.usage["alice"].images == 1


def submitted_job(fakes: Fakes) -> str:
    payload = generate_video.submit(fakes.deps, ALICE, VideoRequest("a heron"), "rid").payload
    return str(payload["job"]["id"])  # type: ignore[index]


def test_a_job_queued_without_its_task_gets_it_again_then_is_failed_if_still_stuck(
    fakes: Fakes,
) -> None:
    job_id = submitted_job(fakes)
    fakes.tasks.tasks.clear()  # the instance died before the task was created
    fakes.clock.advance(601)
    assert sweeper.sweep(fakes.deps)["jobs_requeued"] == 1
    assert list(fakes.tasks.tasks) == [f"{job_id}-0"]
    assert sweeper.sweep(fakes.deps)["jobs_requeued"] == 0  # the name dedupes
    fakes.clock.advance(7200)
    assert sweeper.sweep(fakes.deps)["jobs_failed"] == 1
    job = fakes.db.state.jobs[job_id]
    assert job.state == "FAILED" and job.refunded and fakes.db.state.usage["alice"].videos == 0


def test_a_running_job_is_failed_only_past_its_lease_and_retry_window(fakes: Fakes) -> None:
    job_id = submitted_job(fakes)
    job = fakes.db.state.jobs[job_id]
    lease_until = fakes.clock.now() + timedelta(hours=3)
    fakes.db.state.jobs[job_id] = replace(job, state="RUNNING", lease_until=lease_until)
    fakes.clock.advance(7201)
    assert sweeper.sweep(fakes.deps)["jobs_failed"] == 0  # a live lease: its worker is at it
    fakes.clock.advance(3 * 3600)
    assert sweeper.sweep(fakes.deps)["jobs_failed"] == 1
    assert fakes.db.state.jobs[job_id].error == sweeper.STUCK


def deleted_asset(fakes: Fakes, asset_id: str, purge_in_s: float) -> list[str]:
    now = fakes.clock.now()
    path = f"users/alice/assets/{asset_id}/original.png"
    fakes.db.state.assets[asset_id] = AssetRecord(
        id=asset_id, owner_uid="alice", type="image", state="DELETED", prompt="x", params={},
        cost_micros=0, create_time=now, update_time=now, delete_time=now,
        purge_time=now + timedelta(seconds=purge_in_s),
        objects={"original": ObjectRef(path, "image/png", 3, 1, 1)},
    )  # fmt: skip
    fakes.bucket.objects[library_trash.trash_path(path)] = b"png"
    return [library_trash.trash_path(path)]


def test_due_assets_are_purged_objects_first_and_a_second_run_is_a_no_op(fakes: Fakes) -> None:
    due = deleted_asset(fakes, "due", purge_in_s=-1)
    kept = deleted_asset(fakes, "kept", purge_in_s=3600)
    assert purge.purge(fakes.deps) == {"assets_purged": 1, "more": False}
    assert "due" not in fakes.db.state.assets and due[0] not in fakes.bucket.objects
    assert "kept" in fakes.db.state.assets and kept[0] in fakes.bucket.objects
    assert purge.purge(fakes.deps)["assets_purged"] == 0


def test_a_failed_object_delete_keeps_the_metadata_for_the_next_run(fakes: Fakes) -> None:
    due = deleted_asset(fakes, "due", purge_in_s=-1)
    fakes.bucket.fail_on = "trash/"
    with pytest.raises(ConnectionError):
        purge.purge(fakes.deps)
    assert "due" in fakes.db.state.assets and due[0] in fakes.bucket.objects
    fakes.bucket.fail_on = None
    assert purge.purge(fakes.deps)["assets_purged"] == 1
    assert "due" not in fakes.db.state.assets and due[0] not in fakes.bucket.objects


def test_a_large_backlog_is_purged_in_batches_within_the_budget(fakes: Fakes) -> None:
    for i in range(5):
        deleted_asset(fakes, f"a{i}", purge_in_s=-1)
    first = purge.purge(fakes.deps, batch=2, budget_s=0.0)  # one batch, then out of time
    assert first == {"assets_purged": 2, "more": True}
    assert purge.purge(fakes.deps, batch=2)["assets_purged"] == 3
    assert not any(a.state == "DELETED" for a in fakes.db.state.assets.values())


def test_a_run_out_of_budget_continues_itself_through_one_named_task() -> None:
    fakes = make_deps(GENMEDIA_PURGE_BATCH_SIZE="2", GENMEDIA_PURGE_BUDGET_SECONDS="0")
    queue = FakeTaskQueue()
    fakes.deps._made["purge_queue"] = queue
    for i in range(5):
        deleted_asset(fakes, f"a{i}", purge_in_s=-1)
    assert purge.run(fakes.deps, {"job": "purge"}, "evt/1")["more"]
    assert purge.run(fakes.deps, {"job": "purge"}, "evt/1")["more"]  # a redelivery: same name
    (task_id,) = queue.tasks
    assert task_id == "purge-evt-1-1"
    event = queue.tasks[task_id][0]
    data = json.loads(base64.b64decode(event["data"]["message"]["data"]))
    assert data == {"job": "purge", "chain": "evt-1", "continuation": 1}
    assert event["type"] == purge.CONTINUATION_TYPE and event["id"] == task_id
    last = purge.run(fakes.deps, data, task_id)  # the last asset: no further continuation
    assert last == {"assets_purged": 1, "more": False} and len(queue.tasks) == 1


def test_a_refund_of_a_charge_from_yesterday_leaves_todays_count(fakes: Fakes) -> None:
    pending_asset(fakes, "dead", age_s=13 * 3600)  # charged yesterday, before midnight
    fakes.db.state.usage["alice"] = replace(fakes.db.state.usage["alice"], images=0)
    assert sweeper.sweep(fakes.deps)["images_refunded"] == 1
    assert fakes.db.state.usage["alice"].images == 0  # yesterday's counter is gone already


def test_old_objects_without_a_live_asset_are_deleted_page_by_page(fakes: Fakes) -> None:
    day_ago = fakes.clock.now() - sweeper.ORPHAN_GRACE - timedelta(minutes=1)
    pending_asset(fakes, "live", age_s=60, state="ACTIVE")
    pending_asset(fakes, "failed", age_s=60, state="FAILED")
    paths = {
        name: f"users/alice/assets/{name}/original.png"
        for name in ("live", "failed", "nodoc", "young")
    }
    for name, path in paths.items():
        fakes.bucket.objects[path] = b"x"
        fakes.bucket.created[path] = fakes.clock.now() if name == "young" else day_ago
    first = sweeper._sweep_orphans(fakes.deps, limit=2)  # "failed", "live": one is orphaned
    second = sweeper._sweep_orphans(fakes.deps, limit=2)  # "nodoc", "young"
    assert (first, second) == (1, 1)
    assert set(fakes.bucket.objects) == {paths["live"], paths["young"]}
    assert fakes.db.state.orphan_cursor is None  # the scan wrapped: next run starts over
    assert sweeper._sweep_orphans(fakes.deps, limit=10) == 0
