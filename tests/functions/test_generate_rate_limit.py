"""Per-user generation rate limit (token bucket) through the generate_image entry point."""

from __future__ import annotations

import re
from typing import Any

import pytest

# Burst of two, one token a minute: the bucket does not refill noticeably during a test.
POLICY = '"gen";q=2;w=120'
RATE_LIMIT = re.compile(r'"gen";r=(\d+);t=(\d+)')


def remaining(response: Any) -> int:
    match = RATE_LIMIT.fullmatch(response.headers["RateLimit"])
    assert match is not None, response.headers["RateLimit"]
    return int(match[1])


@pytest.fixture
def limited(functions: Any) -> Any:
    functions.configure(GENMEDIA_RATE_LIMIT_BURST="2", GENMEDIA_RATE_LIMIT_PER_MINUTE="1")
    return functions


def test_successful_generations_count_down_the_rate_limit(limited: Any, make_user: Any) -> None:
    limited.provider()
    client, user = limited.client("generate_image"), make_user()
    responses = [limited.generate(client, user) for _ in range(2)]
    assert [r.status_code for r in responses] == [200, 200]
    assert [r.headers["RateLimit-Policy"] for r in responses] == [POLICY, POLICY]
    assert [remaining(r) for r in responses] == [1, 0]
    assert all("Retry-After" not in r.headers for r in responses)


def test_third_request_is_rate_limited_and_charges_nothing(
    limited: Any, problem: Any, emulators: Any, make_user: Any
) -> None:
    provider = limited.provider()
    client, user = limited.client("generate_image"), make_user()
    for _ in range(2):
        assert limited.generate(client, user).status_code == 200
    usage, assets = emulators.usage(user.uid), emulators.asset_states(user.uid)

    response = limited.generate(client, user, {"prompt": "one more", "count": 2})
    problem(response, 429, "RATE_LIMITED")
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["RateLimit-Policy"] == POLICY
    assert remaining(response) == 0
    assert provider.calls == 2
    assert emulators.usage(user.uid) == usage
    assert emulators.asset_states(user.uid) == assets
    assert usage is not None and usage["images"] == 2


def test_one_users_limit_does_not_affect_another(
    limited: Any, problem: Any, make_user: Any
) -> None:
    limited.provider()
    client, busy, other = limited.client("generate_image"), make_user(), make_user()
    for _ in range(2):
        limited.generate(client, busy)
    problem(limited.generate(client, busy), 429, "RATE_LIMITED")

    response = limited.generate(client, other)
    assert response.status_code == 200
    assert remaining(response) == 1
