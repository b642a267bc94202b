"""Object-level authorisation on every asset endpoint of issue_signed_url and library: another
user's ids are 404 exactly like unknown ones and change nothing; admins read but do not delete."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from google.cloud import firestore, storage
from google.cloud.firestore_v1.base_query import FieldFilter

from tests.support.api import assert_problem
from tests.support.assets import (
    batch_sign,
    expire_purge_time,
    generate,
    ids_of,
    objects_of,
    problem_shape,
    sha256_at,
    walk,
)
from tests.support.harness import Gateway, User

UNKNOWN = "no-such-asset-0000000"

# name -> (method, path, request options)
ENDPOINTS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "sign": ("POST", "/v1/assets/{id}:signUrl", {"json": {}}),
    "sign download thumbnail": (
        "POST",
        "/v1/assets/{id}:signUrl",
        {"json": {"variant": "thumbnail", "download": True, "ttl_seconds": 60}},
    ),
    "get": ("GET", "/v1/assets/{id}", {}),
    "delete": ("DELETE", "/v1/assets/{id}", {}),
    "delete allow_missing": ("DELETE", "/v1/assets/{id}", {"params": {"allow_missing": "true"}}),
    "undelete": ("POST", "/v1/assets/{id}:undelete", {}),
}


@dataclass
class World:
    alice: User
    bob: User
    active: dict[str, Any]  # Alice's
    removed: dict[str, Any]  # Alice's, soft-deleted
    purged: dict[str, Any]  # Alice's, deleted and past its purge time
    bobs: dict[str, Any]  # Bob's own asset

    def id_of(self, target: str) -> str:
        return UNKNOWN if target == "unknown" else str(getattr(self, target)["id"])


@pytest.fixture
def world(gateway: Gateway, make_user: Callable[..., User], db: firestore.Client) -> World:
    alice, bob = make_user(), make_user()
    active, removed, purged = generate(gateway, alice, prompt="alice lighthouse", count=3)
    for asset in (removed, purged):
        assert gateway.call("DELETE", f"/v1/assets/{asset['id']}", user=alice).status_code == 200
    expire_purge_time(db, purged["id"])
    [bobs] = generate(gateway, bob, prompt="bob harbour")
    return World(alice, bob, active, removed, purged, bobs)


def call(gateway: Gateway, user: User, endpoint: str, asset_id: str) -> requests.Response:
    method, path, options = ENDPOINTS[endpoint]
    return gateway.call(method, path.format(id=asset_id), user=user, **options)


def snapshot(db: firestore.Client, bucket: storage.Bucket, uid: str) -> dict[str, Any]:
    """Everything of ``uid``'s that a request could change: asset documents, objects, usage."""
    query = db.collection("assets").where(filter=FieldFilter("owner_uid", "==", uid))
    return {
        "assets": {s.id: s.to_dict() for s in query.stream()},
        "objects": objects_of(bucket, uid),
        "usage": db.collection("usage").document(uid).get().to_dict(),
    }


@pytest.mark.parametrize("target", ["active", "removed"])
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_another_users_ids_are_not_found_and_change_nothing(
    gateway: Gateway, world: World, db: firestore.Client, bucket: storage.Bucket,
    endpoint: str, target: str,
) -> None:  # fmt: skip
    before = snapshot(db, bucket, world.alice.uid)
    resp = call(gateway, world.bob, endpoint, world.id_of(target))
    shape = problem_shape(assert_problem(resp, 404, "NOT_FOUND"))
    assert shape == problem_shape(call(gateway, world.bob, endpoint, UNKNOWN))
    assert snapshot(db, bucket, world.alice.uid) == before
    # Alice still sees her asset exactly as before.
    mine = gateway.get(f"/v1/assets/{world.id_of(target)}", user=world.alice)
    assert mine.status_code == 200
    assert mine.json()["state"] == ("ACTIVE" if target == "active" else "DELETED")


