"""Fixtures for the Firestore emulator conformance suite.

The suite talks to whatever FIRESTORE_EMULATOR_HOST names (for example Google's official
emulator). When it is unset, this conftest starts the project's emulator on a free port
for the session. Every test uses its own uuid-named collections inside a session-unique
project, so no test depends on a reset endpoint or on another test's data.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from google.cloud import firestore
from google.cloud.firestore_v1.services.firestore import FirestoreClient
from google.cloud.firestore_v1.services.firestore.transports import FirestoreGrpcTransport

from tests.emulators.process import FIRESTORE, EmulatorProcess

# Short enough to keep the lock-timeout test quick, long enough for 50 queued increments.
SUITE_LOCK_TIMEOUT_S = "4"
# Set before the session starts only when the suite targets someone else's emulator.
FOREIGN_EMULATOR_HOST = os.environ.get("FIRESTORE_EMULATOR_HOST")


def emulator_command(*args: str) -> tuple[list[str], dict[str, str]]:
    return FIRESTORE.command(*args)


def launch_emulator(*extra: str, port: int | None = None) -> EmulatorProcess:
    return FIRESTORE.launch(*extra, port=port)


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


PRODUCTION_RULE = "production_rule"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{PRODUCTION_RULE}(reason): a production behaviour that Google's emulator lacks; "
        "the reason names it and links production's documentation. The test is expected "
        "to fail (xfail, not strict) against another emulator.",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Against another emulator a production-rule test runs, and may fail, as an xfail.

    It still runs (rather than being skipped) so the conformance table shows whether
    Google's emulator has caught up (XPASS). The reason is also recorded as a property.
    """
    for item in items:
        marker = item.get_closest_marker(PRODUCTION_RULE)
        if marker is None:
            continue
        reason = str(marker.args[0] if marker.args else marker.kwargs.get("reason", ""))
        # In junit XML, for the side-by-side table of infra/emulators/firestore/conformance.py.
        item.user_properties.append((PRODUCTION_RULE, reason))
        if FOREIGN_EMULATOR_HOST:
            item.add_marker(pytest.mark.xfail(reason=f"production rule: {reason}", strict=False))


@pytest.fixture(scope="session")
def fs_project() -> str:
    return f"conformance-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def fs_client(fs_emulator_host: str, fs_project: str) -> firestore.Client:
    return firestore.Client(project=fs_project)


class _OwnerCredentials(
    grpc.UnaryUnaryClientInterceptor,  # type: ignore[misc]
    grpc.UnaryStreamClientInterceptor,  # type: ignore[misc]
):
    """Send `Authorization: Bearer owner`, as the high-level client does to an emulator.

    Google's emulator treats a request without it as an end user's, under security rules,
    and refuses BatchWrite (`Batch writes require admin authentication.`).
    """

    def _with_owner(self, details: Any) -> Any:
        metadata = [*(details.metadata or ()), ("authorization", "Bearer owner")]
        return details._replace(metadata=metadata)

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._with_owner(details), request)

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._with_owner(details), request)


@pytest.fixture(scope="session")
def fs_gapic(fs_emulator_host: str) -> FirestoreClient:
    """The generated low-level client, for requests the high-level client cannot express."""
    channel = grpc.intercept_channel(grpc.insecure_channel(fs_emulator_host), _OwnerCredentials())
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
