"""Test harness: the stack for a test session, state resets, users with tokens, an API client."""

from __future__ import annotations

import contextlib
import json
import os
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from infra.local.authemu import AuthEmulator
from infra.local.stack import ROOT, TEST_FUNCTION_ENV, Stack, StackOptions, http_ok

STACK_JSON = ROOT / ".local" / "stack.json"


def reusable_stack() -> dict[str, Any] | None:
    """A live stack started with `python -m infra.local --test-settings`, when
    GENMEDIA_REUSE_STACK=1 and it answers; otherwise None and the session starts its own."""
    if os.environ.get("GENMEDIA_REUSE_STACK") != "1" or not STACK_JSON.exists():
        return None
    info: dict[str, Any] = json.loads(STACK_JSON.read_text())
    if info.get("function_env") != TEST_FUNCTION_ENV:
        print("GENMEDIA_REUSE_STACK: the live stack lacks --test-settings; starting a private one")
        return None
    return info if http_ok(info["gateway"] + "/v1/healthz") else None


def start_stack(state_dir: Path, **options: Any) -> Stack:
    options.setdefault("function_env", dict(TEST_FUNCTION_ENV))
    stack = Stack(
        StackOptions(state_dir=state_dir, free_ports=True, seed_demo_user=False, **options)
    )
    stack.start()
    return stack


@contextlib.contextmanager
def functions_with_env(stack: Stack, env: dict[str, str], *functions: str) -> Iterator[Stack]:
    """``functions`` restarted with ``env`` added to their environment, restarted as configured
    again on exit (a test's own settings must not leak into the next test)."""
    for function in functions:
        stack.restart_function(function, env)
    try:
        yield stack
    finally:
        for function in functions:
            stack.restart_function(function)


def client_env(info: dict[str, Any]) -> dict[str, str]:
    """Environment for Google clients and in-process function code in the test process."""
    return {
        "GOOGLE_CLOUD_PROJECT": info["project_id"],
        "FIRESTORE_EMULATOR_HOST": info["firestore_emulator"],
        "STORAGE_EMULATOR_HOST": "http://" + info["storage_emulator"],
        "FIREBASE_AUTH_EMULATOR_HOST": info["auth_emulator"],
        "CLOUD_TASKS_EMULATOR_HOST": info["tasks_emulator"],
        "GENMEDIA_MEDIA_BUCKET": info["media_bucket"],
        "GENMEDIA_PUBLIC_BASE_URL": info["gateway"],
    }


def reset_state(info: dict[str, Any]) -> None:
    """Empty Firestore, every bucket and the Auth emulator (the emulators' own reset calls)."""
    project = info["project_id"]
    req = urllib.request.Request(
        f"{info['firestore_admin']}/emulator/v1/projects/{project}/databases/(default)/documents",
        method="DELETE",
    )
    urllib.request.urlopen(req, timeout=10).close()
    storage = f"http://{info['storage_emulator']}/storage/v1/b"
    for bucket in requests.get(storage, timeout=10).json().get("items", []):
        objects = requests.get(f"{storage}/{bucket['name']}/o", timeout=10).json().get("items", [])
        for obj in objects:
            name = requests.utils.quote(obj["name"], safe="")
            requests.delete(f"{storage}/{bucket['name']}/o/{name}", timeout=10)
    AuthEmulator(info["auth_emulator"], project).reset()


@dataclass
class User:
    uid: str
    email: str
    auth: AuthEmulator

    @property
    def token(self) -> str:
        return self.auth.id_token(self.uid)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def new_user(auth: AuthEmulator, role: str | None = None, email: str | None = None) -> User:
    email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
    return User(auth.create_user(email, role=role), email, auth)


class Gateway:
    """Calls the public API through the local gateway, as the web frontend does."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def call(
        self,
        method: str,
        path: str,
        *,
        user: User | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        all_headers = dict(headers or {})
        if user is not None:
            all_headers.update(user.headers())
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        return self.session.request(
            method, self.base_url + path, headers=all_headers, timeout=120, **kwargs
        )

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("POST", path, **kwargs)
