"""Webhooks end to end: registration through the gateway, a job's terminal event delivered by
Cloud Tasks to deliver_webhook and on to a receiver on 127.0.0.1, signed as Standard Webhooks
define (checked by the reference implementation), retried on 500, stopped by 410, and refused
when the name has come to resolve inside.

Host names resolve through a file (GENMEDIA_TEST_RESOLVER_FILE, test-only), so no packet ever
leaves loopback.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from standardwebhooks.webhooks import Webhook

from infra.local.queues import tasks_client
from infra.local.stack import Stack
from tests.support.harness import Gateway, User, functions_with_env

HOST = "hooks.example"


class Receiver:
    def __init__(self) -> None:
        self.statuses: list[int] = []  # answered in turn; the last one repeats
        self.hits: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.hits.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.statuses[min(len(receiver.hits), len(receiver.statuses)) - 1]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://{HOST}:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, count: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.hits) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(self.hits) >= count, self.hits


@pytest.fixture
def resolver_file(controllable_stack: Stack, tmp_path: Path) -> Iterator[Path]:
    table = tmp_path / "hosts.json"
    table.write_text(json.dumps({HOST: ["127.0.0.1"]}))
    env = {"GENMEDIA_TEST_RESOLVER_FILE": str(table)}
    with functions_with_env(controllable_stack, env, "webhooks", "deliver_webhook"):
        yield table


@pytest.fixture
def fast_retries(controllable_stack: Stack) -> Iterator[None]:
    """The webhook queue's backoff shortened for these tests, restored after."""
    info = controllable_stack.info()
    client = tasks_client(str(info["tasks_emulator"]))
    name = f"projects/{info['project_id']}/locations/us-central1/queues/webhook-deliveries"
    queue = client.get_queue(name=name)
    saved = type(queue).to_dict(queue)["retry_config"]
    queue.retry_config.min_backoff = {"seconds": 0, "nanos": 200_000_000}
    queue.retry_config.max_backoff = {"seconds": 1}
    client.update_queue(queue=queue)
    try:
        yield
    finally:
        restored = client.get_queue(name=name)
        restored.retry_config = saved
        client.update_queue(queue=restored)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def register(gateway: Gateway, user: User, url: str, events: list[str]) -> requests.Response:
    return gateway.post("/v1/webhooks", user=user, json={"url": url, "events": events})


def finished_job(gateway: Gateway, user: User) -> dict[str, Any]:
    job = gateway.post("/v1/videos:generate", user=user, json={"prompt": "a wave"}).json()["job"]
    cancelled: dict[str, Any] = gateway.post(f"/v1/jobs/{job['id']}:cancel", user=user).json()
    return cancelled


@pytest.mark.usefixtures("resolver_file", "fast_retries")
def test_a_job_event_is_delivered_signed_and_retried_until_accepted(
    controllable_stack: Stack, make_user: Callable[..., User], receiver: Receiver
) -> None:
    gateway = Gateway(str(controllable_stack.info()["gateway"]))
    user = make_user()
    created = register(gateway, user, receiver.url, ["job.cancelled"])
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    assert "secret" not in gateway.get("/v1/webhooks", user=user).json()["webhooks"][0]
    receiver.statuses = [500, 200]
    job = finished_job(gateway, user)
    receiver.wait(2)
    (first, body1), (second, body2) = receiver.hits[:2]
    assert first["webhook-id"] == second["webhook-id"] == f"msg_{job['id']}_cancelled"
    assert body1 == body2  # the same event on every attempt; only timestamp and signature change
    event = Webhook(secret).verify(body2, second)
    assert event["type"] == "job.cancelled" and event["data"]["id"] == job["id"]
    time.sleep(1.5)
    assert len(receiver.hits) == 2  # accepted: no more attempts
    [hook] = gateway.get("/v1/webhooks", user=user).json()["webhooks"]
    assert hook["last_attempt"]["status"] == 200


@pytest.mark.usefixtures("resolver_file", "fast_retries")
def test_a_410_stops_deliveries_and_disables_the_endpoint(
    controllable_stack: Stack, make_user: Callable[..., User], receiver: Receiver
) -> None:
    gateway = Gateway(str(controllable_stack.info()["gateway"]))
    user = make_user()
    register(gateway, user, receiver.url, ["job.cancelled"])
    receiver.statuses = [410]
    finished_job(gateway, user)
    receiver.wait(1)
    time.sleep(1.5)
    assert len(receiver.hits) == 1
    [hook] = gateway.get("/v1/webhooks", user=user).json()["webhooks"]
    assert hook["disabled"] is True and hook["last_attempt"]["status"] == 410


def test_registration_refuses_urls_that_resolve_inside(
    resolver_file: Path, controllable_stack: Stack, make_user: Callable[..., User]
) -> None:
    gateway = Gateway(str(controllable_stack.info()["gateway"]))
    user = make_user()
    resolver_file.write_text(json.dumps({HOST: ["169.254.169.254"]}))
    for url in (f"http://{HOST}/x", "https://10.0.0.1/x", "http://metadata.google.internal/x"):
        resp = register(gateway, user, url, ["job.failed"])
        assert resp.status_code == 422 and resp.json()["code"] == "WEBHOOK_URL_FORBIDDEN", url
    assert gateway.get("/v1/webhooks", user=user).json()["webhooks"] == []


@pytest.mark.usefixtures("fast_retries")
def test_a_name_that_now_resolves_inside_is_refused_at_delivery(
    resolver_file: Path, controllable_stack: Stack, make_user: Callable[..., User],
    receiver: Receiver,
) -> None:  # fmt: skip
    gateway = Gateway(str(controllable_stack.info()["gateway"]))
    user = make_user()
    assert register(gateway, user, receiver.url, ["job.cancelled"]).status_code == 201
    resolver_file.write_text(json.dumps({HOST: ["10.20.30.40"]}))  # rebinding after registration
    finished_job(gateway, user)
    deadline = time.monotonic() + 30
    hook: dict[str, Any] = {}
    while "last_attempt" not in hook and time.monotonic() < deadline:
        time.sleep(0.3)
        [hook] = gateway.get("/v1/webhooks", user=user).json()["webhooks"]
    assert hook["last_attempt"]["status"] is None and hook["last_attempt"]["error"]
    assert receiver.hits == []


def test_other_users_cannot_see_or_delete_an_endpoint(
    resolver_file: Path, controllable_stack: Stack, make_user: Callable[..., User],
    receiver: Receiver,
) -> None:  # fmt: skip
    gateway = Gateway(str(controllable_stack.info()["gateway"]))
    alice, bob = make_user(), make_user()
    hook_id = register(gateway, alice, receiver.url, ["job.failed"]).json()["id"]
    assert gateway.get("/v1/webhooks", user=bob).json()["webhooks"] == []
    for method, path in [("DELETE", f"/v1/webhooks/{hook_id}"),
                         ("POST", f"/v1/webhooks/{hook_id}:rotateSecret")]:  # fmt: skip
        assert gateway.call(method, path, user=bob).status_code == 404
    assert gateway.call("DELETE", f"/v1/webhooks/{hook_id}", user=alice).status_code == 204
    assert gateway.get("/v1/webhooks", user=alice).json()["webhooks"] == []
