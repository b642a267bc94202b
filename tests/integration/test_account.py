"""Data export and account erasure end to end: through the gateway, Cloud Tasks (our emulator,
OIDC-signed) to the private workers, against real Firestore, Storage and Auth emulators.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable
from typing import Any

import requests
from google.cloud import firestore, storage
from google.cloud.firestore_v1.base_query import FieldFilter

from tests.support.harness import Gateway, User


def generate(gateway: Gateway, user: User, count: int = 2) -> list[dict[str, Any]]:
    body = {"prompt": "a lighthouse at dusk", "count": count}
    resp = gateway.post("/v1/images:generate", user=user, json=body)
    assert resp.status_code == 200, resp.text
    assets: list[dict[str, Any]] = resp.json()["assets"]
    return assets


def wait(
    check: Callable[[], dict[str, Any]], done: set[str], timeout: float = 60.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        seen = check()
        if seen.get("state") in done or time.monotonic() > deadline:
            assert seen.get("state") in done, seen
            return seen
        time.sleep(0.2)


def export_of(gateway: Gateway, user: User) -> dict[str, Any]:
    resp = gateway.post("/v1/me:export", user=user)
    assert resp.status_code == 202, resp.text
    export: dict[str, Any] = resp.json()["export"]
    assert resp.headers["Location"] == f"/v1/me/exports/{export['id']}"
    return wait(lambda: gateway.get(resp.headers["Location"], user=user).json(), {"SUCCEEDED"})


def test_an_export_is_a_zip_of_the_users_data_and_media_downloaded_by_its_signed_url(
    gateway: Gateway, make_user: Callable[..., User]
) -> None:
    alice, bob = make_user(), make_user()
    assets = generate(gateway, alice)
    generate(gateway, bob, count=1)
    export = export_of(gateway, alice)
    assert export["counts"]["assets"] == 2 and export["counts"]["media_files"] == 4

    download = requests.get(export["download"]["url"], timeout=30)
    assert download.status_code == 200
    zf = zipfile.ZipFile(io.BytesIO(download.content))
    assert zf.testzip() is None  # every entry's CRC checks out
    listed = json.loads(zf.read("assets.json"))
    assert sorted(a["id"] for a in listed) == sorted(a["id"] for a in assets)
    original = requests.get(assets[0]["urls"]["original"]["url"], timeout=30).content
    (name,) = [n for n in zf.namelist() if n.startswith(f"media/{assets[0]['id']}/original")]
    assert zf.read(name) == original
    assert json.loads(zf.read("account.json"))["uid"] == alice.uid

    other = gateway.get(f"/v1/me/exports/{export['id']}", user=bob)
    assert other.status_code == 404 and other.json()["code"] == "NOT_FOUND"


def test_erasing_an_account_removes_everything_and_blocks_its_tokens_at_once(
    gateway: Gateway,
    make_user: Callable[..., User],
    db: firestore.Client,
    bucket: storage.Bucket,
    admin: User,
) -> None:
    alice, bob = make_user(), make_user()
    token = alice.token
    generate(gateway, alice)
    kept = generate(gateway, bob, count=1)
    export_of(gateway, alice)

    resp = gateway.call("DELETE", "/v1/me", user=alice)
    assert resp.status_code == 202, resp.text
    erasure = resp.json()["erasure"]
    assert erasure["state"] == "RUNNING" and alice.uid not in json.dumps(erasure)
    again = gateway.post("/v1/images:generate", token=token, json={"prompt": "more"})
    assert again.status_code == 401 and again.json()["code"] == "UNAUTHENTICATED"  # at once
    deadline = time.monotonic() + 10  # reads: within the revocation cache's window (2 s here)
    while (refused := gateway.get("/v1/assets", token=token)).status_code == 200:
        assert time.monotonic() < deadline, "an erased account still reads past the window"
        time.sleep(0.2)
    assert refused.status_code == 401 and refused.json()["code"] == "UNAUTHENTICATED"

    path = f"/v1/admin/erasures/{erasure['id']}"
    done = wait(lambda: gateway.get(path, user=admin).json(), {"DONE"})
    assert done["counts"]["assets"] == 2 and done["counts"]["exports"] == 1

    for collection, field in (("assets", "owner_uid"), ("exports", "owner_uid"),
                              ("idempotency", "uid")):  # fmt: skip
        query = db.collection(collection).where(filter=FieldFilter(field, "==", alice.uid))
        assert list(query.stream()) == [], collection
    assert not db.collection("users").document(alice.uid).get().exists
    assert not db.collection("usage").document(alice.uid).get().exists
    assert [b.name for b in bucket.list_blobs(prefix=f"users/{alice.uid}/")] == []
    assert [b.name for b in bucket.list_blobs(prefix=f"exports/{alice.uid}/")] == []
    assert gateway.get(f"/v1/admin/users/{alice.uid}", user=admin).status_code == 404

    bobs = gateway.get(f"/v1/assets/{kept[0]['id']}", user=bob)
    assert bobs.status_code == 200  # nobody else's data is touched
    audit = gateway.get("/v1/admin/audit", user=admin, params={"target": erasure["id"]}).json()
    assert {e["action"] for e in audit["events"]} == {"user.erase", "user.erased"}
    actors = gateway.get("/v1/admin/audit", user=admin, params={"actor": alice.uid}).json()
    assert actors["events"] == []  # her earlier entries now carry the pseudonym


def test_admins_erase_other_accounts_and_repeating_resumes_the_same_erasure(
    gateway: Gateway, make_user: Callable[..., User], admin: User
) -> None:
    carol = make_user()
    first = gateway.call("DELETE", f"/v1/admin/users/{carol.uid}", user=admin)
    second = gateway.call("DELETE", f"/v1/admin/users/{carol.uid}", user=admin)
    assert first.status_code == second.status_code == 202
    assert first.json()["erasure"]["id"] == second.json()["erasure"]["id"]
    assert first.json()["erasure"]["requested_by"] == "admin"
    missing = gateway.call("DELETE", "/v1/admin/users/no-such-user", user=admin)
    assert missing.status_code == 404
    dave = make_user()
    denied = gateway.call("DELETE", f"/v1/admin/users/{dave.uid}", user=make_user())
    assert denied.status_code == 403 and denied.json()["code"] == "PERMISSION_DENIED"


def test_the_workers_refuse_requests_without_their_queues_token(
    stack_info: dict[str, Any], gateway: Gateway, make_user: Callable[..., User]
) -> None:
    user = make_user()
    for function, path, body in (
        ("export_worker", "/tasks/export", {"export_id": "a" * 22}),
        ("erasure_worker", "/tasks/erasure", {"erasure_id": "erased-" + "0" * 32, "step": 0}),
    ):
        worker = stack_info["functions"][function] + path
        assert requests.post(worker, json=body, timeout=10).status_code == 401
        as_user = {"Authorization": f"Bearer {user.token}"}
        assert requests.post(worker, json=body, headers=as_user, timeout=10).status_code == 401
        assert gateway.post(path, user=user, json=body).status_code == 404
