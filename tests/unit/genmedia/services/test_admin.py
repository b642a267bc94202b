"""Admin use cases with a fake user directory: roles, revocation on demotion, quotas."""

from __future__ import annotations

import pytest

from genmedia.errors import NotFound
from genmedia.principal import Principal
from genmedia.services import admin
from genmedia.services.admin import UpdateUser
from genmedia.store.audit import AuditQuery
from tests.fakes.ports import Fakes, make_deps

ADMIN = Principal("root", "admin")


@pytest.fixture
def fakes() -> Fakes:
    fakes = make_deps()
    fakes.users.accounts["u1"] = {"role": "admin", "team": "art"}
    return fakes


def test_unknown_users_are_not_found(fakes: Fakes) -> None:
    with pytest.raises(NotFound):
        admin.get_user(fakes.deps, "nobody")


def test_a_demotion_keeps_other_claims_and_revokes_sessions(fakes: Fakes) -> None:
    view = admin.update_user(fakes.deps, ADMIN, "u1", UpdateUser(role="viewer"))
    assert view["role"] == "viewer"
    assert fakes.users.accounts["u1"] == {"role": "viewer", "team": "art"}
    assert fakes.users.revoked == ["u1"]


def test_a_promotion_does_not_revoke(fakes: Fakes) -> None:
    fakes.users.accounts["u2"] = {}
    assert admin.update_user(fakes.deps, ADMIN, "u2", UpdateUser(role="admin"))["role"] == "admin"
    assert fakes.users.revoked == []


def test_quota_overrides_merge_and_null_removes_one(fakes: Fakes) -> None:
    admin.update_user(fakes.deps, ADMIN, "u1", UpdateUser(quota={"images_per_day": 3}))
    view = admin.update_user(fakes.deps, ADMIN, "u1", UpdateUser(quota={"videos_per_month": 1}))
    assert view["quota"] == {"images_per_day": 3, "videos_per_month": 1}
    view = admin.update_user(fakes.deps, ADMIN, "u1", UpdateUser(quota={"images_per_day": None}))
    assert view["quota_overrides"] == {"images_per_day": None, "videos_per_month": 1}
    assert view["quota"]["images_per_day"] == 50  # back to the default
    assert admin.get_user(fakes.deps, "u1")["role"] == "admin"


def test_every_change_is_audited_with_its_actor_and_before_and_after(fakes: Fakes) -> None:
    admin.update_user(fakes.deps, ADMIN, "u1", UpdateUser(role="viewer"))
    [(_, event)] = fakes.db.audit.list_page(AuditQuery(), 10, None)
    assert (event.action, event.target_type, event.target_id) == ("user.update", "user", "u1")
    assert (event.actor_uid, event.actor_role) == ("root", "admin")
    assert event.details["role"] == {"from": "admin", "to": "viewer"}
