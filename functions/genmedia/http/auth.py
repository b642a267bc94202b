"""Firebase ID tokens from ``Authorization: Bearer``, verified into a ``Principal``.

Tokens are verified by firebase-admin. Requests that spend or change something check
revocation and disabled accounts with Identity Toolkit every time (``check_revoked=True``);
read-only routes (GET, HEAD, signing a URL) and idempotent replays check them through the
instance's ``RevocationCache`` (genmedia.revocation, where the trade-off is explained): the
router says which with ``fresh``; they also reuse the claims of a token this instance already
verified (``genmedia.verified_tokens``). Roles are in ``genmedia.principal``.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from genmedia.errors import Unauthenticated, Unavailable
from genmedia.http.request import Request
from genmedia.principal import Principal, role_of
from genmedia.verified_tokens import VerifiedTokens

if TYPE_CHECKING:
    import firebase_admin

    from genmedia.revocation import RevocationCache

CLOCK_SKEW_SECONDS = 10
MAX_TOKEN_LENGTH = 8192


def _bearer(req: Request) -> str:
    header = req.header("Authorization") or ""
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("Send a Firebase ID token as 'Authorization: Bearer <token>'")
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise Unauthenticated("The ID token is malformed")
    return token


def _payload(token: str) -> dict[str, Any]:
    """The token's claims, unverified: only to refuse shapes the library would trip over."""
    segment = token.split(".")[1]
    try:
        payload = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except ValueError:
        raise Unauthenticated("The ID token is malformed") from None
    if not isinstance(payload, dict):
        raise Unauthenticated("The ID token is malformed")
    return payload


def _check_shape(claims: dict[str, Any]) -> None:
    """Every claim the verification and revocation checks compute with must be present and
    typed: firebase-admin answers a token without ``iat`` with a TypeError, not a refusal."""
    numeric = all(
        isinstance(claims.get(k), int | float) and not isinstance(claims.get(k), bool)
        for k in ("iat", "exp")
    )
    subject = claims.get("sub")
    if not numeric or not isinstance(subject, str) or not 0 < len(subject) <= 128:
        raise Unauthenticated("The ID token is invalid")


def verify(token: str, app: firebase_admin.App, *, check_revoked: bool = True) -> dict[str, Any]:
    from firebase_admin import auth, exceptions

    _check_shape(_payload(token))
    try:
        claims: dict[str, Any] = auth.verify_id_token(
            token, app=app, check_revoked=check_revoked, clock_skew_seconds=CLOCK_SKEW_SECONDS
        )
    except auth.ExpiredIdTokenError as exc:
        raise Unauthenticated("The ID token has expired") from exc
    except auth.RevokedIdTokenError as exc:
        raise Unauthenticated("The ID token has been revoked") from exc
    except auth.UserDisabledError as exc:
        raise Unauthenticated("The account is disabled") from exc
    except auth.CertificateFetchError as exc:
        raise Unavailable("Token verification is unavailable", retry_after=1) from exc
    except (auth.InvalidIdTokenError, auth.UserNotFoundError, ValueError) as exc:
        raise Unauthenticated("The ID token is invalid") from exc
    except (TypeError, KeyError, AttributeError) as exc:
        # A claim set the library did not expect; never a 500 for the client's token.
        raise Unauthenticated("The ID token is invalid") from exc
    except exceptions.FirebaseError as exc:
        # Identity Toolkit unreachable for the revocation check: an outage, not a sign-out.
        raise Unavailable("Token verification is unavailable", retry_after=1) from exc
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


class FirebaseAuthenticator:
    """The router's authenticator: the request's Bearer token, verified, as a Principal."""

    def __init__(
        self,
        app: Callable[[], firebase_admin.App],
        revocations: Callable[[], RevocationCache] | None = None,
        verified: VerifiedTokens | None = None,
    ) -> None:
        self._app = app
        self._revocations = revocations
        # Read-only requests reuse a token's verified claims (genmedia.verified_tokens).
        self._verified = verified or VerifiedTokens()

    def __call__(self, req: Request, *, fresh: bool) -> Principal:
        token = _bearer(req)
        cached = self._revocations is not None and not fresh
        if cached and self._revocations is not None:
            claims = self._verified.get(token)
            if claims is None:
                claims = verify(token, self._app(), check_revoked=False)
                self._verified.put(token, claims)
            else:
                _check_lifetime(claims)
            self._revocations().check(str(claims["uid"]), float(claims["iat"]))
        else:
            claims = verify(token, self._app(), check_revoked=True)
        return Principal(str(claims["uid"]), role_of(claims), claims.get("email"), token)


def principal_of(req: Request) -> Principal:
    """The principal the router's authenticator attached to ``req``."""
    if not isinstance(req.principal, Principal):
        raise Unauthenticated("Authentication required")
    return req.principal
