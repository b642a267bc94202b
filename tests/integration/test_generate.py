"""POST /v1/images:generate through the gateway: results, errors, quotas, idempotency, logs."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from google.cloud import firestore, storage
from google.cloud.firestore_v1.base_query import FieldFilter
from PIL import Image

from infra.local.authemu import AuthEmulator
from tests.support.api import assert_problem, fields_of, forged_token
from tests.support.harness import Gateway, User

PATH = "/v1/images:generate"


def generate(gateway: Gateway, user: User, headers: dict[str, str] | None = None, **body: Any):
    return gateway.post(PATH, user=user, json=body, headers=headers)


def parallel(n: int, call: Callable[[], requests.Response]) -> list[requests.Response]:
    """Run ``call`` n times at once (all threads released together)."""
    start = threading.Barrier(n)
    results: list[requests.Response | None] = [None] * n

    def run(i: int) -> None:
        start.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [r for r in results if r is not None]


def owned_assets(db: firestore.Client, uid: str) -> list[dict[str, Any]]:
    query = db.collection("assets").where(filter=FieldFilter("owner_uid", "==", uid))
    return [s.to_dict() for s in query.stream()]


def object_names(bucket: storage.Bucket, uid: str) -> list[str]:
    return [b.name for b in bucket.list_blobs(prefix=f"users/{uid}/")]


def test_generated_images_are_stored_signed_and_described(
    gateway: Gateway, make_user: Callable[..., User], db: firestore.Client, bucket: storage.Bucket
) -> None:
    user = make_user()
    resp = generate(gateway, user, {"X-Request-ID": "req-123"}, prompt="a lighthouse at dusk",
                    count=2, aspect_ratio="16:9", seed=7)  # fmt: skip
    assert resp.status_code == 200, resp.text
    assert resp.headers["X-Request-ID"] == "req-123"
    body = resp.json()
    assert len(body["assets"]) == 2 and len({a["id"] for a in body["assets"]}) == 2
    for asset in body["assets"]:
        assert (asset["type"], asset["state"], asset["prompt"]) == (
            "image",
            "ACTIVE",
            "a lighthouse at dusk",
        )
        assert (asset["width"], asset["height"], asset["content_type"]) == (1024, 576, "image/png")
        original = requests.get(asset["urls"]["original"]["url"], timeout=10)
        assert original.status_code == 200
        assert hashlib.sha256(original.content).hexdigest() == asset["sha256"]
        assert len(original.content) == asset["size_bytes"]
        assert Image.open(io.BytesIO(original.content)).size == (1024, 576)
        thumb = requests.get(asset["urls"]["thumbnail"]["url"], timeout=10)
        image = Image.open(io.BytesIO(thumb.content))
        assert (image.format, image.size) == ("WEBP", (256, 144))
        assert asset["urls"]["original"]["expire_time"] > asset["create_time"]
    assert body["usage"]["images"]["used"] == 2
    assert resp.headers["RateLimit-Policy"].startswith('"gen";q=')
    assert resp.headers["RateLimit"].startswith('"gen";r=')
    stored = owned_assets(db, user.uid)
    assert sorted(a["state"] for a in stored) == ["ACTIVE", "ACTIVE"]
    assert len(object_names(bucket, user.uid)) == 4


def test_same_seed_gives_the_same_image(gateway: Gateway, make_user: Callable[..., User]) -> None:
    user = make_user()
    digests = [
        generate(gateway, user, prompt="a quiet harbour", seed=seed).json()["assets"][0]["sha256"]
        for seed in (1, 1, 2)
    ]
    assert digests[0] == digests[1] != digests[2]


def _auth_cases(auth: AuthEmulator, user: User, project: str) -> dict[str, dict[str, str]]:
    disabled = auth.create_user(f"off-{uuid.uuid4().hex[:6]}@example.com")
    disabled_token = auth.id_token(disabled)
    auth.disable(disabled)
    return {
        "missing": {},
        "not bearer": {"Authorization": f"Basic {user.token}"},
        "garbage": {"Authorization": "Bearer not-a-token"},
        "expired": {"Authorization": f"Bearer {forged_token(project, user.uid, issued_ago=7200)}"},
        "wrong project": {
            "Authorization": f"Bearer {forged_token('other', user.uid, issued_ago=0)}"
        },
        "disabled user": {"Authorization": f"Bearer {disabled_token}"},
    }


def test_requests_without_a_valid_token_are_refused(
    gateway: Gateway, make_user: Callable[..., User], auth_emulator: AuthEmulator,
    stack_info: dict[str, Any], db: firestore.Client,
) -> None:  # fmt: skip
    user = make_user()
    for case, headers in _auth_cases(auth_emulator, user, stack_info["project_id"]).items():
        resp = gateway.post(PATH, json={"prompt": "x"}, headers=headers)
        assert resp.status_code == 401, case
        assert_problem(resp, 401, "UNAUTHENTICATED")
        assert resp.headers["WWW-Authenticate"].startswith("Bearer"), case
    assert owned_assets(db, user.uid) == []


def test_revoked_tokens_are_refused(
    gateway: Gateway, make_user: Callable[..., User], auth_emulator: AuthEmulator
) -> None:
    user = make_user()
    old = forged_token(gateway_project(auth_emulator), user.uid, issued_ago=120)
    assert gateway.post(PATH, token=old, json={"prompt": "x"}).status_code == 200
    auth_emulator.revoke_tokens(user.uid)
    assert_problem(gateway.post(PATH, token=old, json={"prompt": "x"}), 401, "UNAUTHENTICATED")
    assert gateway.post(PATH, user=user, json={"prompt": "x"}).status_code == 200  # a new sign-in


def test_reads_honour_a_revocation_within_the_cache_window_and_spending_at_once(
    gateway: Gateway, make_user: Callable[..., User], auth_emulator: AuthEmulator
) -> None:
    # The test stack caches a user's revocation state for reads for 2 s (README: Security).
    user = make_user()
    old = forged_token(gateway_project(auth_emulator), user.uid, issued_ago=120)
    assert gateway.get("/v1/assets", token=old).status_code == 200  # cached now
    auth_emulator.revoke_tokens(user.uid)
    assert_problem(gateway.post(PATH, token=old, json={"prompt": "x"}), 401, "UNAUTHENTICATED")
    deadline = time.monotonic() + 10
    while (resp := gateway.get("/v1/assets", token=old)).status_code == 200:
        assert time.monotonic() < deadline, "a revoked token still reads past the window"
        time.sleep(0.2)
    assert_problem(resp, 401, "UNAUTHENTICATED")


def test_replays_and_signed_urls_honour_a_revocation_within_the_window_new_keys_at_once(
    gateway: Gateway, db: firestore.Client, make_user: Callable[..., User],
    auth_emulator: AuthEmulator,
) -> None:  # fmt: skip
    # A replay returns a response the caller already had and signing a URL changes nothing:
    # both are read-only and may trust the cached state for the window (2 s here).
    user = make_user()
    old = forged_token(gateway_project(auth_emulator), user.uid, issued_ago=120)
    keyed = {"Idempotency-Key": uuid.uuid4().hex}
    first = gateway.post(PATH, token=old, json={"prompt": "x"}, headers=keyed)
    assert first.status_code == 200
    sign = f"/v1/assets/{first.json()['assets'][0]['id']}:signUrl"
    assert gateway.post(sign, token=old, json={}).status_code == 200  # cached now
    auth_emulator.revoke_tokens(user.uid)
    new_key = {"Idempotency-Key": uuid.uuid4().hex}
    refused = gateway.post(PATH, token=old, json={"prompt": "x"}, headers=new_key)
    assert_problem(refused, 401, "UNAUTHENTICATED")
    assert len(owned_assets(db, user.uid)) == 1  # the refused key generated nothing
    for path, body, headers in ((PATH, {"prompt": "x"}, keyed), (sign, {}, {})):
        deadline = time.monotonic() + 10
        while (
            resp := gateway.post(path, token=old, json=body, headers=headers)
        ).status_code == 200:
            assert time.monotonic() < deadline, f"a revoked token still calls {path}"
            time.sleep(0.2)
        assert_problem(resp, 401, "UNAUTHENTICATED")


def gateway_project(auth: AuthEmulator) -> str:
    return auth.project_id


def test_viewers_may_not_generate(gateway: Gateway, make_user: Callable[..., User]) -> None:
    resp = generate(gateway, make_user(role="viewer"), prompt="a cat")
    assert_problem(resp, 403, "PERMISSION_DENIED")


BAD_BODIES: list[tuple[str, object, set[str]]] = [
    ("empty prompt", {"prompt": ""}, {"prompt"}),
    ("blank prompt", {"prompt": "   "}, {"prompt"}),
    ("long prompt", {"prompt": "x" * 2001}, {"prompt"}),
    ("count zero", {"prompt": "p", "count": 0}, {"count"}),
    ("count five", {"prompt": "p", "count": 5}, {"count"}),
    ("count as string", {"prompt": "p", "count": "2"}, {"count"}),
    ("bad ratio", {"prompt": "p", "aspect_ratio": "2:1"}, {"aspect_ratio"}),
    ("negative seed", {"prompt": "p", "seed": -1}, {"seed"}),
    ("float seed", {"prompt": "p", "seed": 1.5}, {"seed"}),
    ("unknown model", {"prompt": "p", "model": "dall-e"}, {"model"}),
    ("unknown field", {"prompt": "p", "size": 3}, {"size"}),
    (
        "many at once",
        {"count": 9, "aspect_ratio": "1:2", "seed": "x"},
        {"prompt", "count", "aspect_ratio", "seed"},
    ),
    ("not an object", ["prompt"], {"body"}),
]


@pytest.mark.parametrize(("case", "body", "fields"), BAD_BODIES, ids=[c[0] for c in BAD_BODIES])
def test_invalid_bodies_name_every_bad_field(
    gateway: Gateway, make_user: Callable[..., User], db: firestore.Client,
    case: str, body: object, fields: set[str],
) -> None:  # fmt: skip
    user = make_user()
    problem = assert_problem(gateway.post(PATH, user=user, json=body), 422, "INVALID_ARGUMENT")
    assert fields_of(problem) == fields
    assert owned_assets(db, user.uid) == []


def test_malformed_oversized_and_wrongly_typed_bodies(
    gateway: Gateway, make_user: Callable[..., User]
) -> None:
    user = make_user()
    json_headers = {"Content-Type": "application/json"}
    bad_json = gateway.post(PATH, user=user, data=b'{"prompt": ', headers=json_headers)
    assert_problem(bad_json, 400, "INVALID_ARGUMENT")
    huge = gateway.post(
        PATH, user=user, data=b'{"prompt": "' + b"x" * 70_000 + b'"}', headers=json_headers
    )
    assert_problem(huge, 413, "PAYLOAD_TOO_LARGE")
    form = gateway.post(PATH, user=user, data=b"prompt=x", headers={"Content-Type": "text/plain"})
    assert_problem(form, 415, "UNSUPPORTED_MEDIA_TYPE")
    wrong_method = gateway.get(PATH, user=user)
    assert_problem(wrong_method, 405, "METHOD_NOT_ALLOWED")
    assert "POST" in wrong_method.headers["Allow"]


def test_quota_is_exact_under_concurrency(
    gateway: Gateway, make_user: Callable[..., User], set_quota: Callable[..., Any],
    db: firestore.Client, bucket: storage.Bucket,
) -> None:  # fmt: skip
    user = make_user()
    set_quota(user, images_per_day=10)
    responses = parallel(30, lambda: generate(gateway, user, prompt="a bee"))
    assert sorted(r.status_code for r in responses).count(200) == 10
    for refused in (r for r in responses if r.status_code != 200):
        problem = assert_problem(refused, 429, "QUOTA_EXCEEDED")
        assert problem["reset_time"] and int(refused.headers["Retry-After"]) > 0
    usage = db.collection("usage").document(user.uid).get().to_dict()
    assert usage["images"] == 10
    assert [a["state"] for a in owned_assets(db, user.uid)] == ["ACTIVE"] * 10
    assert len(object_names(bucket, user.uid)) == 20


def test_parallel_duplicates_with_one_key_generate_once(
    gateway: Gateway, make_user: Callable[..., User], db: firestore.Client
) -> None:
    user = make_user()
    key = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
    responses = parallel(5, lambda: generate(gateway, user, key, prompt="a kite", count=2))
    done = [r for r in responses if r.status_code == 200]
    assert done, [r.text for r in responses]
    for busy in (r for r in responses if r.status_code != 200):
        assert_problem(busy, 409, "IDEMPOTENCY_IN_PROGRESS")
    replay = generate(gateway, user, key, prompt="a kite", count=2)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert {json.dumps(r.json(), sort_keys=True) for r in [*done, replay]} == {
        json.dumps(done[0].json(), sort_keys=True)
    }
    assert len(owned_assets(db, user.uid)) == 2
    reused = generate(gateway, user, key, prompt="a different kite", count=2)
    assert_problem(reused, 422, "IDEMPOTENCY_KEY_REUSED")
    other = make_user()
    assert (
        "Idempotent-Replayed" not in generate(gateway, other, key, prompt="a kite", count=2).headers
    )


def test_blocked_prompts_are_refused_before_any_charge(
    gateway: Gateway, make_user: Callable[..., User], db: firestore.Client
) -> None:
    user = make_user()
    resp = generate(gateway, user, prompt="a Beheading scene")
    assert_problem(resp, 422, "CONTENT_BLOCKED")
    assert not db.collection("usage").document(user.uid).get().exists
    query = db.collection("moderation_events").where(filter=FieldFilter("uid", "==", user.uid))
    events = [e.to_dict() for e in query.stream()]
    assert [e["reason"] for e in events] == ["denylist:beheading"]


def test_logs_are_structured_correlated_and_free_of_secrets(
    gateway: Gateway, make_user: Callable[..., User], stack_info: dict[str, Any]
) -> None:
    user = make_user()
    token, trace_id = user.token, uuid.uuid4().hex
    prompt = f"a secret garden {uuid.uuid4().hex}"
    headers = {
        "traceparent": f"00-{trace_id}-00f067aa0ba902b7-01",
        "Authorization": f"Bearer {token}",
    }
    resp = gateway.post(PATH, json={"prompt": prompt}, headers=headers)
    assert resp.status_code == 200
    text = (Path(stack_info["logs"]) / "fn_generate_image.log").read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    ours = [e for e in lines if e.get("logging.googleapis.com/labels", {}).get("request_id")
            == resp.headers["X-Request-ID"]]  # fmt: skip
    assert ours, "no log line for the request"
    for entry in ours:
        assert (
            entry["logging.googleapis.com/trace"]
            == f"projects/{stack_info['project_id']}/traces/{trace_id}"
        )
        assert entry["severity"] and entry["message"]
        assert entry["logging.googleapis.com/labels"]["function"] == "generate_image"
    access = [e for e in ours if "httpRequest" in e]
    assert access and access[0]["httpRequest"]["status"] == 200
    assert token not in text and prompt not in text
    assert "X-Goog-Signature" not in text


def test_response_urls_come_from_the_signing_function(
    gateway: Gateway, make_user: Callable[..., User], stack_info: dict[str, Any]
) -> None:
    statusz = stack_info["functions"]["issue_signed_url"] + "/statusz"
    before = requests.get(statusz, timeout=10).json()["signing"]["sign_calls"]
    resp = generate(gateway, make_user(), prompt="a windmill", count=2)
    assert all(set(a["urls"]) == {"original", "thumbnail"} for a in resp.json()["assets"])
    assert requests.get(statusz, timeout=10).json()["signing"]["sign_calls"] - before == 4
