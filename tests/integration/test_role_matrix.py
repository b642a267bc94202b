"""Every public route, through the gateway, with each role: a route that declares roles
answers 403 PERMISSION_DENIED to every other role before it reads anything, and any role it
allows gets past the check (whatever the handler then says about a made-up id or body)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from genmedia.handlers import public_routers
from genmedia.principal import ROLES
from tests.support.harness import Gateway, User

# Erasing the caller's own account ends its session, so that route is walked last.
ROUTES = sorted(
    (
        (router.function_name, route)
        for router in public_routers()
        for route in router.public_routes()
        if route.auth
    ),
    key=lambda item: (item[1].method, item[1].pattern) == ("DELETE", "/v1/me"),
)
_PARAM = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


def test_the_matrix_covers_the_admin_and_generation_routes() -> None:
    guarded = {route.pattern for _, route in ROUTES if route.roles}
    assert {"/v1/admin/users/{uid}", "/v1/images:generate", "/v1/videos:generate"} <= guarded
    # Every admin path is for admins only; viewers never start paid work.
    assert all(r.roles == ("admin",) for _, r in ROUTES if r.pattern.startswith("/v1/admin/"))
    assert all("viewer" not in r.roles for _, r in ROUTES if r.pattern.endswith(":generate"))


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_the_routes_it_is_allowed(
    role: str, gateway: Gateway, make_user: Callable[..., User]
) -> None:
    user = make_user(role=None if role == "user" else role)
    wrong: list[str] = []
    for function, route in ROUTES:
        path = _PARAM.sub("no-such-id", route.pattern)
        resp = gateway.call(route.method, path, user=user, json={})
        denied = resp.status_code == 403 and resp.json()["code"] == "PERMISSION_DENIED"
        if denied != (bool(route.roles) and role not in route.roles):
            wrong.append(f"{function} {route.method} {path} -> {resp.status_code}")
    assert wrong == []
