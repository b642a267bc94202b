"""Cloud Tasks as the services see it: enqueue one named HTTP task for a private worker.

Tasks are named (``<queue>/tasks/<task_id>``) so a retried enqueue is a no-op: Cloud Tasks
answers ALREADY_EXISTS for a name it has seen within about an hour, which ``enqueue`` reports
as False rather than an error. Every task carries an OIDC token for the tasks service account
with the worker's URL as audience, which is what the worker verifies (task_auth.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from genmedia.errors import Unavailable

if TYPE_CHECKING:
    from google.cloud import tasks_v2


VIDEO_TASK_PATH = "/tasks/video"  # the video worker's route
WEBHOOK_TASK_PATH = "/tasks/webhook"  # the webhook worker's route
EXPORT_TASK_PATH = "/tasks/export"  # the export worker's route
ERASURE_TASK_PATH = "/tasks/erasure"  # the erasure worker's route


@dataclass(frozen=True)
class TaskTarget:
    project_id: str
    location: str
    queue: str
    base_url: str  # the worker's URL: the OIDC audience Cloud Run and the worker check
    path: str
    service_account: str
    dispatch_deadline_s: float
    # application/cloudevents+json for an event function (a structured-mode CloudEvent).
    content_type: str = "application/json"


class TaskQueue(Protocol):
    def enqueue(self, task_id: str, payload: dict[str, Any], *, at: datetime | None = None) -> bool:
        """Create task ``task_id``; False when that name already exists (a retried enqueue)."""
        ...


class CloudTaskQueue:
    def __init__(
        self, client: Callable[[], tasks_v2.CloudTasksClient], target: TaskTarget | None
    ) -> None:
        self._client = client
        self._target = target
        self._queue_name = target.queue if target else "(unset)"

    def enqueue(self, task_id: str, payload: dict[str, Any], *, at: datetime | None = None) -> bool:
        from google.api_core import exceptions
        from google.cloud import tasks_v2

        if self._target is None:
            raise Unavailable(f"Queue {self._queue_name} is not configured here", retry_after=60)
        t = self._target
        parent = f"projects/{t.project_id}/locations/{t.location}/queues/{t.queue}"
        task: dict[str, Any] = {
            "name": f"{parent}/tasks/{task_id}",
            "http_request": {
                "url": t.base_url + t.path,
                "http_method": "POST",
                "headers": {"Content-Type": t.content_type},
                "body": json.dumps(payload, separators=(",", ":")).encode(),
                "oidc_token": {"service_account_email": t.service_account, "audience": t.base_url},
            },
            "dispatch_deadline": timedelta(seconds=t.dispatch_deadline_s),
        }
        if at is not None:
            task["schedule_time"] = at
        try:
            self._client().create_task(parent=parent, task=tasks_v2.Task(task), timeout=10.0)
        except exceptions.AlreadyExists:
            return False
        return True
