"""The Cloud Tasks queues of functions/queues.json, created in the local stack's emulator with
the official client (Terraform creates the same ones in production from the same file)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from google.cloud import tasks_v2

QUEUES_JSON = Path(__file__).resolve().parents[2] / "functions" / "queues.json"
LOCATION = "us-central1"  # config.py's GENMEDIA_TASKS_LOCATION default


def load_queues(path: Path = QUEUES_JSON) -> dict[str, dict[str, Any]]:
    queues: dict[str, dict[str, Any]] = json.loads(path.read_text())["queues"]
    return queues


def duration(text: str) -> timedelta:
    """A protobuf Duration string as Terraform takes it ("10s", "0.5s")."""
    if not text.endswith("s"):
        raise ValueError(f"not a Duration string: {text!r}")
    return timedelta(seconds=float(text[:-1]))


def queue_message(project_id: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    retry = dict(spec.get("retry_config", {}))
    for field in ("min_backoff", "max_backoff", "max_retry_duration"):
        if field in retry:
            retry[field] = duration(retry[field])
    return {
        "name": f"projects/{project_id}/locations/{LOCATION}/queues/{name}",
        "rate_limits": spec.get("rate_limits", {}),
        "retry_config": retry,
    }


def tasks_client(tasks_host: str) -> tasks_v2.CloudTasksClient:
    """The official client on an insecure channel to the emulator at ``tasks_host``."""
    import grpc
    from google.cloud import tasks_v2
    from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

    channel = grpc.insecure_channel(tasks_host)
    return tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=channel))


def create_queues(tasks_host: str, project_id: str) -> list[str]:
    """Create (or bring up to date) every declared queue; their full names."""
    from google.api_core import exceptions
    from google.cloud import tasks_v2

    client = tasks_client(tasks_host)
    parent = f"projects/{project_id}/locations/{LOCATION}"
    names = []
    try:
        for name, spec in load_queues().items():
            queue = tasks_v2.Queue(queue_message(project_id, name, spec))
            try:
                client.create_queue(parent=parent, queue=queue)
            except exceptions.AlreadyExists:
                client.update_queue(queue=queue)
            names.append(queue.name)
    finally:
        client.transport.close()  # type: ignore[no-untyped-call]
    return names
