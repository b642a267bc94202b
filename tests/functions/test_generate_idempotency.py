"""Idempotency-Key on generate_image: replay, release on failure, validation, concurrency."""

from __future__ import annotations

import threading
from typing import Any

import pytest

KEY = "order-7f3a"
BODY = {"prompt": "a red bicycle"}


@pytest.fixture
def client(functions: Any) -> Any:
    return functions.client("generate_image")


def test_completed_request_is_replayed_and_the_key_bound_to_its_body(
    functions: Any, client: Any, problem: Any, emulators: Any, make_user: Any
) -> None:
    provider = functions.provider()
    user, other = make_user(), make_user()
    first = functions.generate(client, user, BODY, key=KEY)
    assert first.status_code == 200
    assert "Idempotent-Replayed" not in first.headers

    replay = functions.generate(client, user, BODY, key=KEY)
    assert replay.status_code == 200
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json() == first.get_json()

    reused = functions.generate(client, user, {"prompt": "a blue bicycle"}, key=KEY)
    problem(reused, 422, "IDEMPOTENCY_KEY_REUSED")
    # Keys are scoped per user: the same key from someone else is a new request.
    assert functions.generate(client, other, BODY, key=KEY).status_code == 200
    assert provider.calls == 2
    assert (emulators.images_used(user.uid), emulators.images_used(other.uid)) == (1, 1)


def test_failed_generation_releases_the_key_for_a_retry(
    functions: Any, client: Any, problem: Any, emulators: Any, make_user: Any
) -> None:
    provider = functions.provider("fail")  # then healthy
    user = make_user()
    problem(functions.generate(client, user, BODY, key=KEY), 503, "PROVIDER_UNAVAILABLE")
    assert emulators.docs("idempotency") == []

    retry = functions.generate(client, user, BODY, key=KEY)
    assert retry.status_code == 200
    assert "Idempotent-Replayed" not in retry.headers
    assert provider.calls == 2
    assert emulators.images_used(user.uid) == 1
    replay = functions.generate(client, user, BODY, key=KEY)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json() == retry.get_json()


def test_validation_failure_does_not_store_the_key(
    functions: Any, client: Any, problem: Any, emulators: Any, make_user: Any
) -> None:
    functions.provider()
    user = make_user()
    invalid = functions.generate(client, user, {"prompt": "a kite", "count": 9}, key=KEY)
    body = problem(invalid, 422, "INVALID_ARGUMENT")
    assert [e["field"] for e in body["errors"]] == ["count"]
    assert emulators.docs("idempotency") == []

    valid = functions.generate(client, user, {"prompt": "a kite", "count": 1}, key=KEY)
    assert valid.status_code == 200
    assert "Idempotent-Replayed" not in valid.headers


INVALID_KEYS = {"256 chars": "k" * 256, "empty": "", "tab": "key\twith-tab", "latin-1": "clé"}


@pytest.mark.parametrize("key", INVALID_KEYS.values(), ids=INVALID_KEYS.keys())
def test_invalid_key_is_rejected_before_any_work(
    functions: Any, client: Any, problem: Any, emulators: Any, make_user: Any, key: str
) -> None:
    provider = functions.provider()
    user = make_user()
    body = problem(functions.generate(client, user, BODY, key=key), 422, "INVALID_ARGUMENT")
    assert [e["field"] for e in body["errors"]] == ["header.Idempotency-Key"]
    assert provider.calls == 0
    assert emulators.usage(user.uid) is None
    assert emulators.docs("idempotency") == []


def test_longest_key_is_accepted(functions: Any, client: Any, make_user: Any) -> None:
    functions.provider()
    user = make_user()
    key = "k" * 255
    assert functions.generate(client, user, BODY, key=key).status_code == 200
    replay = functions.generate(client, user, BODY, key=key)
    assert replay.headers["Idempotent-Replayed"] == "true"


def test_duplicate_sent_while_the_first_runs_is_409_then_replayed(
    functions: Any, client: Any, problem: Any, emulators: Any, make_user: Any
) -> None:
    provider = functions.provider()
    release = provider.hold()
    user = make_user()
    headers = user.headers()  # minted here: the worker thread only sends the request
    results: list[Any] = []

    def first() -> None:
        other_client = client.application.test_client()
        results.append(
            other_client.post(
                "/v1/images:generate", json=BODY, headers=headers | {"Idempotency-Key": KEY}
            )
        )

    worker = threading.Thread(target=first)
    worker.start()
    try:
        assert provider.entered.wait(timeout=60)
        duplicate = functions.generate(client, user, BODY, key=KEY)
    finally:
        release.set()
        worker.join(timeout=60)
    problem(duplicate, 409, "IDEMPOTENCY_IN_PROGRESS")
    assert int(duplicate.headers["Retry-After"]) > 0
    [original] = results
    assert original.status_code == 200

    replay = functions.generate(client, user, BODY, key=KEY)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json() == original.get_json()
    assert provider.calls == 1
    assert emulators.images_used(user.uid) == 1
