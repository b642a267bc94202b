"""The video worker with fakes of our ports: steps, leases, duplicates, failures, cancel."""

from __future__ import annotations

import pytest

from genmedia.errors import NotFound, Unavailable
from genmedia.principal import Principal
from genmedia.services import generate_video, jobs, video_worker
from genmedia.services.generate_video import VideoRequest
from genmedia.services.video_worker import Delivery
from tests.fakes.ports import Fakes, make_deps, sample_mp4

ALICE = Principal("alice", "user", token="alice-token")
BOB = Principal("bob", "user", token="bob-token")


@pytest.fixture
def fakes() -> Fakes:
    return make_deps(GENMEDIA_VIDEO_MAX_ATTEMPTS="3", GENMEDIA_JOB_LEASE_SECONDS="60")


def submitted(fakes: Fakes) -> str:
    payload = generate_video.submit(fakes.deps, ALICE, VideoRequest("a heron"), "rid").payload
    return str(payload["job"]["id"])  # type: ignore[index]


def run(fakes: Fakes, job_id: str, step: int, retry: int = 0) -> str:
    return video_worker.handle(fakes.deps, Delivery(job_id, step, retry))


def run_to_end(fakes: Fakes, job_id: str) -> list[str]:
    outcomes, step = [], 0
    while not fakes.db.state.jobs[job_id].terminal:
        outcomes.append(run(fakes, job_id, step))
        step = fakes.db.state.jobs[job_id].step
    return outcomes


def test_a_job_starts_polls_and_succeeds_with_a_video_asset(fakes: Fakes) -> None:
    job_id = submitted(fakes)
    assert run_to_end(fakes, job_id) == ["started", "progress", "succeeded"]
    job = fakes.db.state.jobs[job_id]
    assert job.state == "SUCCEEDED" and job.progress["percent"] == 100 and not job.refunded
    asset = fakes.db.state.assets[job.asset_id]
    assert asset.type == "video" and asset.state == "ACTIVE" and asset.owner_uid == "alice"
    assert set(asset.objects) == {"original", "poster", "thumbnail"}
    assert asset.objects["original"].content_type == "video/mp4"
    assert fakes.bucket.objects[asset.objects["original"].path] == fakes.video.video
    assert (asset.objects["original"].width, asset.objects["original"].height) == (64, 36)
    # Each step but the last enqueued the next one, delayed by the poll interval.
    assert sorted(fakes.tasks.tasks) == sorted(f"{job_id}-{n}" for n in range(3))
    payload, at = fakes.tasks.tasks[f"{job_id}-1"]
    assert payload == {"job_id": job_id, "step": 1} and at is not None


def test_a_duplicate_or_late_delivery_of_a_step_does_nothing(fakes: Fakes) -> None:
    job_id = submitted(fakes)
    run_to_end(fakes, job_id)
    before = dict(fakes.bucket.objects)
    assert [run(fakes, job_id, s) for s in range(3)] == ["skipped"] * 3
    assert len(fakes.video.started) == 1 and fakes.bucket.objects == before
    assert len(fakes.db.state.assets) == 1


def test_a_second_delivery_while_the_lease_is_held_is_told_to_retry(fakes: Fakes) -> None:
    job_id = submitted(fakes)
    video_worker._take(fakes.deps, Delivery(job_id, 0))  # a delivery still working on it
    with pytest.raises(Unavailable):
        run(fakes, job_id, 0)
    assert fakes.video.started == []


def test_a_job_whose_worker_died_is_taken_over_after_the_lease_expires(fakes: Fakes) -> None:
    job_id = submitted(fakes)
    video_worker._take(fakes.deps, Delivery(job_id, 0))  # then the instance died
    fakes.clock.advance(61)
    assert run_to_end(fakes, job_id) == ["started", "progress", "succeeded"]
    assert len(fakes.db.state.assets) == 1


def test_transient_failures_retry_and_the_last_attempt_fails_and_refunds(fakes: Fakes) -> None:
    fakes.video.script = ["transient"]
    job_id = submitted(fakes)
    run(fakes, job_id, 0)
    for retry in (0, 1):
        with pytest.raises(Unavailable):
            run(fakes, job_id, 1, retry)
        assert fakes.db.state.jobs[job_id].lease_id is None  # released for the retry
    assert run(fakes, job_id, 1, retry=2) == "failed"
    job = fakes.db.state.jobs[job_id]
    assert job.state == "FAILED" and job.error is not None
    assert job.error["code"] == "PROVIDER_UNAVAILABLE"
    assert fakes.db.state.usage["alice"].videos == 0


@pytest.mark.parametrize(
    ("step", "code"), [("permanent", "PROVIDER_ERROR"), ("blocked", "CONTENT_BLOCKED")]
)
def test_permanent_failures_end_the_job_at_once_with_a_refund(
    fakes: Fakes, step: str, code: str
) -> None:
    fakes.video.script = [step]
    job_id = submitted(fakes)
    assert run_to_end(fakes, job_id) == ["started", "failed"]
    job = fakes.db.state.jobs[job_id]
    assert job.error is not None and job.error["code"] == code and job.refunded
    assert fakes.db.state.usage["alice"].videos == 0 and fakes.db.state.assets == {}


def test_a_queued_job_cancelled_never_runs_and_is_refunded_once(fakes: Fakes) -> None:
    job_id = submitted(fakes)
    view = jobs.cancel_job(fakes.deps, ALICE, job_id)
    assert view["state"] == "CANCELLED"
    assert run(fakes, job_id, 0) == "skipped" and fakes.video.started == []
    assert fakes.db.state.usage["alice"].videos == 0
    with pytest.raises(Exception, match="already ended"):
        jobs.cancel_job(fakes.deps, ALICE, job_id)
    assert fakes.db.state.usage["alice"].videos == 0


