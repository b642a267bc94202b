"""OIDC: tasks with http_request.oidc_token carry an ID token a worker verifies exactly as
in production, with google.oauth2.id_token.verify_token against the emulator's certs URL."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from google.auth import jwt
from google.auth.transport import requests as auth_requests
from google.cloud import tasks_v2
from google.oauth2 import id_token

from tests.emulators.tasks.helpers import Receiver
from tests.emulators.tasks.process import TasksEmulatorProcess as EmulatorProcess

Client = tasks_v2.CloudTasksClient
SERVICE_ACCOUNT = "invoker@conformance.iam.gserviceaccount.com"


def _certs_url(emulator: EmulatorProcess) -> str:
    return f"http://127.0.0.1:{emulator.http_port}/oauth2/v1/certs"


def _bearer(
    client: Client,
    make_queue: Callable[..., Any],
    http_task: Callable[..., Any],
    receiver: Receiver,
    **oidc: str,
) -> tuple[str, str]:
    queue = make_queue()
    path = receiver.new_path()
    token_spec = {"service_account_email": SERVICE_ACCOUNT, **oidc}
    client.create_task(parent=queue.name, task=http_task(path, http={"oidc_token": token_spec}))
    authorization = receiver.wait_hits(path, 1)[0].header("Authorization") or ""
    assert authorization.startswith("Bearer ")
    return authorization.removeprefix("Bearer "), receiver.url(path)


def test_worker_verifies_the_token_like_in_production(
    client: Client,
    make_queue: Callable[..., Any],
    http_task: Callable[..., Any],
    receiver: Receiver,
    emulator: EmulatorProcess,
) -> None:
    token, url = _bearer(client, make_queue, http_task, receiver)
    claims = id_token.verify_token(
        token, auth_requests.Request(), audience=url, certs_url=_certs_url(emulator)
    )
    assert claims["iss"] == "https://accounts.google.com"
    assert claims["aud"] == url  # no audience configured: the task's URL
    assert claims["email"] == SERVICE_ACCOUNT
    assert claims["email_verified"] is True
    assert claims["sub"].isdigit()
    assert claims["exp"] - claims["iat"] == 3600
    assert jwt.decode_header(token)["alg"] == "RS256"


def test_configured_audience_is_used_and_a_wrong_one_fails(
    client: Client,
    make_queue: Callable[..., Any],
    http_task: Callable[..., Any],
    receiver: Receiver,
    emulator: EmulatorProcess,
) -> None:
    audience = "https://genmedia-worker.example.run.app"
    token, url = _bearer(client, make_queue, http_task, receiver, audience=audience)
    request = auth_requests.Request()
    claims = id_token.verify_token(
        token, request, audience=audience, certs_url=_certs_url(emulator)
    )
    assert claims["aud"] == audience
    with pytest.raises(ValueError, match="audience"):
        id_token.verify_token(token, request, audience=url, certs_url=_certs_url(emulator))


def test_certs_are_served_in_googles_format(
    client: Client,
    make_queue: Callable[..., Any],
    http_task: Callable[..., Any],
    receiver: Receiver,
    emulator: EmulatorProcess,
) -> None:
    token, _ = _bearer(client, make_queue, http_task, receiver)
    with urllib.request.urlopen(_certs_url(emulator), timeout=10) as response:
        certs = json.load(response)
    kid = jwt.decode_header(token)["kid"]
    assert list(certs) == [kid]
    assert certs[kid].startswith("-----BEGIN CERTIFICATE-----")
    # A token signed by some other key does not verify against these certificates.
    header, payload, _ = token.split(".")
    forged = f"{header}.{payload}.{'A' * 342}"
    with pytest.raises(ValueError):
        id_token.verify_token(
            forged, auth_requests.Request(), audience=None, certs_url=_certs_url(emulator)
        )
