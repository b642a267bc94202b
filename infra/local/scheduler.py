"""Local stand-in for Cloud Scheduler -> Pub/Sub -> Eventarc.

Pub/Sub has no installable emulator here, so scheduled background jobs are delivered the way
Eventarc delivers them in production: an HTTP POST of a binary-mode CloudEvent
(`google.cloud.pubsub.topic.v1.messagePublished`) to the event function.
"""

from __future__ import annotations

import base64
import json
import threading
import urllib.request
import uuid
from datetime import UTC, datetime

EVENT_TYPE = "google.cloud.pubsub.topic.v1.messagePublished"


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
    """Posts each scheduled function's event every ``interval`` seconds until stopped."""

    def __init__(self, project_id: str, jobs: list[tuple[str, str]], interval: float) -> None:
        self.project_id, self.jobs, self.interval = project_id, jobs, interval  # (url, topic) pairs
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)

    def start(self) -> None:
        if self.jobs:
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for url, topic in self.jobs:
                try:
                    status = post_event(url, self.project_id, topic, {"trigger": "local-scheduler"})
                    print(f"[scheduler] {topic} -> {status}", flush=True)
                except OSError as exc:
                    print(f"[scheduler] {topic} failed: {exc}", flush=True)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
