"""Video jobs end to end: the gateway, generate_video, the Cloud Tasks emulator delivering
to the private worker with OIDC tokens, the local video provider, Firestore and storage."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import av
import pytest
import requests
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter
from PIL import Image

from infra.local.stack import Stack
from tests.support.harness import Gateway, User

TERMINAL = {"SUCCEEDED", "FAILED", "CANCELLED"}
QUEUE = "video-jobs"


def submit(gateway: Gateway, user: User, **fields: Any) -> dict[str, Any]:
    resp = gateway.post("/v1/videos:generate", user=user, json={"prompt": "a heron", **fields})
    assert resp.status_code == 202, resp.text
    job: dict[str, Any] = resp.json()["job"]
    assert resp.headers["Location"] == f"/v1/jobs/{job['id']}"
    return job


def wait_for(
    gateway: Gateway, user: User, job_id: str, states: set[str], timeout: float = 60.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = gateway.get(f"/v1/jobs/{job_id}", user=user).json()
        if job["state"] in states or time.monotonic() > deadline:
            assert job["state"] in states, job
            return job
        time.sleep(0.2)


def usage(gateway: Gateway, user: User) -> dict[str, Any]:
    videos: dict[str, Any] = gateway.get("/v1/usage", user=user).json()["videos"]
    return videos


def decode(data: bytes) -> tuple[str, float, int, int]:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        fps = float(stream.average_rate or 0)
        return stream.codec_context.name, frames / fps, stream.width, stream.height


def test_a_video_job_succeeds_with_a_playable_mp4_and_a_poster(
    gateway: Gateway, make_user: Callable[..., User]
) -> None:
    user = make_user()
    job = submit(gateway, user, duration_seconds=4, aspect_ratio="9:16")
    assert job["state"] == "QUEUED" and usage(gateway, user)["used"] == 1
    done = wait_for(gateway, user, job["id"], TERMINAL)
    assert done["state"] == "SUCCEEDED", done
    assert done["progress"]["percent"] == 100 and done["start_time"] and done["end_time"]
    urls = done["asset"]["urls"]
    mp4 = requests.get(urls["original"]["url"], timeout=10)
    assert mp4.status_code == 200 and mp4.headers["Content-Type"] == "video/mp4"
    codec, seconds, width, height = decode(mp4.content)
    assert codec == "h264" and abs(seconds - 4) < 0.2 and height > width
    poster = Image.open(io.BytesIO(requests.get(urls["poster"]["url"], timeout=10).content))
    assert poster.format == "WEBP" and poster.size == (width, height)
    # The video is in the library and soft-deletable like an image.
    listed = gateway.get("/v1/assets?type=video", user=user).json()["assets"]
    assert [a["id"] for a in listed] == [done["asset_id"]]
    assert gateway.call("DELETE", f"/v1/assets/{done['asset_id']}", user=user).status_code == 200


def test_other_users_get_404_for_a_job_on_every_endpoint(
    gateway: Gateway, make_user: Callable[..., User]
) -> None:
    alice, bob = make_user(), make_user()
    job = submit(gateway, alice)
    for method, path in [
        ("GET", f"/v1/jobs/{job['id']}"),
        ("POST", f"/v1/jobs/{job['id']}:cancel"),
    ]:
        resp = gateway.call(method, path, user=bob)
        assert resp.status_code == 404 and resp.json()["code"] == "NOT_FOUND"
    assert gateway.get("/v1/jobs", user=bob).json()["jobs"] == []
    assert wait_for(gateway, alice, job["id"], TERMINAL)["state"] == "SUCCEEDED"


def test_an_idempotent_submit_creates_one_job_and_one_charge(
    gateway: Gateway, make_user: Callable[..., User]
) -> None:
    user = make_user()
    key = {"Idempotency-Key": "video-key-1"}
    first = gateway.post("/v1/videos:generate", user=user, json={"prompt": "tide"}, headers=key)
    again = gateway.post("/v1/videos:generate", user=user, json={"prompt": "tide"}, headers=key)
    assert first.status_code == again.status_code == 202
    assert first.json()["job"]["id"] == again.json()["job"]["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert usage(gateway, user)["used"] == 1
    assert len(gateway.get("/v1/jobs", user=user).json()["jobs"]) == 1


def test_limits_per_model_are_422_before_anything_is_charged(
    gateway: Gateway, make_user: Callable[..., User]
) -> None:
    user = make_user()
    resp = gateway.post(
        "/v1/videos:generate", user=user, json={"prompt": "x", "duration_seconds": 5}
    )
    assert resp.status_code == 422
    assert [e["field"] for e in resp.json()["errors"]] == ["duration_seconds"]
    assert usage(gateway, user)["used"] == 0


@pytest.fixture
def paused_queue(stack_info: dict[str, Any]) -> Iterator[Callable[[], None]]:
    from infra.local.queues import tasks_client

    client = tasks_client(stack_info["tasks_emulator"])
    name = f"projects/{stack_info['project_id']}/locations/us-central1/queues/{QUEUE}"
    client.pause_queue(name=name)
    try:
        yield lambda: client.resume_queue(name=name)
    finally:
        client.resume_queue(name=name)


def test_a_cancelled_queued_job_never_runs_and_is_refunded(
    gateway: Gateway, make_user: Callable[..., User], db: firestore.Client,
    paused_queue: Callable[[], None],
) -> None:  # fmt: skip
    user = make_user()
    job = submit(gateway, user)
    cancelled = gateway.post(f"/v1/jobs/{job['id']}:cancel", user=user)
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "CANCELLED"
    assert usage(gateway, user)["used"] == 0
    paused_queue()  # resume: the step-0 task is delivered now
    time.sleep(2)
    stored = db.collection("jobs").document(job["id"]).get().to_dict() or {}
    assert stored["state"] == "CANCELLED" and stored["operation"] is None
    again = gateway.post(f"/v1/jobs/{job['id']}:cancel", user=user)
    assert again.status_code == 409 and again.json()["code"] == "FAILED_PRECONDITION"


def test_a_running_job_cancelled_stops_without_an_asset(
    gateway: Gateway, make_user: Callable[..., User]
) -> None:
    user = make_user()
    job = submit(gateway, user)
    wait_for(gateway, user, job["id"], {"RUNNING"})
    assert gateway.post(f"/v1/jobs/{job['id']}:cancel", user=user).status_code == 200
    time.sleep(4)  # longer than the local render: a worker that ignored the cancel would finish
    final = gateway.get(f"/v1/jobs/{job['id']}", user=user).json()
    assert final["state"] == "CANCELLED" and "asset" not in final
    assert gateway.get("/v1/assets?type=video", user=user).json()["assets"] == []
    assert usage(gateway, user)["used"] == 0


def test_the_worker_refuses_requests_without_its_queues_token(
    stack_info: dict[str, Any], gateway: Gateway, make_user: Callable[..., User]
) -> None:
    user = make_user()
    job = submit(gateway, user)
    worker = stack_info["functions"]["video_worker"] + "/tasks/video"
    body = {"job_id": job["id"], "step": 0}
    assert requests.post(worker, json=body, timeout=10).status_code == 401
    as_user = {"Authorization": f"Bearer {user.token}"}  # a real Firebase ID token
    assert requests.post(worker, json=body, headers=as_user, timeout=10).status_code == 401
    # Not routed publicly at all.
    assert gateway.post("/tasks/video", user=user, json=body).status_code == 404


def test_a_duplicate_delivery_makes_one_asset_and_one_charge(
    stack_info: dict[str, Any], gateway: Gateway, make_user: Callable[..., User],
    db: firestore.Client,
) -> None:  # fmt: skip
    user = make_user()
    job = submit(gateway, user)
    done = wait_for(gateway, user, job["id"], TERMINAL)
    queue = f"projects/{stack_info['project_id']}/locations/us-central1/queues/{QUEUE}"
    for step in range(3):  # replay the start, a poll and the final step
        requests.post(
            f"{stack_info['tasks_admin']}/emulator/v1/faults",
            json={"kind": "duplicate", "task": f"{queue}/tasks/{job['id']}-{step}"},
            timeout=10,
        ).raise_for_status()
    time.sleep(2)
    assets = list(
        db.collection("assets").where(filter=FieldFilter("owner_uid", "==", user.uid)).stream()
    )
    assert [a.id for a in assets] == [done["asset_id"]]
    assert usage(gateway, user)["used"] == 1
    assert gateway.get(f"/v1/jobs/{job['id']}", user=user).json()["state"] == "SUCCEEDED"


def test_a_worker_killed_mid_job_is_taken_over_and_the_job_completes_once(
    controllable_stack: Stack, make_user: Callable[..., User], db: firestore.Client,
) -> None:  # fmt: skip
    info = controllable_stack.info()
    gateway = Gateway(str(info["gateway"]))
    user = make_user()
    job = submit(gateway, user)
    wait_for(gateway, user, job["id"], {"RUNNING"})
    controllable_stack.stop_service("fn_video_worker")  # deliveries now fail to connect
    time.sleep(1.5)
    controllable_stack.start_service("fn_video_worker")
    done = wait_for(gateway, user, job["id"], TERMINAL, timeout=120)
    assert done["state"] == "SUCCEEDED"
    assets = list(
        db.collection("assets").where(filter=FieldFilter("owner_uid", "==", user.uid)).stream()
    )
    assert len(assets) == 1 and usage(gateway, user)["used"] == 1


def watch(gateway: Gateway, user: User, job_id: str, **headers: str) -> requests.Response:
    return requests.get(
        f"{gateway.base_url}/v1/jobs/{job_id}:watch",
        headers={**user.headers(), **headers}, stream=True, timeout=60,
    )  # fmt: skip


def job_events(resp: requests.Response) -> list[tuple[str, dict[str, Any]]]:
    events, fields = [], {}
    for line in resp.iter_lines(decode_unicode=True):
        if line == "" and "data" in fields:
            events.append((fields["id"], json.loads(fields["data"])))
            fields = {}
        elif ": " in line and not line.startswith(":"):
            key, value = line.split(": ", 1)
            fields[key] = value
    return events


def test_the_watch_stream_delivers_each_change_and_ends_at_the_terminal_state(
    gateway: Gateway, make_user: Callable[..., User]
) -> None:
    user, bob = make_user(), make_user()
    job = submit(gateway, user)
    assert watch(gateway, bob, job["id"]).status_code == 404
    resp = watch(gateway, user, job["id"])
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/event-stream")
    events = job_events(resp)  # returns when the server ends the stream
    states = [e["state"] for _, e in events]
    assert states[-1] == "SUCCEEDED" and "RUNNING" in states
    assert [int(i) for i, _ in events] == sorted({int(i) for i, _ in events})  # ids increase
    percents = [e["progress"]["percent"] for _, e in events]
    assert percents == sorted(percents) and percents[-1] == 100
    # Resuming after the last event seen: nothing new, and the stream ends at once.
    again = watch(gateway, user, job["id"], **{"Last-Event-ID": events[-1][0]})
    assert job_events(again) == []


def test_a_permanent_provider_failure_fails_the_job_and_refunds_it(
    gateway: Gateway, make_user: Callable[..., User]
) -> None:
    user = make_user()
    job = submit(gateway, user, prompt="a heron [fail:permanent]")
    done = wait_for(gateway, user, job["id"], TERMINAL)
    assert done["state"] == "FAILED" and done["error"]["code"] == "PROVIDER_ERROR"
    assert usage(gateway, user)["used"] == 0
