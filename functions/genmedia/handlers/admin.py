"""``admin`` function: user roles, quota overrides and the audit log (admin role only, on every
path)."""

from __future__ import annotations

from typing import Any

from genmedia.bootstrap import deps
from genmedia.handlers import function_router
from genmedia.http import Request, Response, link
from genmedia.http.auth import principal_of
from genmedia.models import (
    DenylistRequest,
    DenylistView,
    Erasure,
    ErasureResponse,
    ListAuditQuery,
    ListAuditResponse,
    ListBlockedQuery,
    ListBlockedResponse,
    UpdateUserRequest,
    UserView,
)
from genmedia.services import admin, audit, erasure, moderation_review
from genmedia.store.audit import AuditQuery

router = function_router("admin")


@router.route(
    "GET",
    "/v1/admin/users/{uid}",
    response_model=UserView,
    summary="A user's effective role and quota",
    errors=[403, 404],
    roles=("admin",),
)
def get_user(req: Request) -> dict[str, Any]:
    return admin.get_user(deps(), req.path_params["uid"])


@router.route(
    "PATCH",
    "/v1/admin/users/{uid}",
    request_model=UpdateUserRequest,
    response_model=UserView,
    summary="Set a user's role and quota overrides",
    description="A null quota field removes that override. Lowering a role revokes the "
    "user's sessions so the old role stops working at once.",
    errors=[403, 404, 413, 415, 422],
    roles=("admin",),
)
def update_user(req: Request) -> dict[str, Any]:
    body = req.json(UpdateUserRequest)
    quota = body.quota.model_dump(exclude_unset=True) if body.quota is not None else None
    change = admin.UpdateUser(body.role, quota)
    return admin.update_user(deps(), principal_of(req), req.path_params["uid"], change)


@router.route(
    "DELETE",
    "/v1/admin/users/{uid}",
    response_model=ErasureResponse,
    status=202,
    summary="Erase a user's account and all its data",
    description="As DELETE /v1/me for that user; repeating it resumes the same erasure.",
    errors=[403, 404, 503],
    roles=("admin",),
    links=[link("GetErasure", "GET", "/v1/admin/erasures/{id}", id="$response.body#/erasure/id")],
)
def erase_user(req: Request) -> Response:
    uid = req.path_params["uid"]
    return Response(erasure.request_erasure(deps(), principal_of(req), uid), status=202)


@router.route(
    "GET",
    "/v1/admin/erasures/{id}",
    response_model=Erasure,
    summary="An erasure's progress, by its pseudonymous id",
    errors=[403, 404],
    roles=("admin",),
)
def get_erasure(req: Request) -> dict[str, Any]:
    return erasure.get_erasure(deps(), req.path_params["id"])


@router.route(
    "GET",
    "/v1/admin/audit",
    query_model=ListAuditQuery,
    response_model=ListAuditResponse,
    summary="The audit log, newest first",
    description="Filter by actor uid, target id, action and a time range; filters combine.",
    errors=[403, 422],
    roles=("admin",),
)
def list_audit(req: Request) -> dict[str, Any]:
    q = req.query(ListAuditQuery)
    spec = AuditQuery(q.actor, q.target, q.action, q.start_time, q.end_time)
    return audit.list_events(deps(), audit.ListAudit(spec, q.page_size, q.page_token))


@router.route(
    "GET",
    "/v1/admin/moderation",
    query_model=ListBlockedQuery,
    response_model=ListBlockedResponse,
    summary="Blocked prompts for review, newest first",
    errors=[403, 422],
    roles=("admin",),
)
def list_blocked(req: Request) -> dict[str, Any]:
    q = req.query(ListBlockedQuery)
    return moderation_review.list_blocked(
        deps(), moderation_review.ListBlocked(q.page_size, q.page_token)
    )


@router.route(
    "GET",
    "/v1/admin/settings/moderation",
    response_model=DenylistView,
    summary="The denylist in force",
    errors=[403],
    roles=("admin",),
)
def get_denylist(req: Request) -> dict[str, Any]:
    return moderation_review.denylist(deps())


@router.route(
    "PATCH",
    "/v1/admin/settings/moderation",
    request_model=DenylistRequest,
    response_model=DenylistView,
    summary="Replace the denylist (applies everywhere within 30 s, no redeploy)",
    errors=[403, 413, 415, 422],
    roles=("admin",),
)
def set_denylist(req: Request) -> dict[str, Any]:
    body = req.json(DenylistRequest)
    return moderation_review.set_denylist(deps(), principal_of(req), body.denylist)
