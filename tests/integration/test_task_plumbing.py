"""The Cloud Tasks adapter and the workers' token check, in this process, against the stack's
Cloud Tasks emulator with the official client: named tasks dedupe, carry an OIDC token for
the worker's URL, and only a token the queue signed for that URL and account passes."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from genmedia.errors import PermissionDenied, Unauthenticated, Unavailable
from genmedia.task_auth import TaskTokenVerifier
from genmedia.task_queue import CloudTaskQueue, TaskTarget
from infra.local.queues import tasks_client
from infra.local.seed import invoker_service_account

UNREACHABLE = "http://127.0.0.1:9"  # the discard port refuses: every attempt fails, is recorded


@pytest.fixture
def client(stack_info: dict[str, Any]) -> Iterator[Any]:
    c = tasks_client(stack_info["tasks_emulator"])
    yield c
    c.transport.close()


def target(stack_info: dict[str, Any], account: str | None = None) -> TaskTarget:
    project = stack_info["project_id"]
    account = account or invoker_service_account(project)
    return TaskTarget(project, "us-central1", "webhook-deliveries", UNREACHABLE, "/tasks/x",
                      account, dispatch_deadline_s=30.0)  # fmt: skip


def task_name(stack_info: dict[str, Any], task_id: str) -> str:
    project = stack_info["project_id"]
    return f"projects/{project}/locations/us-central1/queues/webhook-deliveries/tasks/{task_id}"


def first_attempt(stack_info: dict[str, Any], name: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        history = requests.get(
            f"{stack_info['tasks_admin']}/emulator/v1/attempts", params={"task": name}, timeout=5
        )
        if history.ok and history.json()["attempts"]:
            attempt: dict[str, Any] = history.json()["attempts"][0]
            return attempt
        time.sleep(0.2)
    raise AssertionError(f"{name} was never attempted")


def test_a_named_task_is_created_once_with_its_token_deadline_and_schedule(
    stack_info: dict[str, Any], client: Any
) -> None:
    queue = CloudTaskQueue(lambda: client, target(stack_info))
    task_id, at = f"t-{uuid.uuid4().hex}", datetime.now(UTC) + timedelta(hours=1)
    assert queue.enqueue(task_id, {"job_id": "j", "step": 1}, at=at) is True
    assert queue.enqueue(task_id, {"job_id": "j", "step": 1}, at=at) is False  # a retried enqueue
    stored = client.get_task(
        request={"name": task_name(stack_info, task_id), "response_view": "FULL"}
    )
    request = stored.http_request
    assert request.url == f"{UNREACHABLE}/tasks/x" and request.body == b'{"job_id":"j","step":1}'
    assert request.oidc_token.audience == UNREACHABLE
    assert request.oidc_token.service_account_email == invoker_service_account(
        stack_info["project_id"]
    )
    assert stored.dispatch_deadline.total_seconds() == 30
    assert abs((stored.schedule_time - at).total_seconds()) < 1


def test_a_deployment_without_a_worker_refuses_to_enqueue(client: Any) -> None:
    with pytest.raises(Unavailable):
        CloudTaskQueue(lambda: client, None).enqueue("t", {})


@pytest.fixture
def token(stack_info: dict[str, Any], client: Any) -> str:
    """A real token: the one the emulator sent with a task's first attempt."""
    task_id = f"t-{uuid.uuid4().hex}"
    CloudTaskQueue(lambda: client, target(stack_info)).enqueue(task_id, {})
    attempt = first_attempt(stack_info, task_name(stack_info, task_id))
    client.delete_task(name=task_name(stack_info, task_id))
    return str(attempt["headers"]["Authorization"])


def verifier(stack_info: dict[str, Any], audience: str = UNREACHABLE, account: str = "") -> Any:
    certs = f"{stack_info['tasks_admin']}/oauth2/v1/certs"
    email = account or invoker_service_account(stack_info["project_id"])
    return TaskTokenVerifier(audience, email, certs)


def test_the_queues_token_for_this_worker_passes(stack_info: dict[str, Any], token: str) -> None:
    claims = verifier(stack_info).verify(token)
    assert claims["email"] == invoker_service_account(stack_info["project_id"])


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"audience": "http://127.0.0.1:9/other"}, Unauthenticated),  # another worker's token
        ({"account": "someone@example.iam.gserviceaccount.com"}, PermissionDenied),
    ],
)
def test_a_token_for_another_audience_or_account_is_refused(
    stack_info: dict[str, Any], token: str, change: dict[str, str], error: type[Exception]
) -> None:
    with pytest.raises(error):
        verifier(stack_info, **change).verify(token)


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer ", "Bearer not.a.jwt"])
def test_missing_or_malformed_tokens_are_unauthenticated(
    stack_info: dict[str, Any], header: str | None
) -> None:
    with pytest.raises(Unauthenticated):
        verifier(stack_info).verify(header)


def test_a_tampered_token_is_unauthenticated(stack_info: dict[str, Any], token: str) -> None:
    head, payload, signature = token.removeprefix("Bearer ").split(".")
    forged = f"Bearer {head}.{payload}.{signature[:-4]}AAAA"
    with pytest.raises(Unauthenticated):
        verifier(stack_info).verify(forged)


def test_a_worker_without_an_audience_accepts_nothing(
    stack_info: dict[str, Any], token: str
) -> None:
    with pytest.raises(PermissionDenied):
        TaskTokenVerifier(None, "a@b", None).verify(token)


def test_unreachable_certificates_are_a_retryable_503(token: str) -> None:
    with pytest.raises(Unavailable):
        TaskTokenVerifier(UNREACHABLE, "a@b", "http://127.0.0.1:9/certs").verify(token)
