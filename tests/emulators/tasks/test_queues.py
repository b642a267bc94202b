"""Queue RPCs: create/get/list (paging, filter)/update (field mask)/delete/pause/resume/purge."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import tasks_v2
from google.protobuf import field_mask_pb2

from tests.emulators.tasks.helpers import Receiver, from_now

Client = tasks_v2.CloudTasksClient


def test_created_queue_has_production_defaults(
    client: Client, location: str, unique: Callable[[str], str]
) -> None:
    name = f"{location}/queues/{unique('defaults')}"
    created = client.create_queue(parent=location, queue={"name": name})
    assert created.state == tasks_v2.Queue.State.RUNNING
    assert created.rate_limits.max_dispatches_per_second == 500
    assert created.rate_limits.max_concurrent_dispatches == 1000
    assert created.rate_limits.max_burst_size == 100
    retry = created.retry_config
    assert retry.max_attempts == 100
    assert retry.min_backoff == timedelta(milliseconds=100)
    assert retry.max_backoff == timedelta(seconds=3600)
    assert retry.max_doublings == 16
    assert client.get_queue(name=name) == created


def test_create_existing_queue_is_already_exists(make_queue: Callable[..., Any]) -> None:
    queue = make_queue()
    with pytest.raises(exceptions.AlreadyExists):
        make_queue(at=queue.name.split("/queues/")[0], name=queue.name)


def test_invalid_queue_names_and_settings_are_rejected(client: Client, location: str) -> None:
    with pytest.raises(exceptions.InvalidArgument):
        client.create_queue(parent=location, queue={"name": f"{location}/queues/bad_name!"})
    with pytest.raises(exceptions.InvalidArgument):
        client.create_queue(parent=location, queue={"name": "projects/p/locations/l/queues/x"})
    too_fast = {
        "name": f"{location}/queues/too-fast",
        "rate_limits": {"max_dispatches_per_second": 501},
    }
    with pytest.raises(exceptions.InvalidArgument):
        client.create_queue(parent=location, queue=too_fast)
    backwards = {
        "name": f"{location}/queues/backwards",
        "retry_config": {"min_backoff": timedelta(seconds=9), "max_backoff": timedelta(seconds=1)},
    }
    with pytest.raises(exceptions.InvalidArgument):
        client.create_queue(parent=location, queue=backwards)
    with pytest.raises(exceptions.NotFound):
        client.get_queue(name=f"{location}/queues/never-created")


def test_list_queues_pages_and_filters(
    client: Client, make_queue: Callable[..., Any], unique: Callable[[str], str]
) -> None:
    location = f"projects/{unique('paging')}/locations/europe-west1"
    made = sorted(make_queue(at=location).name for _ in range(5))
    pager = client.list_queues(request={"parent": location, "page_size": 2})
    pages = [[q.name for q in page.queues] for page in pager.pages]
    assert [len(p) for p in pages] == [2, 2, 1]
    assert sorted(name for page in pages for name in page) == made
    client.pause_queue(name=made[1])
    paused = client.list_queues(request={"parent": location, "filter": "state: PAUSED"})
    assert [q.name for q in paused] == [made[1]]


def test_update_queue_with_mask_changes_only_masked_fields(
    client: Client, make_queue: Callable[..., Any]
) -> None:
    queue = make_queue(min_backoff=0.2, max_attempts=7)
    patch = {"name": queue.name, "rate_limits": {"max_dispatches_per_second": 3}}
    patch["retry_config"] = {"max_attempts": 2}  # not in the mask: must be ignored
    mask = field_mask_pb2.FieldMask(paths=["rate_limits.max_dispatches_per_second"])
    updated = client.update_queue(queue=patch, update_mask=mask)
    assert updated.rate_limits.max_dispatches_per_second == 3
    assert updated.rate_limits.max_burst_size == 3
    assert updated.retry_config.max_attempts == 7
    assert updated.retry_config.min_backoff == timedelta(milliseconds=200)
    assert client.get_queue(name=queue.name) == updated


def test_update_queue_without_mask_replaces_and_creates(
    client: Client, make_queue: Callable[..., Any], location: str, unique: Callable[[str], str]
) -> None:
    queue = make_queue(max_attempts=7)
    client.pause_queue(name=queue.name)
    replaced = client.update_queue(queue={"name": queue.name, "retry_config": {"max_attempts": 3}})
    assert replaced.retry_config.max_attempts == 3
    assert replaced.retry_config.min_backoff == timedelta(milliseconds=100)  # default again
    assert replaced.state == tasks_v2.Queue.State.PAUSED  # output only: not changed by update
    fresh = f"{location}/queues/{unique('upserted')}"
    created = client.update_queue(queue={"name": fresh})
    assert created.state == tasks_v2.Queue.State.RUNNING
    assert client.get_queue(name=fresh).name == fresh


def test_pause_stops_dispatch_and_resume_restarts_it(
    client: Client,
    make_queue: Callable[..., Any],
    receiver: Receiver,
    http_task: Callable[..., Any],
) -> None:
    queue = make_queue()
    paused = client.pause_queue(name=queue.name)
    assert paused.state == tasks_v2.Queue.State.PAUSED
    path = receiver.new_path()
    task = client.create_task(parent=queue.name, task=http_task(path))
    with pytest.raises(AssertionError):
        receiver.wait_hits(path, 1, timeout=0.6)
    assert [t.name for t in client.list_tasks(parent=queue.name)] == [task.name]
    resumed = client.resume_queue(name=queue.name)
    assert resumed.state == tasks_v2.Queue.State.RUNNING
    receiver.wait_hits(path, 1)


def test_purge_removes_all_tasks_and_sets_purge_time(
    client: Client,
    make_queue: Callable[..., Any],
    http_task: Callable[..., Any],
    receiver: Receiver,
) -> None:
    queue = make_queue()
    client.pause_queue(name=queue.name)
    path = receiver.new_path()
    names = [client.create_task(parent=queue.name, task=http_task(path)).name for _ in range(3)]
    purged = client.purge_queue(name=queue.name)
    assert purged.purge_time is not None and purged.purge_time.timestamp() > 0
    assert list(client.list_tasks(parent=queue.name)) == []
    with pytest.raises(exceptions.NotFound):
        client.get_task(name=names[0])
    client.resume_queue(name=queue.name)
    with pytest.raises(AssertionError):
        receiver.wait_hits(path, 1, timeout=0.5)


def test_delete_queue_deletes_its_tasks(
    client: Client,
    make_queue: Callable[..., Any],
    http_task: Callable[..., Any],
    receiver: Receiver,
) -> None:
    queue = make_queue()
    path = receiver.new_path()
    client.create_task(parent=queue.name, task=http_task(path, schedule_time=from_now(0.5)))
    client.delete_queue(name=queue.name)
    with pytest.raises(exceptions.NotFound):
        client.get_queue(name=queue.name)
    with pytest.raises(exceptions.NotFound):
        client.list_tasks(parent=queue.name)
    with pytest.raises(AssertionError):
        receiver.wait_hits(path, 1, timeout=1.0)


def test_unsupported_methods_say_so(client: Client, location: str) -> None:
    with pytest.raises(exceptions.MethodNotImplemented, match="GetIamPolicy"):
        client.get_iam_policy(request={"resource": f"{location}/queues/any"})
