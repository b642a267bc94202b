"""Response headers built from what services and errors report: RateLimit and Retry-After."""

from __future__ import annotations

import math

from genmedia.errors import GenMediaError
from genmedia.ratelimit import POLICY, RateLimitState


def rate_limit_headers(state: RateLimitState) -> dict[str, str]:
    """IETF RateLimit header fields draft; Retry-After too when the request was refused."""
    bucket, decision = state.bucket, state.decision
    remaining = math.floor(decision.tokens)
    until_full = math.ceil((bucket.capacity - decision.tokens) / bucket.refill_per_second)
    result = {
        "RateLimit-Policy": f'"{POLICY}";q={bucket.capacity};w={bucket.window_seconds}',
        "RateLimit": f'"{POLICY}";r={remaining};t={max(0, until_full)}',
    }
    if not decision.allowed:
        result["Retry-After"] = str(decision.retry_after)
    return result


def error_headers(err: GenMediaError) -> dict[str, str]:
    headers = dict(err.headers)
    if err.rate_limit is not None:
        headers.update(rate_limit_headers(err.rate_limit))
    if err.retry_after is not None:
        headers["Retry-After"] = str(err.retry_after)
    return headers
