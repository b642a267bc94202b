"""Provider failures through generate_image: refunds, cleanup and the circuit breaker."""

from __future__ import annotations

from typing import Any

import pytest

RESET_SECONDS = 30


def assert_nothing_kept(emulators: Any, uid: str, count: int) -> None:
    """The charge was refunded, every asset is FAILED and no object was left in the bucket."""
    assert emulators.images_used(uid) == 0
    assert emulators.cost_micros(uid) == 0
    assert sorted(emulators.asset_states(uid).values()) == ["FAILED"] * count
    assert emulators.objects() == []


@pytest.mark.parametrize(
    ("behaviour", "status", "code"),
    [
        ("fail", 503, "PROVIDER_UNAVAILABLE"),  # retryable ProviderError
        ("garbage", 503, "PROVIDER_UNAVAILABLE"),  # bytes that are not an image: not retryable
        ("blocked", 422, "CONTENT_BLOCKED"),  # the provider's safety filters
    ],
)
def test_failed_generation_is_refunded_and_cleaned_up(
    functions: Any,
    problem: Any,
    emulators: Any,
    make_user: Any,
    behaviour: str,
    status: int,
    code: str,
) -> None:
    functions.provider(default=behaviour)
    client, user = functions.client("generate_image"), make_user()
    response = functions.generate(client, user, {"prompt": "two kites", "count": 2})
    problem(response, status, code)
    if status == 503:
        assert int(response.headers["Retry-After"]) > 0
    assert_nothing_kept(emulators, user.uid, count=2)


def test_fewer_images_than_requested_charges_only_those_returned(
    functions: Any, emulators: Any, make_user: Any
) -> None:
    functions.provider(default="short")
    client, user = functions.client("generate_image"), make_user()
    response = functions.generate(client, user, {"prompt": "three owls", "count": 3})
    assert response.status_code == 200
    body = response.get_json()
    returned = [a["id"] for a in body["assets"]]
    assert len(returned) == 2
    assert body["usage"]["images"]["used"] == 2
    assert body["usage"]["cost_this_month"]["amount"] == "0.080000"

    assert emulators.images_used(user.uid) == 2
    assert emulators.cost_micros(user.uid) == 80_000
    states = emulators.asset_states(user.uid)
    assert sorted(states.values()) == ["ACTIVE", "ACTIVE", "FAILED"]
    assert {i for i, s in states.items() if s == "ACTIVE"} == set(returned)
    assert emulators.objects() == sorted(
        f"users/{user.uid}/assets/{i}/{variant}"
        for i in returned
        for variant in ("original.png", "thumbnail.webp")
    )


def breakers(client: Any) -> dict[str, Any]:
    """Breaker states as the instance holding them reports them (its own /readyz)."""
    response = client.get("/readyz")
    assert response.status_code == 200
    return response.get_json()["breakers"]


def test_circuit_breaker_opens_after_failures_and_closes_after_reset(
    functions: Any, problem: Any, emulators: Any, make_user: Any
) -> None:
    functions.configure(
        GENMEDIA_BREAKER_FAILURE_THRESHOLD="2", GENMEDIA_BREAKER_RESET_SECONDS=str(RESET_SECONDS)
    )
    clock = functions.clock()
    provider = functions.provider("fail", "fail")  # then healthy
    client, user = functions.client("generate_image"), make_user()
    for _ in range(2):
        problem(functions.generate(client, user), 503, "PROVIDER_UNAVAILABLE")
    assert provider.calls == 2
    assert_nothing_kept(emulators, user.uid, count=2)

    # Open: answered at once, without calling the provider, and refunded too.
    rejected = functions.generate(client, user)
    problem(rejected, 503, "PROVIDER_UNAVAILABLE")
    assert rejected.headers["Retry-After"] == str(RESET_SECONDS)
    assert provider.calls == 2
    assert_nothing_kept(emulators, user.uid, count=3)
    assert breakers(client)["fake"]["state"] == "open"

    clock.advance(RESET_SECONDS)
    assert breakers(client)["fake"]["state"] == "half_open"
    assert functions.generate(client, user).status_code == 200
    assert provider.calls == 3
    assert breakers(client)["fake"] == {
        "state": "closed",
        "consecutive_failures": 0,
        "open_remaining_s": 0.0,
        "rejected_calls": 1,
    }
    assert emulators.images_used(user.uid) == 1


def test_a_storage_failure_midway_removes_only_what_this_request_uploaded(
    functions: Any, problem: Any, emulators: Any, make_user: Any
) -> None:
    """The second asset's upload finds a foreign object at its path (create-only refuses to
    overwrite): the first asset's objects are removed, the foreign one is left alone, and the
    whole charge is refunded."""
    functions.ids("first-asset", "second-asset")
    functions.provider(default="ok")
    client, user = functions.client("generate_image"), make_user()
    foreign = f"users/{user.uid}/assets/second-asset/original.png"
    emulators.bucket.blob(foreign).upload_from_string(b"not ours", content_type="image/png")

    response = functions.generate(client, user, {"prompt": "two kites", "count": 2})

    problem(response, 500, "INTERNAL")
    assert emulators.objects() == [foreign]
    assert emulators.images_used(user.uid) == 0
    assert sorted(emulators.asset_states(user.uid).values()) == ["FAILED", "FAILED"]
