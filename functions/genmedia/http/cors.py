"""CORS against an exact-origin allowlist, and the security headers every response carries.

No wildcard is ever sent, and no ``Access-Control-Allow-Credentials``: the frontend
authenticates with a bearer token, not cookies. A preflight from an origin outside the allowlist
is answered 403 PERMISSION_DENIED (problem+json, no CORS headers), which makes misconfigured
origins visible in logs; simple requests from such origins are served without CORS headers, so
the browser withholds the response from the page.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping

ALLOW_HEADERS = "Authorization, Content-Type, Idempotency-Key, X-Request-ID, traceparent"
EXPOSE_HEADERS = (
    "X-Request-ID, RateLimit, RateLimit-Policy, Retry-After, Idempotent-Replayed, Location"
)
MAX_AGE_SECONDS = 600

SECURITY_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}


def is_preflight(method: str, origin: str | None, request_method: str | None) -> bool:
    return method == "OPTIONS" and origin is not None and request_method is not None


def origin_allowed(origin: str | None, allowed: Iterable[str]) -> bool:
    # Browsers send scheme and host in lower case; compare exactly, never by prefix or suffix.
    return origin is not None and origin in allowed


def add_vary(headers: MutableMapping[str, str], value: str) -> None:
    current = [v.strip() for v in headers.get("Vary", "").split(",") if v.strip()]
    if value.lower() not in (v.lower() for v in current):
        current.append(value)
    headers["Vary"] = ", ".join(current)


def cors_headers(origin: str) -> dict[str, str]:
    """Headers for any response to an allowed origin."""
    return {"Access-Control-Allow-Origin": origin, "Access-Control-Expose-Headers": EXPOSE_HEADERS}


def preflight_headers(origin: str, methods: Iterable[str]) -> dict[str, str]:
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": ", ".join(methods),
        "Access-Control-Allow-Headers": ALLOW_HEADERS,
        "Access-Control-Max-Age": str(MAX_AGE_SECONDS),
    }


def apply_security_headers(headers: MutableMapping[str, str]) -> None:
    headers.update(SECURITY_HEADERS)
    # A handler may deliberately allow caching; everything else must not be stored.
    headers.setdefault("Cache-Control", "no-store")
