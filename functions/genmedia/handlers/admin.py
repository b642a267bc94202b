"""``admin`` function: user roles and quota overrides (admin role only, on every path)."""

from __future__ import annotations

from typing import Any

from genmedia.bootstrap import deps
from genmedia.handlers import function_router
from genmedia.http import Request
from genmedia.models import UpdateUserRequest, UserView
from genmedia.services import admin

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
    return admin.update_user(deps(), req.path_params["uid"], admin.UpdateUser(body.role, quota))
