"""Who may call a task worker: Cloud Tasks, with an OIDC token for our tasks service account.

The token is an RS256 ID token signed by Google (or, locally, by the Tasks emulator's key,
whose certificates ``GENMEDIA_OIDC_CERTS_URL`` names; config refuses that variable in
production). Checked: signature, expiry, issuer, audience (the worker's own URL) and the
service account email. Certificates are cached and refetched when a token names a key id we
have not seen (Google rotates keys), so a verification costs no HTTP call in the steady state.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from genmedia.errors import PermissionDenied, Unauthenticated, Unavailable

GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
ISSUERS = ("https://accounts.google.com", "accounts.google.com")
_CERTS_MAX_AGE_S = 3600.0
_CERTS_MIN_REFETCH_S = 30.0  # an unknown kid cannot make us fetch more often than this


class TaskTokenVerifier:
    def __init__(self, audience: str | None, service_account: str | None, certs_url: str | None):
        self._audience = audience
        self._email = service_account
        self._certs_url = certs_url or GOOGLE_CERTS_URL
        self._certs: dict[str, str] = {}
        self._fetched = float("-inf")
        self._lock = threading.Lock()

    def verify(self, authorization: str | None) -> dict[str, Any]:
        """The token's claims, or Unauthenticated (no/bad token) / PermissionDenied (not ours)."""
        from google.auth import exceptions, jwt

        if self._audience is None or self._email is None:
            raise PermissionDenied("This worker accepts no tasks: its audience is not configured")
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("A Cloud Tasks OIDC token is required")
        try:
            claims: dict[str, Any] = jwt.decode(  # type: ignore[no-untyped-call]
                token, certs=self._certs_for(token), audience=self._audience,
                clock_skew_in_seconds=10,
            )  # fmt: skip
        except (exceptions.GoogleAuthError, ValueError) as exc:
            raise Unauthenticated("The task token is not valid") from exc
        if claims.get("iss") not in ISSUERS:
            raise Unauthenticated("The task token is not valid")
        if claims.get("email") != self._email or claims.get("email_verified") is not True:
            raise PermissionDenied("This worker accepts tasks from its queue only")
        return claims

    def _certs_for(self, token: str) -> dict[str, str]:
        from google.auth import jwt

        try:
            kid = jwt.decode_header(token).get("kid")  # type: ignore[no-untyped-call]
        except ValueError as exc:
            raise Unauthenticated("The task token is not valid") from exc
        with self._lock:
            age = time.monotonic() - self._fetched
            stale = age > _CERTS_MAX_AGE_S or (
                kid not in self._certs and age > _CERTS_MIN_REFETCH_S
            )
            if stale:
                try:
                    self._certs = _fetch(self._certs_url)
                except (OSError, ValueError) as exc:
                    raise Unavailable("Cannot verify task tokens now", retry_after=5) from exc
                self._fetched = time.monotonic()
            return dict(self._certs)


def _fetch(url: str) -> dict[str, str]:
    import urllib.request

    # Our own configuration, never user input: Google's certificate URL or the emulator's.
    with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310
        certs: dict[str, str] = json.loads(resp.read())
    return certs
