"""Who is calling, and with which role: shared by handlers, services and policies.

The role comes from the Firebase ``role`` custom claim; a missing claim means ``user`` and an
unknown value means ``viewer`` (least privilege). ``ROLES`` is the one table of roles.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

from genmedia.errors import PermissionDenied

Role = Literal["admin", "user", "viewer"]
ROLES: tuple[Role, ...] = get_args(Role)  # most privileged first
RANK: dict[Role, int] = {role: rank for rank, role in enumerate(reversed(ROLES))}


@dataclass(frozen=True)
class Principal:
    uid: str
    role: Role
    email: str | None = None
    # The verified ID token, to call our own API as this user; never printed or compared.
    token: str = field(default="", repr=False, compare=False)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def role_of(claims: Mapping[str, object]) -> Role:
    role = claims.get("role", "user")
    return next((r for r in ROLES if r == role), "viewer")


def require_role(principal: Principal, *allowed: Role) -> Principal:
    if principal.role not in allowed:
        raise PermissionDenied(f"The '{principal.role}' role may not do this")
    return principal
