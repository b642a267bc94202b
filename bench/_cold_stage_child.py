"""One cold instance in one process, for cold_stages.py: the stages of a cold start with the
CPU each took (this process's user + system time), the collector's share and the modules each
loaded. Run as ``python _cold_stage_child.py '<spec as JSON>'`` in ``functions/`` with the
function's environment; prints one JSON line.

Stages: interpreter start (up to this script's first line), the eager imports (variant eager
only), ``import main`` (what the gunicorn master does), functions-framework's ``create_app``,
the first ``GET /healthz`` (the handler module's import) and the first main request, both
through Flask's test client, so no server or socket is in the figures.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from typing import Any

EAGER = (
    "google.cloud.firestore",
    "google.cloud.storage",
    "google.cloud.tasks_v2",
    "firebase_admin",
    "firebase_admin.auth",
    "google.genai",
    "PIL.Image",
)
_gc = {"seconds": 0.0, "started": 0.0}


def _timed_collections(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _gc["started"] = time.process_time()
    else:
        _gc["seconds"] += time.process_time() - _gc["started"]


def cold_start(spec: dict[str, Any]) -> list[dict[str, Any]]:
    gc.callbacks.append(_timed_collections)
    stages: list[dict[str, Any]] = []
    seen = set(sys.modules)

    def mark(stage: str) -> None:
        nonlocal seen
        now = set(sys.modules)
        cpu, collected = time.process_time(), _gc["seconds"]
        stages.append({"stage": stage, "cpu": cpu, "gc": collected, "modules": len(now - seen)})
        seen = now

    mark("interpreter")
    if spec["eager"]:
        for module in EAGER:
            __import__(module)
        mark("eager imports")
    import main  # noqa: F401 (what the gunicorn master imports)

    mark("import main")
    from functions_framework import create_app

    app = create_app(spec["function"], os.path.join(os.getcwd(), "main.py"))  # type: ignore[no-untyped-call]
    client = app.test_client()
    mark("create_app")
    if spec["healthz"]:
        status = client.get("/healthz").status_code
        if status != 200:
            raise RuntimeError(f"/healthz answered {status}")
        mark("first /healthz")
    resp = client.open(
        spec["path"], method=spec["method"], headers=spec["headers"], data=spec["body"]
    )
    if resp.status_code != spec["status"]:
        raise RuntimeError(f"{spec['path']} answered {resp.status_code}: {resp.data[:300]!r}")
    mark("first main")
    return stages


if __name__ == "__main__":
    print(json.dumps(cold_start(json.loads(sys.argv[1]))))
