"""Fixtures for the Firestore emulator conformance suite.

The suite talks to whatever FIRESTORE_EMULATOR_HOST names (for example Google's official
emulator). When it is unset, this conftest starts the project's emulator on a free port
for the session. Every test uses its own uuid-named collections inside a session-unique
project, so no test depends on a reset endpoint or on another test's data.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.cloud import firestore
from google.cloud.firestore_v1.services.firestore import FirestoreClient
from google.cloud.firestore_v1.services.firestore.transports import FirestoreGrpcTransport

REPO_ROOT = Path(__file__).resolve().parents[3]
EMULATOR_PATH = REPO_ROOT / "infra" / "emulators" / "firestore"
# Short enough to keep the lock-timeout test quick, long enough for 50 queued increments.
SUITE_LOCK_TIMEOUT_S = "4"
READY_TIMEOUT_S = 20.0
# Set before the session starts only when the suite targets someone else's emulator.
FOREIGN_EMULATOR_HOST = os.environ.get("FIRESTORE_EMULATOR_HOST")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class EmulatorProcess:
    proc: subprocess.Popen[str]
    port: int
    http_port: int
    ready_line: str

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self, timeout: float = 10.0) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def emulator_command(*args: str) -> tuple[list[str], dict[str, str]]:
    """argv and environment that run this project's emulator, as the stack launcher does."""
    env = dict(os.environ, PYTHONPATH=str(EMULATOR_PATH), PYTHONUNBUFFERED="1")
    return [sys.executable, "-m", "firestore_emulator", *args], env


def launch_emulator(*extra: str, port: int | None = None) -> EmulatorProcess:
    """Start `python -m firestore_emulator` and wait for its ready line."""
    port = port or free_port()
    http_port = free_port()
    cmd, env = emulator_command(
        "--host", "127.0.0.1", "--port", str(port), "--http-port", str(http_port), *extra
    )
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO_ROOT
    )
    line = _await_ready(proc)
    return EmulatorProcess(proc, port, http_port, line)


def _await_ready(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    found: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        found.append(proc.stdout.readline())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(READY_TIMEOUT_S)
    if not found or "ready" not in found[0]:
        proc.kill()
        _, err = proc.communicate(timeout=5)
        raise RuntimeError(f"Firestore emulator did not become ready: {found} {err}")
    return found[0].strip()


@pytest.fixture(scope="session")
def emulator_launcher() -> Iterator[Callable[..., EmulatorProcess]]:
    started: list[EmulatorProcess] = []

    def launch(*extra: str, port: int | None = None) -> EmulatorProcess:
        emulator = launch_emulator(*extra, port=port)
        started.append(emulator)
        return emulator

    yield launch
    for emulator in started:
        emulator.stop()


@pytest.fixture(scope="session")
def emulator_cmd() -> Callable[..., tuple[list[str], dict[str, str]]]:
    return emulator_command


@pytest.fixture(scope="session")
def fs_emulator_host() -> Iterator[str]:
    existing = os.environ.get("FIRESTORE_EMULATOR_HOST")
    if existing:
        yield existing
        return
    emulator = launch_emulator("--lock-timeout", SUITE_LOCK_TIMEOUT_S)
    os.environ["FIRESTORE_EMULATOR_HOST"] = emulator.host
    try:
        yield emulator.host
    finally:
        os.environ.pop("FIRESTORE_EMULATOR_HOST", None)
        emulator.stop()


@pytest.fixture
def own_emulator_only(fs_emulator_host: str) -> None:
    """Skip a test of a production rule that Google's emulator does not enforce."""
    if FOREIGN_EMULATOR_HOST:
        pytest.skip("production rule that Google's emulator does not enforce")


@pytest.fixture(scope="session")
def fs_project() -> str:
    return f"conformance-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def fs_client(fs_emulator_host: str, fs_project: str) -> firestore.Client:
    return firestore.Client(project=fs_project)


@pytest.fixture(scope="session")
def fs_gapic(fs_emulator_host: str) -> FirestoreClient:
    """The generated low-level client, for requests the high-level client cannot express."""
    channel = grpc.insecure_channel(fs_emulator_host)
    return FirestoreClient(transport=FirestoreGrpcTransport(channel=channel))


@pytest.fixture
def coll(fs_client: firestore.Client) -> firestore.CollectionReference:
    return fs_client.collection(_unique("c"))


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Collection/document names no other test (or earlier run) uses."""
    return _unique


@pytest.fixture
def run_threads() -> Callable[..., list[Any]]:
    return _run_threads


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def _run_threads(targets: list[Callable[[], Any]], timeout: float = 60.0) -> list[Any]:
    """Run callables on real threads at once; return each result or raised exception."""
    results: list[Any] = [None] * len(targets)
    barrier = threading.Barrier(len(targets))

    def runner(i: int) -> None:
        barrier.wait()
        try:
            results[i] = targets[i]()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(len(targets))]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "threads did not finish in time"
    return results
