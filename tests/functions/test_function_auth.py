"""Authentication and roles through the generate_image and admin entry points."""

from __future__ import annotations

import time
from typing import Any

import pytest

GENERATE = "/v1/images:generate"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


UNAUTHENTICATED = {
    "missing header": {},
    "basic scheme": {"Authorization": "Basic dXNlcjpwYXNz"},
    "bearer without token": {"Authorization": "Bearer "},
    "garbage token": {"Authorization": "Bearer not.a.token"},
    "not a jwt": {"Authorization": "Bearer opaque-session-id"},
}


@pytest.mark.parametrize("headers", UNAUTHENTICATED.values(), ids=UNAUTHENTICATED.keys())
@pytest.mark.parametrize(
    ("target", "method", "path"),
    [
        ("generate_image", "POST", "/v1/images:generate"),
        ("issue_signed_url", "POST", "/v1/assets/a1:signUrl"),
        ("library", "GET", "/v1/usage"),
        ("admin", "GET", "/v1/admin/users/u1"),
    ],
)
def test_requests_without_a_valid_token_are_401(
    functions: Any,
    problem: Any,
    emulators: Any,
    headers: dict[str, str],
    target: str,
    method: str,
    path: str,
) -> None:
    provider = functions.provider()
    response = functions.client(target).open(
        path, method=method, headers=headers, json={"prompt": "a lighthouse"}
    )
    problem(response, 401, "UNAUTHENTICATED")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert provider.calls == 0
    assert emulators.docs("usage") == []


@pytest.mark.parametrize("revoke", ["revoke_tokens", "disable"])
def test_revoked_or_disabled_account_is_401(
    functions: Any, problem: Any, make_user: Any, auth_emulator: Any, revoke: str
) -> None:
    provider = functions.provider()
    client = functions.client("generate_image")
    user = make_user()
    token = user.token
    assert functions.generate(client, user).status_code == 200
    # Revocation has one-second resolution: only tokens issued before that second stop working.
    time.sleep(1.1)
    getattr(auth_emulator, revoke)(user.uid)

    response = client.post(GENERATE, json={"prompt": "a boat"}, headers=bearer(token))
    problem(response, 401, "UNAUTHENTICATED")
    assert provider.calls == 1


def test_viewer_may_not_generate(
    functions: Any, problem: Any, emulators: Any, make_user: Any, auth_emulator: Any
) -> None:
    provider = functions.provider()
    client = functions.client("generate_image")
    user = make_user()
    assert functions.generate(client, user).status_code == 200
    auth_emulator.set_claims(user.uid, {"role": "viewer"})

    problem(functions.generate(client, user), 403, "PERMISSION_DENIED")  # a fresh token
    assert provider.calls == 1
    assert emulators.images_used(user.uid) == 1


@pytest.mark.parametrize("role", [None, "user", "viewer"])
@pytest.mark.parametrize(
    ("method", "body"), [("GET", None), ("PATCH", {"quota": {"images_per_day": 1000}})]
)
def test_only_admins_use_the_admin_function(
    functions: Any,
    problem: Any,
    emulators: Any,
    make_user: Any,
    role: str | None,
    method: str,
    body: dict[str, Any] | None,
) -> None:
    caller, target = make_user(role), make_user()
    response = functions.client("admin").open(
        f"/v1/admin/users/{target.uid}", method=method, json=body, headers=caller.headers()
    )
    problem(response, 403, "PERMISSION_DENIED")
    assert emulators.docs("users") == []


def test_admin_reads_a_user_and_gets_404_for_an_unknown_uid(
    functions: Any, problem: Any, make_user: Any
) -> None:
    admin, user = make_user("admin"), make_user("viewer")
    client = functions.client("admin")
    known = client.get(f"/v1/admin/users/{user.uid}", headers=admin.headers())
    assert known.status_code == 200
    assert known.get_json()["uid"] == user.uid
    assert known.get_json()["role"] == "viewer"

    unknown = client.get("/v1/admin/users/no-such-user-0000", headers=admin.headers())
    problem(unknown, 404, "NOT_FOUND")
