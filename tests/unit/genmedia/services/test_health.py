"""Readiness: every dependency is checked and named, and the provider breakers are reported."""

from __future__ import annotations

from genmedia.services import health
from tests.fakes.ports import make_deps


def test_not_ready_names_each_dependency_that_failed() -> None:
    # Cloud Tasks: the real client against a closed loopback port, refused at once.
    fakes = make_deps(CLOUD_TASKS_EMULATOR_HOST="127.0.0.1:9")
    fakes.db.reachable = False
    fakes.deps.breakers.get("vertex")
    report = health.readiness(fakes.deps)
    assert report["status"] == "unavailable"
    assert report["dependencies"]["firestore"]["error"] == "ConnectionError"
    assert report["dependencies"]["storage"]["status"] == "ok"
    assert report["dependencies"]["tasks"]["status"] == "error"
    assert report["breakers"]["vertex"]["state"] == "closed"