def test_batches_report_other_users_ids_as_not_found(
    gateway: Gateway, world: World, db: firestore.Client, bucket: storage.Bucket
) -> None:
    before = snapshot(db, bucket, world.alice.uid)
    alices = [world.active["id"], world.removed["id"], world.purged["id"]]
    resp = batch_sign(gateway, world.bob, [*alices, UNKNOWN, world.bobs["id"]])
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert list(body["urls"]) == [world.bobs["id"]]
    assert sha256_at(body["urls"][world.bobs["id"]]["url"]) == world.bobs["sha256"]
    assert body["errors"] == dict.fromkeys([*alices, UNKNOWN], "NOT_FOUND")
    assert snapshot(db, bucket, world.alice.uid) == before


def test_lists_searches_and_usage_show_only_the_callers_own(
    gateway: Gateway, world: World, admin: User
) -> None:
    alices = {world.active["id"], world.removed["id"], world.purged["id"]}
    for params in ({}, {"show_deleted": "true"}, {"order_by": "create_time asc"},
                   {"type": "image"}, {"q": "alice"}, {"q": "lighthouse"}):  # fmt: skip
        assert not set(ids_of(walk(gateway, world.bob, **params))) & alices, params
        assert not set(ids_of(walk(gateway, admin, **params))) & alices, params
    assert ids_of(walk(gateway, world.bob, show_deleted="true")) == [world.bobs["id"]]
    assert ids_of(walk(gateway, world.bob, q="bob")) == [world.bobs["id"]]
    assert set(ids_of(walk(gateway, world.alice, show_deleted="true"))) == alices - {
        world.purged["id"]
    }
    usage = {u.uid: gateway.get("/v1/usage", user=u).json() for u in (world.alice, world.bob)}
    assert usage[world.alice.uid]["images"]["used"] == 3
    assert usage[world.bob.uid]["images"]["used"] == 1
    assert gateway.get("/v1/usage", user=admin).json()["images"]["used"] == 0


def test_admins_read_and_sign_any_asset_but_do_not_change_it(
    gateway: Gateway, world: World, admin: User, db: firestore.Client, bucket: storage.Bucket
) -> None:
    before = snapshot(db, bucket, world.alice.uid)
    for target in ("active", "removed"):
        got = call(gateway, admin, "get", world.id_of(target))
        assert got.status_code == 200, got.text
        assert got.json() == call(gateway, world.alice, "get", world.id_of(target)).json()
    signed = call(gateway, admin, "sign", world.active["id"])
    assert signed.status_code == 200, signed.text
    assert sha256_at(signed.json()["url"]) == world.active["sha256"]
    batch = batch_sign(gateway, admin, [world.active["id"], world.removed["id"]]).json()
    assert list(batch["urls"]) == [world.active["id"]]
    assert batch["errors"] == {world.removed["id"]: "NOT_FOUND"}

    refusals = [
        ("delete", "active"), ("delete allow_missing", "active"),
        ("delete allow_missing", "removed"), ("undelete", "removed"), ("undelete", "active"),
        ("get", "purged"), ("sign", "removed"), ("sign", "purged"),
    ]  # fmt: skip
    for endpoint, target in refusals:
        resp = call(gateway, admin, endpoint, world.id_of(target))
        shape = problem_shape(assert_problem(resp, 404, "NOT_FOUND"))
        assert shape == problem_shape(call(gateway, admin, endpoint, UNKNOWN)), (endpoint, target)
    assert snapshot(db, bucket, world.alice.uid) == before


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_unknown_foreign_deleted_and_purged_ids_get_the_same_answer(
    gateway: Gateway, world: World, endpoint: str
) -> None:
    """Nothing in a 404 tells an unknown id from someone else's, a deleted or a purged one."""
    answers = {
        "unknown": call(gateway, world.alice, endpoint, UNKNOWN),
        "foreign": call(gateway, world.alice, endpoint, world.bobs["id"]),
        "purged": call(gateway, world.alice, endpoint, world.purged["id"]),
    }
    if endpoint.startswith("sign"):
        answers["deleted"] = call(gateway, world.alice, endpoint, world.removed["id"])
        answers["deleted, asked by another user"] = call(
            gateway, world.bob, endpoint, world.removed["id"]
        )
    shapes = {
        case: problem_shape(assert_problem(resp, 404, "NOT_FOUND"))
        for case, resp in answers.items()
    }
    assert all(shape == shapes["unknown"] for shape in shapes.values()), shapes
    content_types = {resp.headers["Content-Type"] for resp in answers.values()}
    assert len(content_types) == 1
