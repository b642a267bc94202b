"""Task RPCs: create (names, defaults, validation, de-duplication), get/list (views, paging),
delete, RunTask, and schedule_time."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import tasks_v2

from tests.emulators.tasks.helpers import Admin, Receiver, from_now, wait_until

Client = tasks_v2.CloudTasksClient
FULL = tasks_v2.Task.View.FULL


def test_generated_names_and_defaults(
    client: Client,
    make_queue: Callable[..., Any],
    http_task: Callable[..., Any],
    receiver: Receiver,
) -> None:
    queue = make_queue()
    client.pause_queue(name=queue.name)
    path = receiver.new_path()
    first = client.create_task(parent=queue.name, task=http_task(path))
    second = client.create_task(parent=queue.name, task=http_task(path))
    assert first.name != second.name
    assert re.fullmatch(re.escape(queue.name) + r"/tasks/[0-9]+", first.name)
    assert first.http_request.http_method == tasks_v2.HttpMethod.POST
    assert first.dispatch_deadline == timedelta(minutes=10)
    assert first.dispatch_count == 0 and first.response_count == 0
    assert abs(first.schedule_time.timestamp() - from_now(0).timestamp()) < 5
    assert first.create_time.timestamp() == int(first.create_time.timestamp())  # whole seconds


def test_basic_view_omits_the_body_and_full_view_has_it(
    client: Client,
    make_queue: Callable[..., Any],
    http_task: Callable[..., Any],
    receiver: Receiver,
) -> None:
    queue = make_queue()
    client.pause_queue(name=queue.name)
    task = http_task(receiver.new_path(), http={"body": b"payload", "headers": {"X-A": "1"}})
    created = client.create_task(parent=queue.name, task=task)
    assert created.view == tasks_v2.Task.View.BASIC and created.http_request.body == b""
    assert created.http_request.headers["X-A"] == "1"
    full = client.get_task(request={"name": created.name, "response_view": FULL})
    assert full.view == FULL and full.http_request.body == b"payload"
    listed = client.list_tasks(request={"parent": queue.name, "response_view": FULL})
    assert [t.http_request.body for t in listed] == [b"payload"]


def test_list_tasks_pages_through_every_task(
    client: Client,
    make_queue: Callable[..., Any],
    http_task: Callable[..., Any],
    receiver: Receiver,
) -> None:
    queue = make_queue()
    client.pause_queue(name=queue.name)
    path = receiver.new_path()
    made = {client.create_task(parent=queue.name, task=http_task(path)).name for _ in range(7)}
    pager = client.list_tasks(request={"parent": queue.name, "page_size": 3})
    pages = [[t.name for t in page.tasks] for page in pager.pages]
    assert [len(p) for p in pages] == [3, 3, 1]
    assert {name for page in pages for name in page} == made


def test_invalid_tasks_are_rejected(
    client: Client, make_queue: Callable[..., Any], http_task: Callable[..., Any], location: str
) -> None:
    queue = make_queue()
    path = "/never-called"
    bad: list[tuple[type[Exception], dict[str, Any]]] = [
        (exceptions.InvalidArgument, {"http_request": {"url": "ftp://127.0.0.1/x"}}),
        (exceptions.InvalidArgument, {}),  # no target at all
        (
            exceptions.InvalidArgument,
            http_task(path, http={"http_method": tasks_v2.HttpMethod.GET, "body": b"x"}),
        ),
        (exceptions.InvalidArgument, http_task(path, dispatch_deadline=timedelta(seconds=0.1))),
        (exceptions.InvalidArgument, http_task(path, dispatch_deadline=timedelta(minutes=31))),
        (exceptions.InvalidArgument, http_task(path, schedule_time=from_now(31 * 24 * 3600))),
        (exceptions.InvalidArgument, http_task(path, name=f"{location}/queues/other/tasks/t")),
        (
            exceptions.InvalidArgument,
            http_task(path, http={"oauth_token": {"service_account_email": "a@b.c"}}),
        ),
        (
            exceptions.MethodNotImplemented,
            {"app_engine_http_request": {"relative_uri": "/x"}},
        ),
    ]
    for error, task in bad:
        with pytest.raises(error):
            client.create_task(parent=queue.name, task=task)
    with pytest.raises(exceptions.NotFound):
        client.create_task(parent=f"{location}/queues/missing", task=http_task(path))
    assert list(client.list_tasks(parent=queue.name)) == []


def test_existing_name_is_already_exists(
    client: Client,
    make_queue: Callable[..., Any],
    http_task: Callable[..., Any],
    receiver: Receiver,
) -> None:
    queue = make_queue()
    name = f"{queue.name}/tasks/dedup-pending"
    later = {"schedule_time": from_now(60)}
    client.create_task(parent=queue.name, task=http_task(receiver.new_path(), name, **later))
    with pytest.raises(exceptions.AlreadyExists):
        client.create_task(parent=queue.name, task=http_task(receiver.new_path(), name))


@pytest.mark.parametrize("ending", ["completed", "deleted", "dropped"])
def test_finished_name_stays_taken_in_the_tombstone_window(
    client: Client,
    make_queue: Callable[..., Any],
    http_task: Callable[..., Any],
    receiver: Receiver,
    admin: Admin,
    ending: str,
) -> None:
    queue = make_queue(max_attempts=1)
    name = f"{queue.name}/tasks/dedup-{ending}"
    path = receiver.new_path(500 if ending == "dropped" else 200)
    later = {"schedule_time": from_now(60)} if ending == "deleted" else {}
    client.create_task(parent=queue.name, task=http_task(path, name, **later))
    if ending == "deleted":
        client.delete_task(name=name)
    else:
        admin.wait_outcome(name, "succeeded" if ending == "completed" else "dropped")
    with pytest.raises(exceptions.NotFound):
        client.get_task(name=name)
    with pytest.raises(exceptions.AlreadyExists, match="too recently"):
        client.create_task(parent=queue.name, task=http_task(path, name))


def test_schedule_time_is_honoured(
    client: Client,
    make_queue: Callable[..., Any],
    http_task: Callable[..., Any],
    receiver: Receiver,
) -> None:
    queue = make_queue()
    path = receiver.new_path()
    task = client.create_task(parent=queue.name, task=http_task(path, schedule_time=from_now(1.0)))
    eta = task.schedule_time.timestamp()
    hit = receiver.wait_hits(path, 1, timeout=10)[0]
    assert hit.wall >= eta - 0.05
    assert float(hit.header("X-CloudTasks-TaskETA") or 0) == pytest.approx(eta, abs=1e-6)
    past = client.create_task(parent=queue.name, task=http_task(path, schedule_time=from_now(-600)))
    assert past.schedule_time.timestamp() >= from_now(-5).timestamp()  # moved up to "now"


def test_delete_task_stops_its_dispatch(
    client: Client,
    make_queue: Callable[..., Any],
    http_task: Callable[..., Any],
    receiver: Receiver,
) -> None:
    queue = make_queue()
    path = receiver.new_path()
    task = client.create_task(parent=queue.name, task=http_task(path, schedule_time=from_now(0.5)))
    client.delete_task(name=task.name)
    with pytest.raises(exceptions.NotFound):
        client.get_task(name=task.name)
    with pytest.raises(exceptions.NotFound):
        client.delete_task(name=task.name)
    with pytest.raises(AssertionError):
        receiver.wait_hits(path, 1, timeout=1.0)


def test_run_task_dispatches_now_even_when_paused(
    client: Client,
    make_queue: Callable[..., Any],
    http_task: Callable[..., Any],
    receiver: Receiver,
    admin: Admin,
) -> None:
    queue = make_queue(min_backoff=5.0, max_backoff=5.0)
    client.pause_queue(name=queue.name)
    path = receiver.new_path(500)
    task = client.create_task(parent=queue.name, task=http_task(path, schedule_time=from_now(600)))
    ran = client.run_task(name=task.name)
    assert ran.dispatch_count == 1
    assert ran.last_attempt.dispatch_time.timestamp() > 0
    receiver.wait_hits(path, 1)
    after = wait_until(lambda: (t := client.get_task(name=task.name)).response_count == 1 and t)
    # A failed RunTask reschedules at the call time plus the retry delay.
    run_at = ran.last_attempt.dispatch_time.timestamp()
    assert after.schedule_time.timestamp() == pytest.approx(run_at + 5.0, abs=1.0)
    assert admin.history(task.name)["attempts"][0]["kind"] == "run"
    client.run_task(name=task.name)  # this time the worker answers 200
    admin.wait_outcome(task.name, "succeeded")
    with pytest.raises(exceptions.NotFound):
        client.run_task(name=task.name)
