"""``generate_image`` function: POST /v1/images:generate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from genmedia import idempotency
from genmedia.auth import authenticate, principal_of, require_role
from genmedia.clients import firestore_client
from genmedia.config import get_settings
from genmedia.handlers.health import add_readiness
from genmedia.http import Request, Response, Router
from genmedia.models import GenerateImagesRequest, GenerateImagesResponse
from genmedia.services import images

router = Router("generate_image", authenticator=authenticate)
add_readiness(router)


@router.route(
    "POST",
    "/v1/images:generate",
    request_model=GenerateImagesRequest,
    response_model=GenerateImagesResponse,
    summary="Generate images from a prompt",
    description="Charges the daily image quota; send an Idempotency-Key to retry safely.",
    errors=[400, 403, 409, 413, 415, 422, 429, 503],
)
def generate(req: Request) -> Response:
    principal = require_role(principal_of(req), "admin", "user")
    body = req.json(GenerateImagesRequest)
    fingerprint = idempotency.fingerprint(req.method, req.path, body.model_dump(mode="json"))

    def work() -> tuple[Response, dict[str, Any]]:
        payload, headers = images.generate(principal, body, req.request_id)
        return Response(payload, headers=headers), payload

    ttl = timedelta(hours=get_settings().idempotency_ttl_hours)
    return idempotency.run_idempotent(
        firestore_client(),
        principal.uid,
        req.header(idempotency.HEADER),
        fingerprint,
        datetime.now(UTC),
        ttl,
        work,
    )
