"""Local stand-in for Cloud Scheduler.

Where the stack runs Google's Pub/Sub emulator, each schedule's payload is published to its
topic, as Cloud Scheduler's pubsub_target does, and the emulator's push subscription delivers
it. Elsewhere the event is posted directly the way it arrives in production: an HTTP POST of a
binary-mode CloudEvent (`google.cloud.pubsub.topic.v1.messagePublished`) to the function.
Jobs run every ``interval`` seconds, not on their cron: a developer wants them now.
"""

from __future__ import annotations

import base64
import json
import threading
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from infra.local.events import publish

EVENT_TYPE = "google.cloud.pubsub.topic.v1.messagePublished"
DEFAULT_PAYLOAD: dict[str, object] = {"trigger": "local-scheduler"}


@dataclass(frozen=True)
class Job:
    topic: str
    payload: dict[str, object] = field(default_factory=lambda: dict(DEFAULT_PAYLOAD))
    url: str | None = None  # the function, for direct delivery; unused when publishing


def pubsub_event(
    project_id: str, topic: str, data: dict[str, object]
) -> tuple[dict[str, str], bytes]:
    """Headers and body of the CloudEvent Eventarc would POST for one Pub/Sub message."""
    event_id = uuid.uuid4().hex
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    body = {
        "message": {
            "data": base64.b64encode(json.dumps(data).encode()).decode(),
            "messageId": event_id,
            "publishTime": now,
        },
        "subscription": f"projects/{project_id}/subscriptions/eventarc-{topic}",
    }
    headers = {
        "Content-Type": "application/json",
        "ce-id": event_id,
        "ce-specversion": "1.0",
        "ce-type": EVENT_TYPE,
        "ce-source": f"//pubsub.googleapis.com/projects/{project_id}/topics/{topic}",
        "ce-time": now,
    }
    return headers, json.dumps(body).encode()


def post_event(url: str, project_id: str, topic: str, data: dict[str, object]) -> int:
    headers, body = pubsub_event(project_id, topic, data)
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(req, timeout=600) as resp:
        return int(resp.status)


class Scheduler:
    """Delivers each job every ``interval`` seconds until stopped: published to Pub/Sub when
    ``pubsub_host`` is given, otherwise posted to the job's function. A (url, topic) pair is a
    direct job with the default payload."""

    def __init__(
        self,
        project_id: str,
        jobs: Sequence[Job | tuple[str, str]],
        interval: float,
        pubsub_host: str | None = None,
    ) -> None:
        self.project_id, self.interval, self.pubsub_host = project_id, interval, pubsub_host
        self.jobs = [j if isinstance(j, Job) else Job(topic=j[1], url=j[0]) for j in jobs]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)

    def start(self) -> None:
        if self.jobs:
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for job in self.jobs:
                try:
                    print(f"[scheduler] {job.topic} -> {self.deliver(job)}", flush=True)
                except OSError as exc:  # the next tick tries again, as Cloud Scheduler would
                    print(f"[scheduler] {job.topic} failed: {exc}", flush=True)

    def deliver(self, job: Job) -> str:
        """Deliver one job now; the message id (published) or the HTTP status (direct)."""
        if self.pubsub_host:
            return "message " + publish(self.pubsub_host, self.project_id, job.topic, job.payload)
        if job.url is None:
            raise ValueError(f"direct job for {job.topic} has no function URL")
        return str(post_event(job.url, self.project_id, job.topic, job.payload))

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
