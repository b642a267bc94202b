"""``account`` function: the caller's own account: data export and erasure (GDPR)."""

from __future__ import annotations

from typing import Any

from genmedia.bootstrap import deps
from genmedia.handlers import function_router
from genmedia.http import Request, Response, link
from genmedia.http.auth import principal_of
from genmedia.models import ErasureResponse, Export, ExportResponse
from genmedia.services import erasure, exports

router = function_router("account")


@router.route(
    "POST",
    "/v1/me:export",
    response_model=ExportResponse,
    status=202,
    summary="Export all your data as a ZIP",
    description=(
        "Answers at once with the export; follow it at Location until SUCCEEDED, then download "
        "it from `download.url`. One export at a time: asking again while one is under way "
        "returns it, so a retry never starts a second one. Exports are deleted after 7 days."
    ),
    errors=[403, 503],
    links=[link("GetExport", "GET", "/v1/me/exports/{id}", id="$response.body#/export/id")],
)
def request_export(req: Request) -> Response:
    payload = exports.request_export(deps(), principal_of(req))
    location = f"/v1/me/exports/{payload['export']['id']}"
    return Response(payload, status=202, headers={"Location": location})


@router.route(
    "GET",
    "/v1/me/exports/{id}",
    response_model=Export,
    summary="An export's state, and its download URL once ready",
    errors=[404],
)
def get_export(req: Request) -> dict[str, Any]:
    return exports.get_export(deps(), principal_of(req), req.path_params["id"])


@router.route(
    "DELETE",
    "/v1/me",
    response_model=ErasureResponse,
    status=202,
    summary="Erase your account and all its data",
    description=(
        "Irreversible. Your sign-in stops working at once; every asset, job, webhook, export "
        "and record of yours is then deleted, and finally the account itself. The audit log "
        "keeps only a pseudonymous record that an erasure happened."
    ),
    errors=[503],
)
def erase_me(req: Request) -> Response:
    principal = principal_of(req)
    return Response(erasure.request_erasure(deps(), principal, principal.uid), status=202)
