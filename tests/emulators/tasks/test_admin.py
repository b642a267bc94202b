"""The admin port: attempt history, duplicate delivery, injected failures and timeouts."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import tasks_v2

from tests.emulators.tasks.helpers import Admin, Receiver, from_now, wait_until

Client = tasks_v2.CloudTasksClient


def test_history_records_each_attempt(
    client: Client,
    make_queue: Callable[..., Any],
    http_task: Callable[..., Any],
    receiver: Receiver,
    admin: Admin,
) -> None:
    queue = make_queue()
    path = receiver.new_path(429)
    task = client.create_task(parent=queue.name, task=http_task(path, http={"body": b"hi"}))
    history = admin.wait_outcome(task.name, "succeeded")
    assert history["task"] == task.name and history["queue"] == queue.name
    first, second = history["attempts"]
    assert (first["status"], second["status"]) == (429, 200)
    assert first["kind"] == "dispatch" and first["delivered"] is True
    assert first["headers"]["X-CloudTasks-TaskRetryCount"] == "0"
    assert second["headers"]["X-CloudTasks-TaskPreviousResponse"] == "429"
    assert base64.b64decode(first["body_base64"]) == b"hi"
    assert first["url"] == receiver.url(path) and first["method"] == "POST"
    assert first["dispatch_time"] <= first["response_time"] <= second["dispatch_time"]


def test_history_of_unknown_task_is_404(admin: Admin, location: str) -> None:
    status, body = admin.call("GET", f"/emulator/v1/attempts?task={location}/queues/q/tasks/t")
    assert status == 404 and "t" in body["error"]
    status, _ = admin.call("GET", "/emulator/v1/attempts")
    assert status == 400


def test_duplicate_delivery_of_a_succeeded_task(
    client: Client,
    make_queue: Callable[..., Any],
    http_task: Callable[..., Any],
    receiver: Receiver,
    admin: Admin,
) -> None:
    queue = make_queue()
    path = receiver.new_path()
    task = client.create_task(parent=queue.name, task=http_task(path, http={"body": b"once"}))
    admin.wait_outcome(task.name, "succeeded")
    admin.fault(kind="duplicate", task=task.name)
    original, duplicate = receiver.wait_hits(path, 2)
    assert duplicate.body == original.body == b"once"
    for header in ("X-CloudTasks-TaskName", "X-CloudTasks-TaskRetryCount"):
        assert duplicate.header(header) == original.header(header)
    kinds = wait_until(lambda: [a["kind"] for a in admin.history(task.name)["attempts"]][1:])
    assert kinds == ["duplicate"]
    with pytest.raises(exceptions.NotFound):
        client.get_task(name=task.name)  # still done: the duplicate changes nothing


def test_duplicate_delivery_of_a_pending_task_follows_its_success(
    client: Client,
    make_queue: Callable[..., Any],
    http_task: Callable[..., Any],
    receiver: Receiver,
    admin: Admin,
) -> None:
    queue = make_queue()
    path = receiver.new_path()
    task = client.create_task(parent=queue.name, task=http_task(path, schedule_time=from_now(0.3)))
    admin.fault(kind="duplicate", task=task.name)
    first, second = receiver.wait_hits(path, 2)
    assert second.header("X-CloudTasks-TaskName") == first.header("X-CloudTasks-TaskName")


def test_injected_status_fails_the_next_dispatches_without_calling_the_worker(
    client: Client,
    make_queue: Callable[..., Any],
    http_task: Callable[..., Any],
    receiver: Receiver,
    admin: Admin,
) -> None:
    queue = make_queue()
    admin.fault(kind="status", queue=queue.name, status=503, count=2)
    path = receiver.new_path()
    task = client.create_task(parent=queue.name, task=http_task(path))
    history = admin.wait_outcome(task.name, "succeeded")
    assert [a["status"] for a in history["attempts"]] == [503, 503, 200]
    assert [a["delivered"] for a in history["attempts"]] == [False, False, True]
    (hit,) = receiver.hits(path)
    assert hit.header("X-CloudTasks-TaskRetryCount") == "2"
    assert hit.header("X-CloudTasks-TaskPreviousResponse") == "503"


def test_injected_timeout_counts_as_a_failed_attempt(
    client: Client,
    make_queue: Callable[..., Any],
    http_task: Callable[..., Any],
    receiver: Receiver,
    admin: Admin,
) -> None:
    queue = make_queue()
    admin.fault(kind="timeout", queue=queue.name)
    path = receiver.new_path()
    task = client.create_task(parent=queue.name, task=http_task(path))
    history = admin.wait_outcome(task.name, "succeeded")
    assert history["attempts"][0]["error"].startswith("DEADLINE_EXCEEDED")
    (hit,) = receiver.hits(path)
    assert hit.header("X-CloudTasks-TaskRetryCount") == "1"
    assert hit.header("X-CloudTasks-TaskPreviousResponse") is None


def test_injected_failure_can_still_reach_the_worker(
    client: Client,
    make_queue: Callable[..., Any],
    http_task: Callable[..., Any],
    receiver: Receiver,
    admin: Admin,
) -> None:
    """deliver=true: the worker runs the task but Cloud Tasks sees a failure, so it runs twice."""
    queue = make_queue()
    admin.fault(kind="status", queue=queue.name, status=500, deliver=True)
    path = receiver.new_path()
    task = client.create_task(parent=queue.name, task=http_task(path))
    history = admin.wait_outcome(task.name, "succeeded")
    assert [a["status"] for a in history["attempts"]] == [500, 200]
    assert len(receiver.hits(path)) == 2


def test_bad_fault_requests_are_400(admin: Admin, make_queue: Callable[..., Any]) -> None:
    queue = make_queue()
    for spec in (
        {"kind": "explode", "queue": queue.name},
        {"kind": "status", "queue": queue.name, "status": 204},
        {"kind": "status", "queue": queue.name, "status": 500, "count": 0},
        {"kind": "duplicate", "task": "not-a-task-name"},
    ):
        assert admin.call("POST", "/emulator/v1/faults", spec)[0] == 400
    never = {"kind": "duplicate", "task": f"{queue.name}/tasks/never-created"}
    assert admin.call("POST", "/emulator/v1/faults", never)[0] == 409
    missing = {"kind": "timeout", "queue": queue.name + "-missing"}
    assert admin.call("POST", "/emulator/v1/faults", missing)[0] == 404
