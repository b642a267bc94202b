"""Video submission: validate against the model, moderate, charge and create the job in one
transaction, then hand the job to the worker through Cloud Tasks.

Nothing waits for the video: the caller gets the QUEUED job (202) and follows it. If the task
cannot be created the job is failed and refunded at once, so a charge is never left behind
without a worker on its way.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from genmedia import quotas, ratelimit
from genmedia.errors import FieldError, InvalidArgument, Unavailable
from genmedia.logging import get_logger
from genmedia.media.video import VideoProvider, VideoSpec
from genmedia.principal import Principal
from genmedia.services.jobs import finish, job_view
from genmedia.services.screening import screen
from genmedia.store.records import JobRecord

if TYPE_CHECKING:
    from datetime import datetime

    from genmedia.bootstrap import Deps

_log = get_logger("genmedia.generate_video")


@dataclass(frozen=True)
class VideoRequest:
    """What the caller asked for; unset fields take the model's defaults."""

    prompt: str
    negative_prompt: str | None = None
    duration_seconds: int | None = None
    aspect_ratio: str = "16:9"
    resolution: str = "720p"
    seed: int | None = None
    model: str | None = None
    generate_audio: bool = False


@dataclass(frozen=True)
class Submitted:
    payload: dict[str, Any]
    rate: ratelimit.RateLimitState


def task_id(job_id: str, step: int) -> str:
    """The Cloud Tasks name of a job's step: one task per step, so re-enqueues dedupe."""
    return f"{job_id}-{step}"


def resolve(provider: VideoProvider, request: VideoRequest) -> VideoSpec:
    """The spec for ``request`` under its model's limits, or a 422 naming every bad field."""
    name = request.model or provider.default_model
    model = provider.models.get(name)
    if model is None:
        raise InvalidArgument(
            "Unknown video model",
            errors=[FieldError("model", f"must be one of {', '.join(provider.models)}")],
        )
    duration = request.duration_seconds or max(model.durations)
    problems = []
    if duration not in model.durations:
        allowed = ", ".join(str(d) for d in model.durations)
        problems.append(FieldError("duration_seconds", f"{name} accepts {allowed}"))
    if request.resolution not in model.resolutions:
        problems.append(FieldError("resolution", f"{name} accepts {', '.join(model.resolutions)}"))
    if request.generate_audio and not model.audio:
        problems.append(FieldError("generate_audio", f"{name} does not generate audio"))
    if problems:
        raise InvalidArgument("The video request exceeds the model's limits", errors=problems)
    return VideoSpec(
        prompt=request.prompt, model=name, duration_seconds=duration,
        aspect_ratio=request.aspect_ratio, resolution=request.resolution,  # type: ignore[arg-type]
        negative_prompt=request.negative_prompt, seed=request.seed,
        generate_audio=request.generate_audio,
    )  # fmt: skip


def submit(deps: Deps, principal: Principal, request: VideoRequest, request_id: str) -> Submitted:
    provider = deps.video_provider()
    spec = resolve(provider, request)
    now = deps.clock.now()
    screen(deps, principal, [spec.prompt, spec.negative_prompt], request_id)
    cost = provider.models[spec.model].cost_per_second * spec.duration_seconds
    job = _new_job(deps, principal, spec, provider.name, cost, request_id, now)
    rate = _charge(deps, job, now)
    try:
        deps.task_queue().enqueue(task_id(job.id, 0), {"job_id": job.id, "step": 0})
    except Exception as exc:
        error = {"code": "UNAVAILABLE", "message": "The job could not be queued"}
        finish(deps, job.id, "FAILED", error=error)
        _log.warning("video job not queued", extra={"json_fields": {"job": job.id}})
        raise Unavailable(
            "Video jobs are unavailable; nothing was charged", retry_after=10
        ) from exc
    _log.info(
        "video job queued",
        extra={"json_fields": {"job": job.id, "uid": principal.uid, "model": spec.model}},
    )
    return Submitted({"job": job_view(job)}, rate)


def _new_job(
    deps: Deps, principal: Principal, spec: VideoSpec, provider: str, cost: Decimal,
    request_id: str, now: datetime,
) -> JobRecord:  # fmt: skip
    params = {
        "model": spec.model,
        "duration_seconds": spec.duration_seconds,
        "aspect_ratio": spec.aspect_ratio,
        "resolution": spec.resolution,
        "negative_prompt": spec.negative_prompt,
        "seed": spec.seed,
        "generate_audio": spec.generate_audio,
        "provider": provider,
    }
    return JobRecord(
        id=deps.new_id(), owner_uid=principal.uid, state="QUEUED", prompt=spec.prompt,
        params=params, cost_micros=int(cost * 1_000_000), month=quotas.periods(now)[1],
        asset_id=deps.new_id(), create_time=now, update_time=now, request_id=request_id,
    )  # fmt: skip


def _charge(deps: Deps, job: JobRecord, now: datetime) -> ratelimit.RateLimitState:
    """One transaction: take a rate-limit token, charge the month's video quota, create the job."""
    db, settings = deps.database, deps.settings

    def work(txn: Any) -> ratelimit.RateLimitState:
        stored, user = db.usage.read_with_user(job.owner_uid, txn)
        quotas.check_not_erasing(user)
        usage, rate = quotas.charge_video(
            stored, quotas.limits_for(settings, user), quotas.bucket_for(settings),
            cost_micros=job.cost_micros, now=now,
        )  # fmt: skip
        db.usage.put(txn, job.owner_uid, usage)
        db.jobs.create(txn, job)
        return rate

    return db.run_transaction(work)


def spec_of(job: JobRecord) -> VideoSpec:
    """The spec a job was submitted with (the worker starts the provider with it)."""
    p = job.params
    return VideoSpec(
        prompt=job.prompt, model=p["model"], duration_seconds=p["duration_seconds"],
        aspect_ratio=p["aspect_ratio"], resolution=p["resolution"],
        negative_prompt=p.get("negative_prompt"), seed=p.get("seed"),
        generate_audio=bool(p.get("generate_audio")),
    )  # fmt: skip
