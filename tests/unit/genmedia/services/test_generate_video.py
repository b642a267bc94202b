"""Video submission with fakes of our ports: limits per model, charge with the job, enqueue."""

from __future__ import annotations

import pytest

from genmedia.errors import ContentBlocked, InvalidArgument, QuotaExceeded, Unavailable
from genmedia.principal import Principal
from genmedia.services import generate_video
from genmedia.services.generate_video import VideoRequest
from tests.fakes.ports import Fakes, make_deps

ALICE = Principal("alice", "user", token="alice-token")


@pytest.fixture
def fakes() -> Fakes:
    return make_deps(GENMEDIA_QUOTA_VIDEOS_PER_MONTH="2")


def submit(fakes: Fakes, **fields: object) -> dict[str, object]:
    request = VideoRequest(**{"prompt": "a heron taking off", **fields})  # type: ignore[arg-type]
    return generate_video.submit(fakes.deps, ALICE, request, "rid").payload


def test_a_submission_charges_the_month_creates_the_job_and_enqueues_step_zero(
    fakes: Fakes,
) -> None:
    job = submit(fakes)["job"]
    assert isinstance(job, dict)
    assert job["state"] == "QUEUED" and job["progress"] == {"percent": 0, "stage": "queued"}
    # The model's longest duration by default, priced per second.
    assert job["duration_seconds"] == 8 and job["cost"] == {"currency": "USD", "amount": "4.000000"}
    usage = fakes.db.state.usage["alice"]
    assert usage.videos == 1 and usage.cost_micros == 4_000_000
    assert fakes.tasks.tasks == {f"{job['id']}-0": ({"job_id": job["id"], "step": 0}, None)}
    assert fakes.db.state.jobs[str(job["id"])].owner_uid == "alice"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"model": "no-such-model"}, "model"),
        ({"duration_seconds": 5}, "duration_seconds"),
        ({"resolution": "1080p"}, "resolution"),
        ({"generate_audio": True}, "generate_audio"),
    ],
)
def test_requests_beyond_the_models_limits_are_422_naming_the_field(
    fakes: Fakes, fields: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        submit(fakes, **fields)
    assert [e.field for e in caught.value.errors] == [field]
    assert fakes.db.state.jobs == {} and "alice" not in fakes.db.state.usage


def test_a_model_with_audio_and_1080p_accepts_them(fakes: Fakes) -> None:
    job = submit(fakes, model="fake-audio", resolution="1080p", generate_audio=True)["job"]
    assert isinstance(job, dict) and job["generate_audio"] is True and job["resolution"] == "1080p"


def test_the_monthly_quota_refuses_the_third_video_without_a_job(fakes: Fakes) -> None:
    submit(fakes)
    submit(fakes)
    with pytest.raises(QuotaExceeded) as caught:
        submit(fakes)
    assert caught.value.extra["limit"] == 2
    assert len(fakes.db.state.jobs) == 2 and len(fakes.tasks.tasks) == 2


def test_blocked_prompts_are_refused_before_anything_is_charged(fakes: Fakes) -> None:
    with pytest.raises(ContentBlocked):
        submit(fakes, negative_prompt="cs\u200bam")
    assert fakes.db.state.jobs == {} and "alice" not in fakes.db.state.usage


def test_a_job_that_cannot_be_queued_is_failed_and_refunded_at_once(fakes: Fakes) -> None:
    fakes.tasks.down = True
    with pytest.raises(Unavailable):
        submit(fakes)
    [job] = fakes.db.state.jobs.values()
    assert (
        job.state == "FAILED"
        and job.refunded
        and job.error
        == {
            "code": "UNAVAILABLE",
            "message": "The job could not be queued",
        }
    )
    usage = fakes.db.state.usage["alice"]
    assert usage.videos == 0 and usage.cost_micros == 0
