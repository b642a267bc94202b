"""Cheap requests: latency and CPU per request of the serving function, with the read-path
revocation cache on (the default, 30 s) and off (every request asks Identity Toolkit, as
before), each on a fresh local stack in the same run; /v1/healthz is the floor.

Run: .venv/bin/python bench/cheap_paths.py [--requests N] [--concurrency N]

Paths: GET /v1/healthz (health, no auth), GET /v1/assets?page_size=20 and GET /v1/usage
(library, reads), an idempotent replay of POST /v1/images:generate (generate_image: a write
method, so it always checks revocation; its replay is one Firestore read), POST :signUrl
(issue_signed_url, a write method too). CPU ms per request is the serving function's process
group (gunicorn master + workers) from /proc, around each block. Prints figures only.
"""

from __future__ import annotations

import argparse
import threading
import time
import uuid

import requests
from _common import (
    BenchUser,
    cpu_seconds,
    gateway_url,
    generous_user,
    group_pids,
    local_stack,
    ms,
    percentile,
    print_context,
    print_load,
    print_table,
    run_together,
)

from infra.local.stack import Stack

VARIANTS = {"cache 30 s (default)": "30", "no cache (baseline)": "0"}


# label -> (serving function, method, path, JSON body or None, extra headers)
Spec = tuple[str, str, str, dict | None, dict[str, str]]


def _requests(stack: Stack, user: BenchUser) -> dict[str, Spec]:
    base = gateway_url(stack)
    key = uuid.uuid4().hex
    body = {"prompt": "a lighthouse at dusk", "count": 1}
    replay = {"Idempotency-Key": key}
    headers = {**user.headers, **replay}
    first = requests.post(f"{base}/v1/images:generate", json=body, headers=headers, timeout=60)
    first.raise_for_status()
    asset_id = first.json()["assets"][0]["id"]
    return {
        "GET /v1/healthz": ("health", "GET", "/v1/healthz", None, {}),
        "GET /v1/assets": ("library", "GET", "/v1/assets?page_size=20", None, {}),
        "GET /v1/usage": ("library", "GET", "/v1/usage", None, {}),
        "replay generate": ("generate_image", "POST", "/v1/images:generate", body, replay),
        "POST :signUrl": ("issue_signed_url", "POST", f"/v1/assets/{asset_id}:signUrl", {}, {}),
    }


def _block(stack: Stack, user: BenchUser, spec: Spec, n: int, conc: int) -> list[object]:
    function, method, path, body, extra = spec
    headers = {**user.headers, **extra}
    child = stack.children[f"fn_{function}"]
    assert child.proc is not None
    pids = group_pids(child.proc.pid)
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    url = gateway_url(stack) + path

    def worker(start: threading.Barrier) -> None:
        session = requests.Session()
        start.wait()
        for _ in range(n // conc):
            began = time.perf_counter()
            resp = session.request(method, url, json=body, headers=headers, timeout=60)
            with lock:
                latencies.append(time.perf_counter() - began)
                if resp.status_code >= 400:
                    errors.append(resp.status_code)

    cpu_before = cpu_seconds(pids)
    wall = run_together(conc, worker)
    cpu = cpu_seconds(pids) - cpu_before
    done = len(latencies)
    return [
        ms(percentile(latencies, 50) * 1000), ms(percentile(latencies, 95) * 1000),
        f"{done / wall:.0f}",
        f"{cpu / done * 1000:.2f}", len(errors),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="per path and variant")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    print_context("cheap paths: revocation cache on and off")
    rows: list[list[object] | None] = []
    for variant, ttl in VARIANTS.items():
        with local_stack({"GENMEDIA_REVOCATION_CACHE_SECONDS": ttl}) as stack:
            user = generous_user(stack)
            specs = _requests(stack, user)
            for spec in specs.values():  # warm every path once
                _block(stack, user, spec, args.concurrency, args.concurrency)
            for label, spec in specs.items():
                figures = _block(stack, user, spec, args.requests, args.concurrency)
                rows.append([variant, label, *figures])
        rows.append(None)
    print_table(["variant", "path", "p50 ms", "p95 ms", "req/s", "fn CPU ms/req", "errors"], rows)
    print_load()


if __name__ == "__main__":
    main()
