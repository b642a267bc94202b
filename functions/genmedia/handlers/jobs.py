"""``jobs`` function: the caller's video jobs (get, list, cancel)."""

from __future__ import annotations

from typing import Any

from genmedia.bootstrap import deps
from genmedia.handlers import function_router
from genmedia.http import Request, Stream
from genmedia.http.auth import principal_of
from genmedia.models import Job, ListJobsQuery, ListJobsResponse
from genmedia.services import job_events, jobs

router = function_router("jobs")


@router.route(
    "GET",
    "/v1/jobs",
    query_model=ListJobsQuery,
    response_model=ListJobsResponse,
    summary="List your video jobs, newest first",
    errors=[422],
)
def list_jobs(req: Request) -> dict[str, Any]:
    query = req.query(ListJobsQuery)
    params = jobs.ListJobs(query.page_size, query.page_token, query.state)
    return jobs.list_jobs(deps(), principal_of(req), params)


@router.route(
    "GET",
    "/v1/jobs/{id}",
    response_model=Job,
    summary="Get a video job",
    description="Once SUCCEEDED, `asset` is the video with signed URLs (original, poster).",
    errors=[404],
)
def get_job(req: Request) -> dict[str, Any]:
    return jobs.get_job(deps(), principal_of(req), req.path_params["id"], req.request_id)


@router.route(
    "GET",
    "/v1/jobs/{id}:watch",
    summary="Follow a job live (Server-Sent Events)",
    description=(
        "`text/event-stream` of `job` events (data: the Job) whenever it changes, until a "
        "terminal state or about four minutes; reconnect with `Last-Event-ID` to resume."
    ),
    errors=[404],
    stream_type="text/event-stream",
)
def watch_job(req: Request) -> Stream:
    last_seen = job_events.parse_last_event_id(req.header("Last-Event-ID"))
    events = job_events.watch(deps(), principal_of(req), req.path_params["id"], last_seen)
    # X-Accel-Buffering: proxies that buffer responses would hold events back.
    return Stream(events, "text/event-stream", {"X-Accel-Buffering": "no"})


@router.route(
    "POST",
    "/v1/jobs/{id}:cancel",
    response_model=Job,
    summary="Cancel a queued or running job (refunded)",
    description="A queued job never runs; a running one stops at its next progress point.",
    errors=[404, 409],
    roles=("admin", "user"),
)
def cancel_job(req: Request) -> dict[str, Any]:
    return jobs.cancel_job(deps(), principal_of(req), req.path_params["id"])
