"""``admin`` function: user roles and quota overrides (admin role only, on every path)."""

from __future__ import annotations

from typing import Any

from genmedia.auth import authenticate, principal_of, require_role
from genmedia.http import Request, Router
from genmedia.models import UpdateUserRequest, UserView
from genmedia.services import admin

router = Router("admin", authenticator=authenticate)


@router.route(
    "GET",
    "/v1/admin/users/{uid}",
    response_model=UserView,
    summary="A user's effective role and quota",
    errors=[403, 404],
)
def get_user(req: Request) -> dict[str, Any]:
    require_role(principal_of(req), "admin")
    return admin.get_user(req.path_params["uid"])


@router.route(
    "PATCH",
    "/v1/admin/users/{uid}",
    request_model=UpdateUserRequest,
    response_model=UserView,
    summary="Set a user's role and quota overrides",
    description="A null quota field removes that override. Lowering a role revokes the "
    "user's sessions so the old role stops working at once.",
    errors=[403, 404, 413, 415, 422],
)
def update_user(req: Request) -> dict[str, Any]:
    require_role(principal_of(req), "admin")
    body = req.json(UpdateUserRequest)
    return admin.update_user(req.path_params["uid"], body)
