"""Integration tests: the public API through the local gateway, against real emulators."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from google.cloud import firestore, storage

from tests.support.harness import Gateway, User


@pytest.fixture(scope="session")
def db(stack_info: dict[str, Any]) -> firestore.Client:
    return firestore.Client(project=stack_info["project_id"])


@pytest.fixture(scope="session")
def bucket(stack_info: dict[str, Any]) -> storage.Bucket:
    return storage.Client(project=stack_info["project_id"]).bucket(stack_info["media_bucket"])


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(role="admin")


@pytest.fixture
def set_quota(gateway: Gateway, admin: User) -> Callable[..., dict[str, Any]]:
    def set_it(user: User, **quota: int | None) -> dict[str, Any]:
        resp = gateway.call(
            "PATCH", f"/v1/admin/users/{user.uid}", user=admin, json={"quota": quota}
        )
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        return body

    return set_it
