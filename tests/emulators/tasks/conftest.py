"""Fixtures for the Cloud Tasks emulator conformance suite.

One emulator runs for the session on free ports, started as a subprocess the way the local
stack starts it. It runs with `--min-dispatch-deadline 0.5` so dispatch-deadline tests take
a second rather than production's minimum of 15 s; everything else is production's
behaviour. Every test works in its own uuid-named queues of a session-unique project, so no
test depends on another's data or on the reset endpoint. The worker is a local threaded
HTTP server on 127.0.0.1 that records requests and answers with scripted statuses/delays.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from google.cloud import tasks_v2

from tests.emulators.tasks.helpers import Admin, Receiver
from tests.emulators.tasks.process import (
    EMULATOR_PATH,
    emulator_command,
    launch_emulator,
)
from tests.emulators.tasks.process import (
    TasksEmulatorProcess as EmulatorProcess,
)

SUITE_MIN_DEADLINE_S = "0.5"
LOCATION = "us-central1"

# test_dispatcher_clock.py drives the dispatcher in-process with a fake clock.
if str(EMULATOR_PATH) not in sys.path:
    sys.path.insert(0, str(EMULATOR_PATH))


@pytest.fixture(scope="session")
def emulator_launcher() -> Iterator[Callable[..., EmulatorProcess]]:
    """Start extra emulators (other flags); all are stopped at the end of the session."""
    started: list[EmulatorProcess] = []

    def launch(*extra: str) -> EmulatorProcess:
        emulator = launch_emulator(*extra)
        started.append(emulator)
        return emulator

    yield launch
    for emulator in started:
        emulator.stop()


@pytest.fixture(scope="session")
def emulator_cmd() -> Callable[..., tuple[list[str], dict[str, str]]]:
    return emulator_command


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorProcess]:
    process = launch_emulator("--min-dispatch-deadline", SUITE_MIN_DEADLINE_S)
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="session")
def client(emulator: EmulatorProcess) -> tasks_v2.CloudTasksClient:
    return emulator.client()


@pytest.fixture(scope="session")
def admin(emulator: EmulatorProcess) -> Admin:
    return emulator.admin()


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture(scope="session")
def location() -> str:
    return f"projects/conformance-{uuid.uuid4().hex[:12]}/locations/{LOCATION}"


@pytest.fixture
def unique() -> Callable[[str], str]:
    return lambda prefix: f"{prefix}-{uuid.uuid4().hex[:16]}"


@pytest.fixture
def make_queue(
    client: tasks_v2.CloudTasksClient, location: str, unique: Callable[[str], str]
) -> Callable[..., tasks_v2.Queue]:
    """Create a uniquely named queue with fast retries (overridable with keyword args)."""

    def make(
        min_backoff: float = 0.1,
        max_backoff: float = 1.0,
        max_doublings: int = 4,
        max_attempts: int = 5,
        at: str | None = None,
        **queue: Any,
    ) -> tasks_v2.Queue:
        parent = at or location
        retry = {
            "min_backoff": timedelta(seconds=min_backoff),
            "max_backoff": timedelta(seconds=max_backoff),
            "max_doublings": max_doublings,
            "max_attempts": max_attempts,
        }
        spec = {"name": f"{parent}/queues/{unique('q')}", "retry_config": retry, **queue}
        return client.create_queue(parent=parent, queue=spec)

    return make


@pytest.fixture
def http_task(receiver: Receiver) -> Callable[..., dict[str, Any]]:
    """A Task mapping whose http_request targets `path` on the receiver."""

    def build(path: str, name: str | None = None, **fields: Any) -> dict[str, Any]:
        request = {"url": receiver.url(path), **fields.pop("http", {})}
        task: dict[str, Any] = {"http_request": request, **fields}
        if name is not None:
            task["name"] = name
        return task

    return build
