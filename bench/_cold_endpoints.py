"""Each function's main endpoint, as cold_start.py calls it on a freshly spawned process.

Public functions get an authenticated request of their own (a Firebase ID token of a user, or
of an admin for ``admin``; ``health`` has no authenticated route, so its ``/v1/readyz``, which
reads Firestore and probes the bucket and queue, stands in). Task workers get what Cloud Tasks
sends them: a POST with an OIDC token the stack's Tasks emulator minted for the worker's URL
(the audience the worker checks) and a task body naming a record that does not exist, which
the worker answers 200 "skipped" after reading Firestore. Event functions get a Pub/Sub push
CloudEvent (binary mode), and have no ``/healthz``.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests
from _common import GENERATE_PATH, BenchUser, gateway_url, new_user

from infra.local.queues import tasks_client
from infra.local.seed import invoker_service_account
from infra.local.stack import Stack

UNREACHABLE = "http://127.0.0.1:9"  # the discard port: the emulator's attempt fails at once
TOKEN_QUEUE = "webhook-deliveries"  # noqa: S105 (a queue name, not a secret)
MISSING_ID = "cold-start-missing"
PNG_PROMPT: dict[str, Any] = {"prompt": "cold start", "count": 1}


@dataclass(frozen=True)
class Endpoint:
    function: str
    method: str
    path: str
    auth: str  # who is calling, as the table shows it
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, object] | None = None
    status: int = 200
    has_healthz: bool = True
    fresh_key: bool = False  # a new Idempotency-Key per request (each one spends)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def request_headers(self) -> dict[str, str]:
        headers = dict(self.headers)
        if self.body is not None:
            headers.setdefault("Content-Type", "application/json")
        if self.fresh_key:
            headers["Idempotency-Key"] = uuid.uuid4().hex
        return headers

    def request_body(self) -> bytes:
        return b"" if self.body is None else json.dumps(self.body).encode()


@dataclass(frozen=True)
class Callers:
    user: BenchUser
    admin: BenchUser
    asset_id: str
    export_id: str
    task_tokens: dict[str, str]  # function -> "Bearer <OIDC token for its URL>"


def prepare(stack: Stack, functions: list[str]) -> Callers:
    """Users with generous quotas, one asset to sign and a task token per worker."""
    admin, user = new_user(stack, role="admin"), new_user(stack)
    quota = {"images_per_day": 100_000, "videos_per_month": 100_000}
    resp = requests.patch(
        f"{gateway_url(stack)}/v1/admin/users/{user.uid}",
        json={"quota": quota}, headers=admin.headers, timeout=60,
    )  # fmt: skip
    resp.raise_for_status()
    made = requests.post(
        gateway_url(stack) + GENERATE_PATH, json=PNG_PROMPT, headers=user.headers, timeout=120
    )
    made.raise_for_status()
    asset_id = str(made.json()["assets"][0]["id"])
    export = requests.post(gateway_url(stack) + "/v1/me:export", headers=user.headers, timeout=60)
    export.raise_for_status()
    tokens = {
        f: mint_task_token(stack, stack.function_url(f)) for f in functions if f in TASK_PATHS
    }
    return Callers(user, admin, asset_id, str(export.json()["export"]["id"]), tokens)


def mint_task_token(stack: Stack, audience: str) -> str:
    """The Authorization header the Tasks emulator sent with a task addressed to
    ``audience``, read from the task's first attempt (to the discard port, then deleted)."""
    project = stack.options.project_id
    parent = f"projects/{project}/locations/us-central1/queues/{TOKEN_QUEUE}"
    name = f"{parent}/tasks/cold-{uuid.uuid4().hex}"
    client = tasks_client(f"127.0.0.1:{stack.ports['tasks']}")
    try:
        task: dict[str, Any] = {
            "name": name,
            "http_request": {
                "url": UNREACHABLE + "/", "http_method": "POST", "body": b"{}",
                "oidc_token": {
                    "service_account_email": invoker_service_account(project),
                    "audience": audience,
                },
            },
        }  # fmt: skip
        client.create_task(request={"parent": parent, "task": task})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            history = requests.get(
                f"{stack.tasks_admin}/emulator/v1/attempts", params={"task": name}, timeout=5
            ).json()["attempts"]
            if history:
                return str(history[0]["headers"]["Authorization"])
            time.sleep(0.1)
        raise TimeoutError(f"the Tasks emulator never attempted {name}")
    finally:
        try:
            client.delete_task(name=name)
        finally:
            client.transport.close()  # type: ignore[no-untyped-call]


TASK_PATHS: dict[str, tuple[str, dict[str, object]]] = {
    "video_worker": ("/tasks/video", {"job_id": MISSING_ID, "step": 0}),
    "deliver_webhook": (
        "/tasks/webhook",
        {"webhook_id": MISSING_ID, "job_id": MISSING_ID, "event": "job.succeeded"},
    ),
    "export_worker": ("/tasks/export", {"export_id": MISSING_ID}),
    "erasure_worker": ("/tasks/erasure", {"erasure_id": "erased-" + "0" * 32, "step": 0}),
}


def cloud_event_headers(topic: str) -> dict[str, str]:
    return {
        "ce-id": uuid.uuid4().hex,
        "ce-specversion": "1.0",
        "ce-source": f"//pubsub.googleapis.com/projects/genmedia-local/topics/{topic}",
        "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
        "Content-Type": "application/json",
    }


def pubsub_body(payload: dict[str, object]) -> dict[str, object]:
    data = base64.b64encode(json.dumps(payload).encode()).decode()
    return {"message": {"data": data, "messageId": uuid.uuid4().hex}, "subscription": "cold"}


def endpoint(function: str, callers: Callers) -> Endpoint:
    user, admin = callers.user.headers, callers.admin.headers
    public = {
        "health": Endpoint(function, "GET", "/v1/readyz", "none (no authenticated route)"),
        "generate_image": Endpoint(
            function, "POST", GENERATE_PATH, "ID token", user, PNG_PROMPT, fresh_key=True
        ),
        "issue_signed_url": Endpoint(
            function, "POST", f"/v1/assets/{callers.asset_id}:signUrl", "ID token", user, {}
        ),
        "library": Endpoint(function, "GET", "/v1/assets?page_size=20", "ID token", user),
        "admin": Endpoint(
            function, "GET", f"/v1/admin/users/{callers.user.uid}", "admin ID token", admin
        ),
        "generate_video": Endpoint(
            function,
            "POST",
            "/v1/videos:generate",
            "ID token",
            user,
            {"prompt": "cold start"},
            status=202,
            fresh_key=True,
        ),
        "jobs": Endpoint(function, "GET", "/v1/jobs", "ID token", user),
        "webhooks": Endpoint(function, "GET", "/v1/webhooks", "ID token", user),
        "account": Endpoint(
            function, "GET", f"/v1/me/exports/{callers.export_id}", "ID token", user
        ),
    }
    if function in public:
        return public[function]
    if function in TASK_PATHS:
        path, body = TASK_PATHS[function]
        headers = {"Authorization": callers.task_tokens[function]}
        return Endpoint(function, "POST", path, "Cloud Tasks OIDC", headers, body)
    if function in ("sweeper", "purge"):
        topic = "sweep" if function == "sweeper" else "purge"
        return Endpoint(
            function, "POST", "/", "CloudEvent (Pub/Sub push)",
            cloud_event_headers(topic), pubsub_body({"job": topic}), has_healthz=False,
        )  # fmt: skip
    raise ValueError(f"no main endpoint known for function {function!r}")
