"""Firebase ID token verification and roles.

Tokens are verified by firebase-admin with ``check_revoked=True``, which also rejects disabled
accounts. The role comes from the ``role`` custom claim; a missing claim means ``user`` and an
unknown value means ``viewer`` (least privilege).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

from genmedia.clients import firebase_app
from genmedia.errors import PermissionDenied, Unauthenticated, Unavailable
from genmedia.http import Request

Role = Literal["admin", "user", "viewer"]
ROLES: tuple[Role, ...] = ("admin", "user", "viewer")
CLOCK_SKEW_SECONDS = 10
MAX_TOKEN_LENGTH = 8192


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


def _bearer(req: Request) -> str:
    header = req.header("Authorization") or ""
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("Send a Firebase ID token as 'Authorization: Bearer <token>'")
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise Unauthenticated("The ID token is malformed")
    return token


def verify(token: str) -> dict[str, Any]:
    from firebase_admin import auth

    try:
        claims: dict[str, Any] = auth.verify_id_token(
            token, app=firebase_app(), check_revoked=True, clock_skew_seconds=CLOCK_SKEW_SECONDS
        )
    except auth.ExpiredIdTokenError as exc:
        raise Unauthenticated("The ID token has expired") from exc
    except auth.RevokedIdTokenError as exc:
        raise Unauthenticated("The ID token has been revoked") from exc
    except auth.UserDisabledError as exc:
        raise Unauthenticated("The account is disabled") from exc
    except auth.CertificateFetchError as exc:
        raise Unavailable(
            "Token verification is unavailable", headers={"Retry-After": "1"}
        ) from exc
    except (auth.InvalidIdTokenError, auth.UserNotFoundError, ValueError) as exc:
        raise Unauthenticated("The ID token is invalid") from exc
    _check_lifetime(claims)
    return claims


def _check_lifetime(claims: dict[str, Any]) -> None:
    """Expiry checked again here: firebase-admin skips it for emulator tokens, and the local
    stack should refuse an expired token exactly as production does."""
    now = time.time()
    if float(claims.get("exp", 0)) + CLOCK_SKEW_SECONDS < now:
        raise Unauthenticated("The ID token has expired")
    if float(claims.get("iat", now)) - CLOCK_SKEW_SECONDS > now:
        raise Unauthenticated("The ID token is invalid")


def role_of(claims: dict[str, Any]) -> Role:
    role = claims.get("role", "user")
    return role if role in ROLES else "viewer"


def authenticate(req: Request) -> Principal:
    token = _bearer(req)
    claims = verify(token)
    return Principal(str(claims["uid"]), role_of(claims), claims.get("email"), token)


def require_role(principal: Principal, *allowed: Role) -> Principal:
    if principal.role not in allowed:
        raise PermissionDenied(f"The '{principal.role}' role may not do this")
    return principal


def principal_of(req: Request) -> Principal:
    """The principal the router's authenticator attached to ``req``."""
    if not isinstance(req.principal, Principal):
        raise Unauthenticated("Authentication required")
    return req.principal
