"""Dispatch: the request a worker receives, acknowledgement, retries and their backoff,
max_attempts, dispatch deadlines, rate limits, and the task's attempt fields."""

from __future__ import annotations

import datetime
import itertools
import socket
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import tasks_v2

from tests.emulators.tasks.helpers import Admin, Receiver, Reply, wait_until

Client = tasks_v2.CloudTasksClient


def _at(rfc3339: str) -> float:
    return datetime.datetime.fromisoformat(rfc3339).timestamp()


def test_worker_receives_the_task_request_and_cloud_tasks_headers(
    client: Client,
    make_queue: Callable[..., Any],
    http_task: Callable[..., Any],
    receiver: Receiver,
) -> None:
    queue = make_queue(min_backoff=0.1)
    path = receiver.new_path(503, 404)
    headers = {
        "Content-Type": "application/json",
        "X-Custom": "kept",
        "User-Agent": "replaced",
        "X-CloudTasks-TaskName": "spoofed",
    }
    http = {"http_method": tasks_v2.HttpMethod.PUT, "headers": headers, "body": b'{"a": 1}'}
    task = http_task(path + "?q=1", f"{queue.name}/tasks/hdr-check", http=http)
    created = client.create_task(parent=queue.name, task=task)
    first, second, third = receiver.wait_hits(path, 3)
    assert (first.method, first.path, first.body) == ("PUT", path + "?q=1", b'{"a": 1}')
    assert first.header("Content-Type") == "application/json"
    assert first.header("X-Custom") == "kept"
    assert first.header("User-Agent") == "Google-Cloud-Tasks"
    assert first.header("X-CloudTasks-QueueName") == queue.name.rsplit("/", 1)[1]
    assert first.header("X-CloudTasks-TaskName") == "hdr-check"
    eta = float(first.header("X-CloudTasks-TaskETA") or 0)
    assert eta == pytest.approx(created.schedule_time.timestamp(), abs=1e-6)
    counts = [
        (h.header("X-CloudTasks-TaskRetryCount"), h.header("X-CloudTasks-TaskExecutionCount"))
        for h in (first, second, third)
    ]
    # 503 is not counted as an execution; 404 is (production leaves 5xx out).
    assert counts == [("0", "0"), ("1", "0"), ("2", "1")]
    assert first.header("X-CloudTasks-TaskPreviousResponse") is None
    assert first.header("X-CloudTasks-TaskRetryReason") is None
    assert second.header("X-CloudTasks-TaskPreviousResponse") == "503"
    assert third.header("X-CloudTasks-TaskPreviousResponse") == "404"
    assert second.header("X-CloudTasks-TaskRetryReason")
    assert float(second.header("X-CloudTasks-TaskETA") or 0) > eta


def test_retries_follow_the_backoff_schedule(
    client: Client,
    make_queue: Callable[..., Any],
    http_task: Callable[..., Any],
    receiver: Receiver,
    admin: Admin,
) -> None:
    # min 0.2 s doubling twice (0.2, 0.4, 0.8), then +0.8 s steps, capped at 1.0 s.
    queue = make_queue(min_backoff=0.2, max_backoff=1.0, max_doublings=2, max_attempts=6)
    expected = [0.2, 0.4, 0.8, 1.0, 1.0]
    path = receiver.new_path(*[500] * 6)
    task = client.create_task(parent=queue.name, task=http_task(path))
    hits = receiver.wait_hits(path, 6, timeout=15)
    gaps = [b.mono - a.mono for a, b in itertools.pairwise(hits)]
    for gap, want in zip(gaps, expected, strict=True):
        assert want * 0.9 <= gap <= want + 0.75, (gaps, expected)
    history = admin.wait_outcome(task.name, "dropped")
    attempts = history["attempts"]
    # Each retry's schedule_time is the failure time plus exactly the scheduled backoff.
    delays = [
        _at(b["schedule_time"]) - _at(a["response_time"]) for a, b in itertools.pairwise(attempts)
    ]
    assert delays == pytest.approx(expected, abs=0.002)


def test_max_attempts_then_the_task_is_dropped(
    client: Client,
    make_queue: Callable[..., Any],
    http_task: Callable[..., Any],
    receiver: Receiver,
    admin: Admin,
) -> None:
    queue = make_queue(max_attempts=3)
    path = receiver.new_path(500, 500, 500, 500)
    task = client.create_task(parent=queue.name, task=http_task(path))
    history = admin.wait_outcome(task.name, "dropped")
    assert [a["status"] for a in history["attempts"]] == [500, 500, 500]
    assert len(receiver.hits(path)) == 3
    with pytest.raises(exceptions.NotFound):
        client.get_task(name=task.name)
    status, dropped = admin.call("GET", f"/emulator/v1/dropped?queue={queue.name}")
    assert status == 200 and [t["task"] for t in dropped["tasks"]] == [task.name]


