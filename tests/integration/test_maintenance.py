"""The sweeper and the purge as deployed: event functions of the stack, sent the CloudEvent a
Pub/Sub push delivers (directly, and through Google's Pub/Sub emulator where installed), with
their effects read from Firestore and the bucket."""

from __future__ import annotations

import base64
import json
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from google.cloud import firestore, storage
from google.cloud.firestore_v1.base_query import FieldFilter

from infra.local import events
from infra.local.scheduler import post_event, pubsub_event
from infra.local.services import pubsub_choice
from tests.support.assets import generate
from tests.support.harness import Gateway, User


def send(stack_info: dict[str, Any], function: str, topic: str) -> int:
    url = stack_info["functions"][function]
    return post_event(url, stack_info["project_id"], topic, {"job": topic})


def seed_dead_generation(db: firestore.Client, uid: str) -> str:
    """What an instance killed between charge and activation leaves: a PENDING asset, charged."""
    created = datetime.now(UTC) - timedelta(hours=1)
    ref = db.collection("assets").document()
    ref.set({
        "owner_uid": uid, "type": "image", "state": "PENDING", "prompt": "a kite", "params": {},
        "cost_micros": 40_000, "create_time": created, "update_time": created,
    })  # fmt: skip
    # Charged in the periods it was created in (which, just after midnight, are yesterday's).
    db.collection("usage").document(uid).set({
        "day": created.strftime("%Y-%m-%d"), "images": 1, "month": created.strftime("%Y-%m"),
        "videos": 0, "cost_micros": 40_000,
    })  # fmt: skip
    return ref.id


def stored_usage(db: firestore.Client, uid: str) -> tuple[int, int]:
    doc = db.collection("usage").document(uid).get()
    return int(doc.get("images")), int(doc.get("cost_micros"))


def test_the_sweeper_refunds_a_dead_generation_once(
    stack_info: dict[str, Any], gateway: Gateway, make_user: Callable[..., User],
    db: firestore.Client,
) -> None:  # fmt: skip
    user, other = make_user(), make_user()
    [live] = generate(gateway, other)
    dead = seed_dead_generation(db, user.uid)
    for _ in range(2):  # a redelivered event changes nothing more
        assert send(stack_info, "sweeper", "sweep") == 200
        assert db.collection("assets").document(dead).get().get("state") == "FAILED"
        assert stored_usage(db, user.uid) == (0, 0)
    assert db.collection("assets").document(live["id"]).get().get("state") == "ACTIVE"


def objects_of(bucket: storage.Bucket, uid: str) -> list[str]:
    names = [b.name for b in bucket.list_blobs(prefix="users/")]
    names += [b.name for b in bucket.list_blobs(prefix="trash/")]
    return [n for n in names if f"users/{uid}/" in n]


def test_the_purge_deletes_due_assets_objects_and_documents_and_nothing_else(
    stack_info: dict[str, Any], gateway: Gateway, make_user: Callable[..., User],
    db: firestore.Client, bucket: storage.Bucket,
) -> None:  # fmt: skip
    user = make_user()
    due, kept, live = generate(gateway, user, count=3)
    for asset in (due, kept):
        assert gateway.call("DELETE", f"/v1/assets/{asset['id']}", user=user).status_code == 200
    past = datetime.now(UTC) - timedelta(minutes=1)
    db.collection("assets").document(due["id"]).update({"purge_time": past})  # its time came
    assert send(stack_info, "purge", "purge") == 200
    assert not db.collection("assets").document(due["id"]).get().exists
    remaining = objects_of(bucket, user.uid)
    assert remaining and not any(due["id"] in name for name in remaining)
    assert {kept["id"], live["id"]} <= {name.split("/")[-2] for name in remaining}
    assert send(stack_info, "purge", "purge") == 200  # again: nothing left to do
    assert objects_of(bucket, user.uid) == remaining
    assert gateway.get(f"/v1/assets/{kept['id']}", user=user).json()["state"] == "DELETED"


def test_a_backlog_is_purged_by_runs_that_continue_themselves_through_cloud_tasks(
    stack_info: dict[str, Any], make_user: Callable[..., User], db: firestore.Client
) -> None:
    # The test stack's purge does 2 assets a run and is then out of budget.
    user, past = make_user(), datetime.now(UTC) - timedelta(minutes=1)
    ids = []
    for _ in range(5):
        ref = db.collection("assets").document()
        ref.set({
            "owner_uid": user.uid, "type": "image", "state": "DELETED", "prompt": "old",
            "params": {}, "cost_micros": 0, "create_time": past, "update_time": past,
            "delete_time": past, "purge_time": past, "objects": {},
        })  # fmt: skip
        ids.append(ref.id)
    assert send(stack_info, "purge", "purge") == 200  # one scheduled run; the rest follow
    deadline = time.monotonic() + 60
    while any(db.collection("assets").document(i).get().exists for i in ids):
        assert time.monotonic() < deadline, "the backlog was not worked off by continuations"
        time.sleep(0.3)


def test_a_malformed_event_is_acknowledged_and_changes_nothing(
    stack_info: dict[str, Any], make_user: Callable[..., User], db: firestore.Client
) -> None:
    user = make_user()
    dead = seed_dead_generation(db, user.uid)
    headers, body = pubsub_event(stack_info["project_id"], "sweep", {})
    garbage = json.loads(body)
    garbage["message"]["data"] = base64.b64encode(b"not json").decode()
    req = urllib.request.Request(
        stack_info["functions"]["sweeper"], data=json.dumps(garbage).encode(), headers=headers,
        method="POST",
    )  # fmt: skip
    with urllib.request.urlopen(req, timeout=60) as resp:
        assert resp.status == 200  # acknowledged: Pub/Sub must not redeliver it for ever
    assert db.collection("assets").document(dead).get().get("state") == "PENDING"


@pytest.mark.skipif(not pubsub_choice(None)[0], reason="Google's Pub/Sub emulator is not installed")
def test_a_message_on_the_sweep_topic_reaches_the_sweeper_through_pubsub(
    stack_info: dict[str, Any], make_user: Callable[..., User], db: firestore.Client
) -> None:
    user = make_user()
    dead = seed_dead_generation(db, user.uid)
    events.publish(stack_info["pubsub_emulator"], stack_info["project_id"], "sweep", {"job": "x"})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if db.collection("assets").document(dead).get().get("state") == "FAILED":
            break
        time.sleep(0.3)
    failed = db.collection("assets").where(filter=FieldFilter("owner_uid", "==", user.uid))
    assert [d.get("state") for d in failed.stream()] == ["FAILED"]
