"""PATCH/GET /v1/admin/users/{uid}: admin only, roles as custom claims, quota overrides."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from infra.local.authemu import AuthEmulator
from tests.support.api import assert_problem, fields_of
from tests.support.harness import Gateway, User


def patch(gateway: Gateway, caller: User, uid: str, body: object):
    return gateway.call("PATCH", f"/v1/admin/users/{uid}", user=caller, json=body)


@pytest.mark.parametrize("role", ["user", "viewer"])
def test_only_admins_reach_admin_paths(
    gateway: Gateway, make_user: Callable[..., User], role: str
) -> None:
    caller, target = make_user(role=role), make_user()
    assert_problem(patch(gateway, caller, target.uid, {"role": "admin"}), 403, "PERMISSION_DENIED")
    assert_problem(
        gateway.get(f"/v1/admin/users/{target.uid}", user=caller), 403, "PERMISSION_DENIED"
    )
    # Nothing changed: the target is still a plain user.
    assert_problem(patch(gateway, target, caller.uid, {"role": "admin"}), 403, "PERMISSION_DENIED")
    anonymous = gateway.call("PATCH", f"/v1/admin/users/{target.uid}", json={"role": "admin"})
    assert_problem(anonymous, 401, "UNAUTHENTICATED")


def test_admin_sets_role_and_quota_and_they_take_effect(
    gateway: Gateway, make_user: Callable[..., User], admin: User
) -> None:
    user = make_user()
    resp = patch(gateway, admin, user.uid, {"quota": {"images_per_day": 1}})
    assert resp.status_code == 200, resp.text
    assert resp.json()["quota"] == {"images_per_day": 1, "videos_per_month": 20}
    assert gateway.post("/v1/images:generate", user=user, json={"prompt": "one"}).status_code == 200
    second = gateway.post("/v1/images:generate", user=user, json={"prompt": "two"})
    assert_problem(second, 429, "QUOTA_EXCEEDED")

    cleared = patch(gateway, admin, user.uid, {"quota": {"images_per_day": None}})
    assert cleared.json()["quota"]["images_per_day"] == 50
    assert (
        gateway.post("/v1/images:generate", user=user, json={"prompt": "three"}).status_code == 200
    )

    promoted = patch(gateway, admin, user.uid, {"role": "admin"})
    assert promoted.json()["role"] == "admin"
    assert gateway.get(f"/v1/admin/users/{admin.uid}", user=user).status_code == 200


def test_demotion_takes_effect_at_once(
    gateway: Gateway, make_user: Callable[..., User], admin: User, auth_emulator: AuthEmulator
) -> None:
    other_admin = make_user(role="admin")
    old_token = other_admin.token
    time.sleep(1.1)  # revocation has one-second resolution: the old token must predate it
    demoted = patch(gateway, admin, other_admin.uid, {"role": "viewer"})
    assert demoted.json()["role"] == "viewer"
    stale = gateway.get(f"/v1/admin/users/{admin.uid}", token=old_token)
    assert_problem(stale, 401, "UNAUTHENTICATED")
    fresh = gateway.get(f"/v1/admin/users/{admin.uid}", user=other_admin)
    assert_problem(fresh, 403, "PERMISSION_DENIED")
    generate = gateway.post("/v1/images:generate", user=other_admin, json={"prompt": "x"})
    assert_problem(generate, 403, "PERMISSION_DENIED")


def test_unknown_users_and_bad_bodies(
    gateway: Gateway, make_user: Callable[..., User], admin: User
) -> None:
    assert_problem(patch(gateway, admin, "no-such-user", {"role": "user"}), 404, "NOT_FOUND")
    assert_problem(gateway.get("/v1/admin/users/no-such-user", user=admin), 404, "NOT_FOUND")
    user = make_user()
    bad = patch(gateway, admin, user.uid, {"role": "root", "quota": {"images_per_day": -1, "x": 1}})
    problem = assert_problem(bad, 422, "INVALID_ARGUMENT")
    assert fields_of(problem) == {"role", "quota.images_per_day", "quota.x"}
    view: dict[str, Any] = gateway.get(f"/v1/admin/users/{user.uid}", user=admin).json()
    assert view["role"] == "user" and view["quota_overrides"]["images_per_day"] is None


def test_the_audit_log_records_role_changes_and_deletions_for_admins(
    gateway: Gateway, make_user: Callable[..., User], admin: User
) -> None:
    from tests.support.assets import generate

    user = make_user()
    assert patch(gateway, admin, user.uid, {"role": "viewer"}).status_code == 200
    [asset] = generate(gateway, admin)
    deleted = gateway.call("DELETE", f"/v1/assets/{asset['id']}", user=admin)
    request_id = deleted.headers["X-Request-ID"]
    changes = gateway.get(f"/v1/admin/audit?target={user.uid}", user=admin).json()["events"]
    assert [(e["action"], e["actor"]["uid"], e["details"]["role"]) for e in changes] == [
        ("user.update", admin.uid, {"from": "user", "to": "viewer"})
    ]
    [deletion] = gateway.get("/v1/admin/audit?action=asset.delete", user=admin).json()["events"]
    assert deletion["target"] == {"type": "asset", "id": asset["id"]}
    assert deletion["request_id"] == request_id  # leads to the request's own log lines
    bad = gateway.get("/v1/admin/audit?start_time=yesterday", user=admin)
    assert_problem(bad, 422, "INVALID_ARGUMENT")


def test_admins_review_blocked_prompts_and_replace_the_denylist(
    gateway: Gateway, make_user: Callable[..., User], admin: User
) -> None:
    user = make_user()
    blocked = gateway.post("/v1/images:generate", user=user, json={"prompt": "c-s-a-m art"})
    assert_problem(blocked, 422, "CONTENT_BLOCKED")
    [event] = gateway.get("/v1/admin/moderation", user=admin).json()["events"]
    assert event["uid"] == user.uid and event["text"] == "c-s-a-m art"
    assert event["request_id"] == blocked.headers["X-Request-ID"]
    before = gateway.get("/v1/admin/settings/moderation", user=admin).json()
    assert before["source"] == "deployment" and "csam" in before["denylist"]
    body = {"denylist": [*before["denylist"], "Meadow"]}
    after = gateway.call("PATCH", "/v1/admin/settings/moderation", user=admin, json=body)
    assert after.status_code == 200 and after.json()["denylist"][-1] == "meadow"
    again = gateway.get("/v1/admin/settings/moderation", user=admin).json()
    assert again == {"denylist": after.json()["denylist"], "source": "admin"}
    empty = gateway.call(
        "PATCH", "/v1/admin/settings/moderation", user=admin, json={"denylist": []}
    )
    assert_problem(empty, 422, "INVALID_ARGUMENT")
