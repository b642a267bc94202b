"""Cost per request: Firestore RPCs, Cloud Storage calls and Identity Toolkit calls per request
type, and the serving function's CPU per cheap request beside /v1/healthz and a bare
functions-framework function (the floor), all measured in one run on a fresh local stack.

Run: .venv/bin/python bench/cost.py [--requests N] [--concurrency N] [--repeats N]

* Calls per request: the functions' code runs in this process (functions_framework's test
  client, the stack's function environment, against the stack's emulators). Firestore RPCs are
  counted by a gRPC client interceptor on the Firestore client's channel; Cloud Storage and
  Identity Toolkit calls by a counting wrapper around ``requests.Session.send``, the HTTP
  transport under google-cloud-storage and firebase-admin, classified by URL. Each request type
  runs once to warm up (imports, clients, the instance's revocation cache), then ``--repeats``
  times; the table shows calls per request.
* CPU per request: ``--requests`` requests per path from ``--concurrency`` client threads
  through the gateway, the serving function's process group CPU (gunicorn master and worker,
  from /proc) around each block. The floor is a hello-world functions-framework function started
  here from a temp dir on a free port, served the same way as the stack's functions
  (``python -m functions_framework``: gunicorn, one worker, its default threads), called
  directly (the gateway routes only our functions).
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from _common import (
    ROOT,
    BenchUser,
    cpu_seconds,
    free_port,
    gateway_url,
    generous_user,
    group_pids,
    local_stack,
    percentile,
    run_together,
)
from _report import Check, ScenarioResult, Table, standalone
from library import instrumented_clients

from infra.local.ports import HOST
from infra.local.stack import Stack

NAME = "cost"
if str(ROOT / "functions") not in sys.path:
    sys.path.insert(0, str(ROOT / "functions"))

IMAGE_BODY = {"prompt": "a lighthouse at dusk", "count": 1}
VIDEO_BODY = {"prompt": "waves on a pebble beach", "duration_seconds": 4}
TARGET_RATIO = 2.0  # function CPU per cheap request / /v1/healthz's, same run
HELLO = """import functions_framework


@functions_framework.http
def hello(request):
    return "ok"
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--requests", type=int, default=1500, help="per path, CPU table")
    parser.add_argument("--concurrency", type=int, default=75, help="client threads, CPU table")
    parser.add_argument("--repeats", type=int, default=10, help="per request type, calls table")


# -- counting ---------------------------------------------------------------------------------
class HttpCounter:
    """Counts HTTP requests sent through ``requests`` in this process, by service."""

    def __init__(self, storage_port: int) -> None:
        self.storage = f"{HOST}:{storage_port}"
        self.calls: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()

    def kind(self, url: str) -> str:
        if "identitytoolkit" in url or "securetoken" in url:
            return "Identity Toolkit"
        if self.storage in url or "storage.googleapis.com" in url:
            return "Storage"
        return "other HTTP"

    @contextmanager
    def installed(self) -> Iterator[None]:
        original = requests.Session.send

        def send(session: requests.Session, request: Any, **kwargs: Any) -> Any:
            with self.lock:
                self.calls[self.kind(str(request.url))] += 1
            return original(session, request, **kwargs)

        requests.Session.send = send  # type: ignore[method-assign]
        try:
            yield
        finally:
            requests.Session.send = original  # type: ignore[method-assign]

    def take(self) -> collections.Counter[str]:
        with self.lock:
            taken, self.calls = self.calls, collections.Counter()
        return taken


Call = Callable[[], Any]