def test_task_retry_config_overrides_the_queue(
    client: Client,
    make_queue: Callable[..., Any],
    http_task: Callable[..., Any],
    receiver: Receiver,
    admin: Admin,
) -> None:
    queue = make_queue(max_attempts=5)
    path = receiver.new_path(500, 500, 500)
    task = client.create_task(
        parent=queue.name, task=http_task(path, retry_config={"max_attempts": 2})
    )
    assert len(admin.wait_outcome(task.name, "dropped")["attempts"]) == 2


def test_slow_worker_past_the_dispatch_deadline_is_retried_while_still_running(
    client: Client,
    make_queue: Callable[..., Any],
    http_task: Callable[..., Any],
    receiver: Receiver,
    admin: Admin,
) -> None:
    queue = make_queue(min_backoff=0.1)
    path = receiver.new_path(Reply(200, delay=2.5))
    deadline = {"dispatch_deadline": timedelta(seconds=1)}
    task = client.create_task(parent=queue.name, task=http_task(path, **deadline))
    first, second = receiver.wait_hits(path, 2, timeout=10)
    assert second.others_running == 1  # the first call was still being handled
    assert second.mono - first.mono >= (1.0 + 0.1) * 0.9
    assert second.header("X-CloudTasks-TaskRetryCount") == "1"
    assert second.header("X-CloudTasks-TaskPreviousResponse") is None  # no response came
    history = admin.wait_outcome(task.name, "succeeded")
    assert history["attempts"][0]["status"] is None
    assert history["attempts"][0]["error"].startswith("DEADLINE_EXCEEDED")
    assert history["attempts"][1]["status"] == 200
    assert not first.done.is_set()  # the emulator stopped listening; the worker did not stop


def test_task_fields_track_attempts(
    client: Client,
    make_queue: Callable[..., Any],
    http_task: Callable[..., Any],
    receiver: Receiver,
) -> None:
    queue = make_queue(min_backoff=30.0, max_backoff=30.0)
    path = receiver.new_path(500)
    created = client.create_task(parent=queue.name, task=http_task(path))
    receiver.wait_hits(path, 1)
    task = wait_until(lambda: (t := client.get_task(name=created.name)).response_count and t)
    assert (task.dispatch_count, task.response_count) == (1, 1)
    first_dispatch = task.first_attempt.dispatch_time.timestamp()
    assert task.last_attempt.dispatch_time.timestamp() == first_dispatch
    assert task.last_attempt.response_status.code == 13  # google.rpc.Code.INTERNAL for 500
    assert task.last_attempt.response_time.timestamp() >= first_dispatch
    assert task.schedule_time.timestamp() == pytest.approx(first_dispatch + 30.0, abs=1.0)
    client.run_task(name=created.name)  # answered 200: the task is done and gone
    wait_until(lambda: _gone(client, created.name))


def _gone(client: Client, name: str) -> bool:
    try:
        client.get_task(name=name)
    except exceptions.NotFound:
        return True
    return False


def test_connection_refused_is_a_failed_attempt(
    client: Client, make_queue: Callable[..., Any], admin: Admin
) -> None:
    queue = make_queue(max_attempts=2)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/nobody-listens"
    task = client.create_task(parent=queue.name, task={"http_request": {"url": url}})
    history = admin.wait_outcome(task.name, "dropped")
    assert [a["status"] for a in history["attempts"]] == [None, None]
    assert history["attempts"][0]["error"].startswith("UNAVAILABLE")


def test_max_concurrent_dispatches_bounds_parallel_requests(
    client: Client,
    make_queue: Callable[..., Any],
    http_task: Callable[..., Any],
    receiver: Receiver,
) -> None:
    queue = make_queue(rate_limits={"max_concurrent_dispatches": 2})
    path = receiver.new_path(*[Reply(200, delay=0.3)] * 6)
    for _ in range(6):
        client.create_task(parent=queue.name, task=http_task(path))
    receiver.wait_hits(path, 6)
    assert receiver.max_running[path] == 2


def test_max_dispatches_per_second_bounds_the_rate(
    client: Client,
    make_queue: Callable[..., Any],
    http_task: Callable[..., Any],
    receiver: Receiver,
) -> None:
    queue = make_queue(rate_limits={"max_dispatches_per_second": 5})
    assert queue.rate_limits.max_burst_size == 5
    client.pause_queue(name=queue.name)
    path = receiver.new_path()
    for _ in range(10):
        client.create_task(parent=queue.name, task=http_task(path))
    client.resume_queue(name=queue.name)
    hits = receiver.wait_hits(path, 10)
    # A burst of 5, then 5 more at 5/s: at least a second from the first to the last.
    assert hits[-1].mono - hits[0].mono >= (10 - 5) / 5 * 0.9
