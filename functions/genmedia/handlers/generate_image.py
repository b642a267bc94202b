"""``generate_image`` function: POST /v1/images:generate."""

from __future__ import annotations

from genmedia.bootstrap import deps
from genmedia.handlers import function_router
from genmedia.handlers.health import add_readiness
from genmedia.http import Request, Response, link
from genmedia.http.auth import principal_of
from genmedia.http.headers import rate_limit_headers
from genmedia.media.base import ImageSpec
from genmedia.models import GenerateImagesRequest, GenerateImagesResponse
from genmedia.services import generate_image

router = function_router("generate_image")
add_readiness(router)


@router.route(
    "POST",
    "/v1/images:generate",
    request_model=GenerateImagesRequest,
    response_model=GenerateImagesResponse,
    summary="Generate images from a prompt",
    description="Charges the daily image quota; send an Idempotency-Key to retry safely.",
    errors=[400, 403, 409, 413, 415, 422, 429, 503],
    roles=("admin", "user"),
    idempotent=True,
    links=[
        link("GetAsset", "GET", "/v1/assets/{id}", id="$response.body#/assets/0/id"),
        link("SignAssetUrl", "POST", "/v1/assets/{id}:signUrl", id="$response.body#/assets/0/id"),
        link("DeleteAsset", "DELETE", "/v1/assets/{id}", id="$response.body#/assets/0/id"),
    ],
)
def generate(req: Request) -> Response:
    body = req.json(GenerateImagesRequest)
    spec = ImageSpec(**body.model_dump())
    result = generate_image.generate(deps(), principal_of(req), spec, req.request_id)
    return Response(result.payload, headers=rate_limit_headers(result.rate))
