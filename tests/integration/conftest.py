"""Integration tests: the public API through the local gateway, against real emulators."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from google.cloud import firestore, storage

from infra.local.stack import Stack
from tests.support.harness import Gateway, User, start_stack


@pytest.fixture(scope="session")
def db(stack_info: dict[str, Any]) -> firestore.Client:
    return firestore.Client(project=stack_info["project_id"])


@pytest.fixture(scope="session")
def bucket(stack_info: dict[str, Any]) -> storage.Bucket:
    return storage.Client(project=stack_info["project_id"]).bucket(stack_info["media_bucket"])


@pytest.fixture
def private_stack(tmp_path: Path) -> Iterator[Stack]:
    """A stack of the test's own, for tests that stop and start its emulators: the shared one
    must not see them go away. Storage is on disk so a restart keeps the objects."""
    stack = start_stack(tmp_path, storage_on_disk=True)
    try:
        yield stack
    finally:
        stack.stop()


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
