"""Daily image quota through generate_image, and an admin override through the admin function."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any


def next_utc_midnight() -> str:
    today = datetime.now(UTC).date()
    return f"{today + timedelta(days=1)}T00:00:00.000Z"


def test_request_beyond_the_daily_quota_is_429_and_charges_nothing(
    functions: Any, problem: Any, emulators: Any, make_user: Any
) -> None:
    functions.configure(GENMEDIA_QUOTA_IMAGES_PER_DAY="3")
    provider = functions.provider()
    client, user = functions.client("generate_image"), make_user()
    first = functions.generate(client, user, {"prompt": "two cats", "count": 2})
    assert first.get_json()["usage"]["images"] == {
        "used": 2,
        "limit": 3,
        "reset_time": next_utc_midnight(),
    }
    usage = emulators.usage(user.uid)

    refused = functions.generate(client, user, {"prompt": "two dogs", "count": 2})
    body = problem(refused, 429, "QUOTA_EXCEEDED")
    assert (body["limit"], body["used"], body["reset_time"]) == (3, 2, next_utc_midnight())
    assert int(refused.headers["Retry-After"]) > 0
    assert provider.calls == 1
    assert emulators.usage(user.uid) == usage
    assert len(emulators.asset_states(user.uid)) == 2

    # What is left can still be used.
    assert functions.generate(client, user, {"prompt": "one dog"}).status_code == 200


def test_admin_quota_override_applies_to_the_next_generation(
    functions: Any, problem: Any, make_user: Any
) -> None:
    functions.provider()
    generate, admin_fn = functions.client("generate_image"), functions.client("admin")
    admin, user = make_user("admin"), make_user()
    patched = admin_fn.patch(
        f"/v1/admin/users/{user.uid}",
        json={"quota": {"images_per_day": 1}},
        headers=admin.headers(),
    )
    assert patched.status_code == 200
    assert patched.get_json()["quota"]["images_per_day"] == 1

    assert functions.generate(generate, user).status_code == 200
    problem(functions.generate(generate, user), 429, "QUOTA_EXCEEDED")
