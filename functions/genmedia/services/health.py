"""Readiness: each dependency answers within a short timeout; provider breakers are reported."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from genmedia.bootstrap import Deps

TIMEOUT_S = 2.0
_pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="readyz")


def _storage(deps: Deps) -> None:
    if not deps.bucket.exists(TIMEOUT_S):
        raise LookupError("media bucket missing")


def _tasks(deps: Deps) -> None:
    settings = deps.settings
    parent = f"projects/{settings.project_id}/locations/{settings.tasks_location}"
    pager = deps.tasks().list_queues(
        request={"parent": parent, "page_size": 1}, timeout=TIMEOUT_S, retry=None
    )
    next(iter(pager.pages), None)


CHECKS: dict[str, Callable[[Deps], None]] = {
    "firestore": lambda deps: deps.database.ping(TIMEOUT_S),
    "storage": _storage,
    "tasks": _tasks,
}


def _timed(check: Callable[[Deps], None], deps: Deps) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        check(deps)
        result: dict[str, Any] = {"status": "ok"}
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; the class says why
        result = {"status": "error", "error": type(exc).__name__}
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def readiness(deps: Deps) -> dict[str, Any]:
    futures = {name: _pool.submit(_timed, check, deps) for name, check in CHECKS.items()}
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
        "breakers": deps.breakers.states(),
    }