def request_types(
    apps: dict[str, Any], user: BenchUser, asset_ids: list[str], job_id: str
) -> dict[str, Call]:
    gen, signer, lib = apps["generate_image"], apps["issue_signed_url"], apps["library"]
    jobs, video = apps["jobs"], apps["generate_video"]
    h = user.headers
    replay_key = uuid.uuid4().hex
    fresh_ttl = iter(range(600, 100_000))

    def new_key() -> Any:
        headers = {**h, "Idempotency-Key": uuid.uuid4().hex}
        return gen.post("/v1/images:generate", json=IMAGE_BODY, headers=headers)

    return {
        "generate (new key)": new_key,
        "generate replay (same key)": lambda: gen.post(
            "/v1/images:generate", json=IMAGE_BODY, headers={**h, "Idempotency-Key": replay_key}
        ),
        ":signUrl (reused URL)": lambda: signer.post(
            f"/v1/assets/{asset_ids[0]}:signUrl", json={}, headers=h
        ),
        ":signUrl (fresh URL)": lambda: signer.post(
            f"/v1/assets/{asset_ids[0]}:signUrl", json={"ttl_seconds": next(fresh_ttl)}, headers=h
        ),
        f":batchSignUrls of {len(asset_ids)}": lambda: signer.post(
            "/v1/assets:batchSignUrls", json={"ids": asset_ids}, headers=h
        ),
        "library page (20)": lambda: lib.get("/v1/assets?page_size=20", headers=h),
        "usage": lambda: lib.get("/v1/usage", headers=h),
        "GET job (finished)": lambda: jobs.get(f"/v1/jobs/{job_id}", headers=h),
        "video job submit": lambda: video.post(
            "/v1/videos:generate",
            json=VIDEO_BODY,
            headers={**h, "Idempotency-Key": uuid.uuid4().hex},
        ),
    }


def count_calls(
    stack: Stack, user: BenchUser, asset_ids: list[str], job_id: str, repeats: int
) -> dict[str, dict[str, Any]]:
    apps, rpcs = instrumented_clients(
        stack, ("generate_image", "issue_signed_url", "library", "jobs", "generate_video")
    )
    http = HttpCounter(stack.ports["storage"])
    figures: dict[str, dict[str, Any]] = {}
    with http.installed():
        for name, do in request_types(apps, user, asset_ids, job_id).items():
            do()  # warm: imports, clients, the revocation cache; a replay's first response
            rpcs.take(), http.take()
            statuses: collections.Counter[int] = collections.Counter()
            for _ in range(repeats):
                statuses[do().status_code] += 1
            firestore, calls = rpcs.take(), http.take()
            figures[name] = {
                "statuses": dict(statuses),
                "firestore": {m: c / repeats for m, c in sorted(firestore.items())},
                "storage": calls["Storage"] / repeats,
                "identity_toolkit": calls["Identity Toolkit"] / repeats,
                "other_http": calls["other HTTP"] / repeats,
            }
    return figures


def calls_table(figures: dict[str, dict[str, Any]], repeats: int) -> Table:
    rows: list[list[object] | None] = []
    for name, f in figures.items():
        rows.append([
            name, ",".join(str(s) for s in sorted(f["statuses"])),
            f"{sum(f['firestore'].values()):g}",
            " ".join(f"{m} {c:g}" for m, c in f["firestore"].items()) or "-",
            f"{f['storage']:g}", f"{f['identity_toolkit']:g}", f"{f['other_http']:g}",
        ])  # fmt: skip
    return Table(
        "Calls per request (in process, counted at the client layer)",
        [
            "request",
            "status",
            "Firestore RPCs",
            "by method",
            "Storage",
            "Identity Toolkit",
            "other HTTP",
        ],
        rows,
        note=f"Mean of {repeats} requests after one warm-up each (the revocation cache warm). "
        "Other HTTP: a finished job's URLs, asked of issue_signed_url as the user (by design).",
    )


def call_checks(figures: dict[str, dict[str, Any]]) -> list[Check]:
    replay = figures["generate replay (same key)"]
    reads = [n for n in figures if n.startswith((":signUrl", ":batch", "library", "usage", "GET"))]
    ok_reads = {n: figures[n]["identity_toolkit"] for n in reads}
    return [
        Check(
            "an idempotent replay is one Firestore read",
            replay["firestore"] in ({"BatchGetDocuments": 1.0}, {"GetDocument": 1.0}),
            f"{replay['firestore']}, Identity Toolkit {replay['identity_toolkit']:g}",
        ),
        Check(
            "no Identity Toolkit call on a cached read (library, usage, job, signing)",
            all(v == 0 for v in ok_reads.values()),
            ", ".join(f"{n} {v:g}" for n, v in ok_reads.items()),
        ),
        Check(
            "a new generation still checks revocation with Identity Toolkit",
            figures["generate (new key)"]["identity_toolkit"] >= 1,
            f"{figures['generate (new key)']['identity_toolkit']:g} per request",
        ),
    ]


