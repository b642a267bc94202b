"""RateLimit and Retry-After headers from a bucket's decision, and from errors."""

from __future__ import annotations

from genmedia.errors import QuotaExceeded, RateLimited, Unauthenticated
from genmedia.http.headers import error_headers, rate_limit_headers
from genmedia.ratelimit import Bucket, Decision, RateLimitState

BUCKET = Bucket(capacity=3, refill_per_minute=6)  # one token every 10 s


def headers(bucket: Bucket, decision: Decision) -> dict[str, str]:
    return rate_limit_headers(RateLimitState(bucket, decision))


def test_headers_on_an_allowed_request() -> None:
    assert headers(BUCKET, Decision(True, 1.5, 0)) == {
        "RateLimit-Policy": '"gen";q=3;w=30',
        "RateLimit": '"gen";r=1;t=15',
    }


def test_headers_on_a_refused_request_add_retry_after() -> None:
    assert headers(BUCKET, Decision(False, 0.25, 8)) == {
        "RateLimit-Policy": '"gen";q=3;w=30',
        "RateLimit": '"gen";r=0;t=28',
        "Retry-After": "8",
    }


def test_headers_of_a_full_bucket_say_no_wait() -> None:
    assert headers(BUCKET, Decision(True, 3.0, 0))["RateLimit"] == '"gen";r=3;t=0'


def test_error_headers_carry_rate_limit_and_retry_after_from_the_error() -> None:
    refused = RateLimitState(BUCKET, Decision(False, 0.25, 8))
    assert error_headers(RateLimited("slow", rate_limit=refused)) == headers(
        BUCKET, Decision(False, 0.25, 8)
    )
    assert error_headers(QuotaExceeded("done", retry_after=3600)) == {"Retry-After": "3600"}
    assert error_headers(Unauthenticated()) == {"WWW-Authenticate": 'Bearer realm="genmedia"'}
