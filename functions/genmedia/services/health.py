"""Readiness: each dependency answers within a short timeout; provider breakers are reported."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from genmedia.clients import firestore_client, tasks_client
from genmedia.config import get_settings
from genmedia.resilience import breaker_states
from genmedia.storage import media_bucket

TIMEOUT_S = 2.0
_pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="readyz")


def _firestore() -> None:
    firestore_client().collection("_health").document("ping").get(timeout=TIMEOUT_S, retry=None)


def _storage() -> None:
    if not media_bucket().exists(timeout=TIMEOUT_S, retry=None):
        raise LookupError("media bucket missing")


def _tasks() -> None:
    settings = get_settings()
    parent = f"projects/{settings.project_id}/locations/{settings.tasks_location}"
    pager = tasks_client().list_queues(
        request={"parent": parent, "page_size": 1}, timeout=TIMEOUT_S, retry=None
    )
    next(iter(pager.pages), None)


CHECKS: dict[str, Callable[[], None]] = {
    "firestore": _firestore,
    "storage": _storage,
    "tasks": _tasks,
}


def _timed(check: Callable[[], None]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        check()
        result: dict[str, Any] = {"status": "ok"}
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; the class says why
        result = {"status": "error", "error": type(exc).__name__}
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def readiness() -> dict[str, Any]:
    futures = {name: _pool.submit(_timed, check) for name, check in CHECKS.items()}
    results: dict[str, Any] = {}
    for name, future in futures.items():
        try:
            results[name] = future.result(timeout=TIMEOUT_S + 1)
        except FutureTimeout:
            results[name] = {"status": "error", "error": "Timeout"}
    ok = all(r["status"] == "ok" for r in results.values())
    return {
        "status": "ok" if ok else "unavailable",
        "dependencies": results,
        "breakers": breaker_states(),
    }