def test_a_running_job_cancelled_stops_at_its_next_step(fakes: Fakes) -> None:
    job_id = submitted(fakes)
    run(fakes, job_id, 0)
    jobs.cancel_job(fakes.deps, ALICE, job_id)
    assert run(fakes, job_id, 1) == "skipped"
    assert fakes.db.state.assets == {} and fakes.video.polls == 0


def test_a_cancel_that_lands_while_the_video_is_stored_leaves_no_asset(fakes: Fakes) -> None:
    job_id = submitted(fakes)
    fakes.video.script = ["done"]
    run(fakes, job_id, 0)

    def cancel_once(path: str) -> None:
        if fakes.db.state.jobs[job_id].state == "RUNNING":
            jobs.cancel_job(fakes.deps, ALICE, job_id)

    fakes.bucket.after_upload = cancel_once
    assert run(fakes, job_id, 1) == "skipped"
    assert fakes.db.state.jobs[job_id].state == "CANCELLED" and fakes.db.state.assets == {}
    assert fakes.bucket.objects == {}


def test_jobs_are_only_visible_to_their_owner(fakes: Fakes) -> None:
    job_id = submitted(fakes)
    assert jobs.get_job(fakes.deps, ALICE, job_id, "rid")["id"] == job_id
    for call in (
        lambda: jobs.get_job(fakes.deps, BOB, job_id, "rid"),
        lambda: jobs.cancel_job(fakes.deps, BOB, job_id),
    ):
        with pytest.raises(NotFound):
            call()
    assert jobs.list_jobs(fakes.deps, BOB, jobs.ListJobs())["jobs"] == []
    assert fakes.db.state.jobs[job_id].state == "QUEUED"


def test_a_succeeded_job_shows_its_asset_with_video_urls(fakes: Fakes) -> None:
    job_id = submitted(fakes)
    run_to_end(fakes, job_id)
    view = jobs.get_job(fakes.deps, ALICE, job_id, "rid")
    assert view["asset"]["type"] == "video"
    assert set(view["asset"]["urls"]) == {"original", "poster", "thumbnail"}


def test_job_lists_page_newest_first_and_filter_by_state(fakes: Fakes) -> None:
    ids = []
    for _ in range(3):
        ids.append(submitted(fakes))
        fakes.clock.advance(1)
        fakes.db.state.usage["alice"] = fakes.db.state.usage["alice"].__class__()  # quota room
    jobs.cancel_job(fakes.deps, ALICE, ids[1])
    first = jobs.list_jobs(fakes.deps, ALICE, jobs.ListJobs(page_size=2))
    assert [j["id"] for j in first["jobs"]] == [ids[2], ids[1]] and first["next_page_token"]
    rest = jobs.list_jobs(fakes.deps, ALICE, jobs.ListJobs(page_token=first["next_page_token"]))
    assert [j["id"] for j in rest["jobs"]] == [ids[0]] and rest["next_page_token"] == ""
    cancelled = jobs.list_jobs(fakes.deps, ALICE, jobs.ListJobs(state="CANCELLED"))
    assert [j["id"] for j in cancelled["jobs"]] == [ids[1]]


def test_a_video_the_provider_wrote_to_staging_is_moved_into_the_asset(fakes: Fakes) -> None:
    fakes.video.script = ["staged"]
    job_id = submitted(fakes)
    run(fakes, job_id, 0)
    [(_, staging)] = fakes.video.started
    bucket = fakes.deps.settings.media_bucket
    assert staging == f"gs://{bucket}/staging/jobs/{job_id}/"
    staged = f"staging/jobs/{job_id}/sample_0.mp4"
    fakes.video.video = fakes.bucket.objects[staged] = sample_mp4()
    assert run(fakes, job_id, 1) == "succeeded"
    asset = fakes.db.state.assets[fakes.db.state.jobs[job_id].asset_id]
    assert fakes.bucket.objects[asset.objects["original"].path] == fakes.video.video
    assert staged not in fakes.bucket.objects  # the move's second half


def test_a_video_anywhere_but_the_jobs_staging_prefix_is_refused(fakes: Fakes) -> None:
    fakes.video.script = ["staged"]
    job_id = submitted(fakes)
    other = submitted(fakes)
    run(fakes, job_id, 0)
    fakes.video.started[-1] = (None, fakes.video.started[-1][1].replace(job_id, other))
    assert run(fakes, job_id, 1) == "failed"
    job = fakes.db.state.jobs[job_id]
    assert job.error is not None and job.error["code"] == "PROVIDER_ERROR" and job.refunded


def test_a_failed_operation_is_started_again_a_bounded_number_of_times(fakes: Fakes) -> None:
    fakes.video.script = ["failed-op"]
    job_id = submitted(fakes)
    outcomes = run_to_end(fakes, job_id)
    # started, failed -> restarted, twice; the third failure ends the job, refunded.
    assert outcomes == ["started", "restarted", "started", "restarted", "started", "failed"]
    assert len(fakes.video.started) == 3
    job = fakes.db.state.jobs[job_id]
    assert job.state == "FAILED" and job.refunded and job.restarts == 2


def test_a_restarted_operation_that_then_succeeds_completes_the_job_once(fakes: Fakes) -> None:
    fakes.video.script = ["failed-op", "done"]
    job_id = submitted(fakes)
    assert run_to_end(fakes, job_id) == ["started", "restarted", "started", "succeeded"]
    assert len(fakes.db.state.assets) == 1 and not fakes.db.state.jobs[job_id].refunded