# -- CPU per request --------------------------------------------------------------------------
@contextmanager
def hello_function() -> Iterator[tuple[str, int]]:
    """A bare functions-framework function on a free port: (base URL, process group)."""
    with tempfile.TemporaryDirectory(prefix="genmedia-hello-") as tmp:
        Path(tmp, "main.py").write_text(HELLO)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GENMEDIA_", "K_"))}
        argv = [sys.executable, "-m", "functions_framework", "--source", f"{tmp}/main.py",
                "--target", "hello", "--host", HOST, "--port", str(port)]  # fmt: skip
        proc = subprocess.Popen(argv, cwd=tmp, env=env, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        url = f"http://{HOST}:{port}"
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if requests.get(url, timeout=1).status_code == 200:
                        break
                except requests.RequestException:
                    time.sleep(0.2)
            yield url, proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# label -> (process group, method, URL, JSON body or None, headers)
Target = tuple[int, str, str, dict[str, Any] | None, dict[str, str]]


def block(target: Target, n: int, conc: int) -> dict[str, float]:
    pgid, method, url, body, headers = target
    pids = group_pids(pgid)
    latencies: list[float] = []
    errors = collections.Counter[str]()
    lock = threading.Lock()

    def worker(start: threading.Barrier) -> None:
        with requests.Session() as session:
            start.wait()
            for _ in range(n // conc):
                began = time.perf_counter()
                try:
                    status = session.request(
                        method, url, json=body, headers=headers, timeout=60
                    ).status_code
                except requests.RequestException as exc:
                    status = type(exc).__name__  # type: ignore[assignment]
                with lock:
                    latencies.append(time.perf_counter() - began)
                    if status != 200:
                        errors[str(status)] += 1

    cpu_before = cpu_seconds(pids)
    wall = run_together(conc, worker)
    cpu = cpu_seconds(pids) - cpu_before
    done = len(latencies)
    return {
        "requests": done,
        "errors": sum(errors.values()),
        "p50_ms": percentile(latencies, 50) * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "rps": done / wall,
        "cpu_ms": cpu / done * 1000,
    }


def cpu_targets(
    stack: Stack, user: BenchUser, asset_ids: list[str], job_id: str
) -> dict[str, Target]:
    base = gateway_url(stack)

    def pgid(function: str) -> int:
        child = stack.children[f"fn_{function}"]
        assert child.proc is not None
        return child.proc.pid

    key = uuid.uuid4().hex
    replay = {**user.headers, "Idempotency-Key": key}
    first = requests.post(base + "/v1/images:generate", json=IMAGE_BODY, headers=replay, timeout=60)
    first.raise_for_status()
    h = user.headers
    return {
        "GET /v1/healthz": (pgid("health"), "GET", base + "/v1/healthz", None, {}),
        "GET /v1/assets (page of 20)": (
            pgid("library"), "GET", base + "/v1/assets?page_size=20", None, h),
        "GET /v1/usage": (pgid("library"), "GET", base + "/v1/usage", None, h),
        "GET /v1/jobs/{id} (finished)": (
            pgid("jobs"), "GET", f"{base}/v1/jobs/{job_id}", None, h),
        "replay generate": (pgid("generate_image"), "POST", base + "/v1/images:generate",
                            IMAGE_BODY, replay),
        "POST :signUrl": (pgid("issue_signed_url"), "POST",
                          f"{base}/v1/assets/{asset_ids[0]}:signUrl", {}, h),
        f"POST :batchSignUrls ({len(asset_ids)})": (
            pgid("issue_signed_url"), "POST", base + "/v1/assets:batchSignUrls",
            {"ids": asset_ids}, h),
    }  # fmt: skip


def measure_cpu(
    stack: Stack, user: BenchUser, asset_ids: list[str], job_id: str, n: int, conc: int
) -> dict[str, dict[str, float]]:
    targets = cpu_targets(stack, user, asset_ids, job_id)
    with hello_function() as (hello_url, hello_pgid):
        targets["hello-world function (floor)"] = (hello_pgid, "GET", hello_url, None, {})
        for target in targets.values():  # warm every path: imports, clients, caches
            block(target, conc, conc)
        figures = {}
        for label, target in targets.items():
            print(f"  {label}: {n} requests at {conc} concurrent", flush=True)
            figures[label] = block(target, n, conc)
    return figures


def cpu_table(figures: dict[str, dict[str, float]], conc: int) -> Table:
    health = figures["GET /v1/healthz"]["cpu_ms"]
    rows: list[list[object] | None] = []
    for label, f in figures.items():
        rows.append([
            label, f["requests"], f["errors"], f"{f['p50_ms']:.0f}", f"{f['p95_ms']:.0f}",
            f"{f['rps']:.0f}", f"{f['cpu_ms']:.2f}", f"{f['cpu_ms'] / health:.2f}",
        ])  # fmt: skip
    return Table(
        f"Function CPU per request at {conc} concurrent clients",
        ["path", "n", "errors", "p50 ms", "p95 ms", "req/s", "fn CPU ms/req", "x healthz"],
        rows,
        note="Through the gateway (the floor: directly); CPU of the serving function's "
        "process group from /proc. Latency includes this process's client threads and the "
        "in-process gateway sharing 2 cores with the whole stack.",
    )


# The cheap paths; a batch of 20 and a finished job (which asks issue_signed_url for
# its URLs over HTTP) are shown beside them, not held to the ratio.
CHEAP = ("GET /v1/assets (page of 20)", "GET /v1/usage", "replay generate", "POST :signUrl")


def cpu_checks(figures: dict[str, dict[str, float]]) -> list[Check]:
    health = figures["GET /v1/healthz"]["cpu_ms"]
    cheap = {k: figures[k]["cpu_ms"] / health for k in CHEAP}
    worst = max(cheap, key=cheap.__getitem__)
    errors = {k: v["errors"] for k, v in figures.items() if v["errors"]}
    return [
        Check(
            f"function CPU per cheap request <= {TARGET_RATIO:g}x /v1/healthz's",
            cheap[worst] <= TARGET_RATIO,
            f"worst {worst} {cheap[worst]:.2f}x ("
            + ", ".join(f"{k} {v:.2f}x" for k, v in cheap.items())
            + ")",
        ),
        Check("no errors under load", not errors, str(errors) if errors else "none"),
    ]


def seed_assets(stack: Stack, user: BenchUser) -> list[str]:
    """Twenty generated assets (five count=4 generations): real objects to sign."""
    ids: list[str] = []
    while len(ids) < 20:
        resp = requests.post(gateway_url(stack) + "/v1/images:generate",
                             json={**IMAGE_BODY, "count": 4}, headers=user.headers,
                             timeout=120)  # fmt: skip
        resp.raise_for_status()
        ids += [a["id"] for a in resp.json()["assets"]]
    return ids


def finished_job(stack: Stack, user: BenchUser) -> str:
    """A video job run to SUCCEEDED by the stack's worker (the local provider)."""
    base = gateway_url(stack)
    resp = requests.post(base + "/v1/videos:generate", json=VIDEO_BODY, headers=user.headers,
                         timeout=60)  # fmt: skip
    resp.raise_for_status()
    job_id: str = resp.json()["job"]["id"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = requests.get(f"{base}/v1/jobs/{job_id}", headers=user.headers, timeout=60).json()
        if job.get("state") == "SUCCEEDED":
            return job_id
        time.sleep(1)
    raise RuntimeError(f"video job {job_id} did not succeed in 120 s: {job}")


def run(args: argparse.Namespace) -> ScenarioResult:
    result = ScenarioResult(NAME)
    with local_stack() as stack:
        os.environ.update(stack.emulator_env())
        user = generous_user(stack)
        asset_ids = seed_assets(stack, user)
        job_id = finished_job(stack, user)
        print("CPU per request through the gateway:", flush=True)
        cpu = measure_cpu(stack, user, asset_ids, job_id, args.requests, args.concurrency)
        print("calls per request, in process:", flush=True)
        calls = count_calls(stack, user, asset_ids, job_id, args.repeats)
    result.tables += [calls_table(calls, args.repeats), cpu_table(cpu, args.concurrency)]
    result.checks += call_checks(calls) + cpu_checks(cpu)
    result.figures = {"calls_per_request": calls, "cpu_per_request": cpu}
    return result


if __name__ == "__main__":
    sys.exit(standalone(sys.modules[__name__]))
