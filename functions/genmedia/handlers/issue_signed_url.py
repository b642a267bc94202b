"""``issue_signed_url`` function: the only function whose service account may sign URLs."""

from __future__ import annotations

from typing import Any

from genmedia.bootstrap import deps
from genmedia.handlers import function_router
from genmedia.http import Request
from genmedia.http.auth import principal_of
from genmedia.models import (
    BatchSignUrlsRequest,
    BatchSignUrlsResponse,
    SignUrlRequest,
    SignUrlResponse,
)
from genmedia.services import issue_signed_url
from genmedia.services.issue_signed_url import SignUrl

router = function_router("issue_signed_url")


@router.route(
    "POST",
    "/v1/assets/{id}:signUrl",
    request_model=SignUrlRequest,
    response_model=SignUrlResponse,
    summary="A signed URL for one asset variant",
    errors=[404, 413, 415, 422],
    read_only=True,
)
def sign_url(req: Request) -> dict[str, Any]:
    body = req.json(SignUrlRequest)
    request = SignUrl(req.path_params["id"], body.variant, body.ttl_seconds, body.download)
    return issue_signed_url.sign_one(deps(), principal_of(req), request)


@router.route(
    "POST",
    "/v1/assets:batchSignUrls",
    request_model=BatchSignUrlsRequest,
    response_model=BatchSignUrlsResponse,
    summary="Signed URLs for up to 100 assets",
    errors=[413, 415, 422],
    read_only=True,
)
def batch_sign_urls(req: Request) -> dict[str, Any]:
    body = req.json(BatchSignUrlsRequest)
    return issue_signed_url.sign_batch(deps(), principal_of(req), body.ids, body.variant)


@router.route("GET", "/statusz", auth=False, public=False)
def statusz(_: Request) -> dict[str, Any]:
    """This instance's signing counters (private: not routed by the gateway or the LB)."""
    return issue_signed_url.statistics(deps())
