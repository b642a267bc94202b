"""``webhooks`` function: the caller's webhook endpoints (register, list, delete, rotate)."""

from __future__ import annotations

from typing import Any

from genmedia.bootstrap import deps
from genmedia.handlers import function_router
from genmedia.http import Request, Response, link
from genmedia.http.auth import principal_of
from genmedia.models import CreateWebhookRequest, ListWebhooksResponse, WebhookWithSecret
from genmedia.services import webhooks

router = function_router("webhooks")


@router.route(
    "POST",
    "/v1/webhooks",
    request_model=CreateWebhookRequest,
    response_model=WebhookWithSecret,
    status=201,
    summary="Register a webhook endpoint for job events",
    description=(
        "The URL must be https and resolve only to public addresses (checked now and at every "
        "delivery). Deliveries follow Standard Webhooks v1; the secret is shown only here."
    ),
    errors=[409, 422],
    roles=("admin", "user"),
    links=[
        link(
            "RotateWebhookSecret", "POST", "/v1/webhooks/{id}:rotateSecret", id="$response.body#/id"
        ),
        link("DeleteWebhook", "DELETE", "/v1/webhooks/{id}", id="$response.body#/id"),
    ],
)
def create_webhook(req: Request) -> Response:
    body = req.json(CreateWebhookRequest)
    created = webhooks.create(deps(), principal_of(req), body.url, list(body.events))
    return Response(created, status=201, headers={"Location": f"/v1/webhooks/{created['id']}"})


@router.route(
    "GET", "/v1/webhooks", response_model=ListWebhooksResponse, summary="List your webhooks"
)
def list_webhooks(req: Request) -> dict[str, Any]:
    return webhooks.list_for(deps(), principal_of(req))


@router.route(
    "DELETE",
    "/v1/webhooks/{id}",
    status=204,
    summary="Delete a webhook endpoint",
    errors=[404],
    roles=("admin", "user"),
)
def delete_webhook(req: Request) -> Response:
    webhooks.delete(deps(), principal_of(req), req.path_params["id"])
    return Response(None, status=204)


@router.route(
    "POST",
    "/v1/webhooks/{id}:rotateSecret",
    response_model=WebhookWithSecret,
    summary="Replace the signing secret (the old one also signs for 24 hours)",
    errors=[404],
    roles=("admin", "user"),
)
def rotate_secret(req: Request) -> dict[str, Any]:
    return webhooks.rotate_secret(deps(), principal_of(req), req.path_params["id"])
