"""``generate_video`` function: POST /v1/videos:generate (202 with the QUEUED job)."""

from __future__ import annotations

from genmedia.bootstrap import deps
from genmedia.handlers import function_router
from genmedia.handlers.health import add_readiness
from genmedia.http import Request, Response, link
from genmedia.http.auth import principal_of
from genmedia.http.headers import rate_limit_headers
from genmedia.models import GenerateVideoRequest, JobResponse
from genmedia.services import generate_video

router = function_router("generate_video")
add_readiness(router)


@router.route(
    "POST",
    "/v1/videos:generate",
    request_model=GenerateVideoRequest,
    response_model=JobResponse,
    status=202,
    summary="Start generating a video",
    description=(
        "Charges the monthly video quota and answers at once with the QUEUED job; follow it "
        "at Location (GET /v1/jobs/{id}, or :watch for live updates). A job that fails or is "
        "cancelled is refunded. Send an Idempotency-Key to retry safely."
    ),
    errors=[400, 403, 409, 413, 415, 422, 429, 503],
    roles=("admin", "user"),
    idempotent=True,
    links=[
        link("GetJob", "GET", "/v1/jobs/{id}", id="$response.body#/job/id"),
        link("CancelJob", "POST", "/v1/jobs/{id}:cancel", id="$response.body#/job/id"),
    ],
)
def generate(req: Request) -> Response:
    body = req.json(GenerateVideoRequest)
    request = generate_video.VideoRequest(**body.model_dump())
    result = generate_video.submit(deps(), principal_of(req), request, req.request_id)
    headers = rate_limit_headers(result.rate) | {
        "Location": f"/v1/jobs/{result.payload['job']['id']}"
    }
    return Response(result.payload, status=202, headers=headers)
