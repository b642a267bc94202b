"""``issue_signed_url`` function: the only function whose service account may sign URLs."""

from __future__ import annotations

from typing import Any

from genmedia import signing
from genmedia.auth import authenticate, principal_of
from genmedia.http import Request, Router
from genmedia.models import (
    BatchSignUrlsRequest,
    BatchSignUrlsResponse,
    SignUrlRequest,
    SignUrlResponse,
)
from genmedia.services import signurls

router = Router("issue_signed_url", authenticator=authenticate)


@router.route(
    "POST",
    "/v1/assets/{id}:signUrl",
    request_model=SignUrlRequest,
    response_model=SignUrlResponse,
    summary="A signed URL for one asset variant",
    errors=[404, 413, 415, 422],
)
def sign_url(req: Request) -> dict[str, Any]:
    principal = principal_of(req)
    return signurls.sign_one(principal, req.path_params["id"], req.json(SignUrlRequest))


@router.route(
    "POST",
    "/v1/assets:batchSignUrls",
    request_model=BatchSignUrlsRequest,
    response_model=BatchSignUrlsResponse,
    summary="Signed URLs for up to 100 assets",
    errors=[413, 415, 422],
)
def batch_sign_urls(req: Request) -> dict[str, Any]:
    return signurls.sign_batch(principal_of(req), req.json(BatchSignUrlsRequest))


@router.route("GET", "/statusz", auth=False, public=False)
def statusz(_: Request) -> dict[str, Any]:
    """This instance's signing counters (private: not routed by the gateway or the LB)."""
    return {"signing": signing.stats()}
