"""Cold start of every function: lazy imports (as shipped) vs eager, side by side.

Run: .venv/bin/python bench/cold_start.py [--runs N] [--functions a,b] [--before REF]

Starts the local stack once for its emulators, then spawns fresh functions-framework processes
for each function the stack runs, on free ports, with the same argv and environment as the
stack's own (infra/local/services.py), and times from spawn to:

* port open: gunicorn listens; main.py has been imported (functions-framework imports it in the
  gunicorn master, before it forks the worker);
* /healthz 200: first request; the worker imports the function's handler module (event
  functions have no /healthz);
* main 2xx: the first request to the function's main endpoint with its real caller's
  credentials, straight to the function's port (bench/_cold_endpoints.py: a Firebase ID token,
  a Cloud Tasks OIDC token minted by the Tasks emulator, or a Pub/Sub CloudEvent).

"eager" runs the same process through ``python -c "import <heavy libraries>; <the
functions-framework CLI>"``, so every heavy client library is imported before functions-framework
loads main.py; product code is unchanged. ``--before REF`` adds a third variant: the lazy
product as of git REF (its functions/ extracted to a temp dir), to compare a change in one run;
``--lazy-ref REF`` takes lazy and eager from REF instead of the working tree.
The variants alternate, after one untimed spawn of each (warm page cache and .pyc files). CPU
is the process group's user + system time at the main answer (it moves less with the machine's
load than wall time). Then ``python -X importtime`` shows where generate_image's lazy path
spends its import time (one run; importtime adds its own overhead).
"""

from __future__ import annotations

import argparse
import http.client
import io
import math
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from _cold_endpoints import Callers, Endpoint, endpoint, prepare
from _cold_importtime import import_time_tables
from _cold_stage_child import EAGER
from _common import (
    ROOT,
    cpu_seconds,
    free_port,
    group_pids,
    local_stack,
    median,
    pss_kib,
    status_kib,
)
from _report import Check, ScenarioResult, Table, standalone

from infra.local import services
from infra.local.ports import HOST
from infra.local.processes import Child
from infra.local.stack import Stack

NAME = "cold_start"
# The eager baseline's imports: one table, kept where the stage child (which must import
# nothing else) can read it.
EAGER_MODULES = EAGER
# What `python -m functions_framework` runs (its __main__.py), preceded by the eager imports.
EAGER_CODE = (
    "import " + ", ".join(EAGER_MODULES) + "; from functions_framework._cli import _cli; "
    "_cli(prog_name='python -m functions_framework')"
)
TARGET_RATIO = 0.5  # first main answer, lazy / eager (issue 13)
POLL_S = 0.005
DEADLINE_S = 120.0


@dataclass
class Run:
    port_s: float
    health_s: float  # nan: no /healthz (event functions)
    main_s: float
    cpu_s: float  # the process group's CPU at the main answer
    rss_kib: int  # master + worker after the main answer
    pss_kib: int


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=3, help="timed spawns per function, variant")
    parser.add_argument(
        "--functions", default="", help="comma-separated functions (default: all the stack runs)"
    )
    parser.add_argument(
        "--before", default="", help="also spawn the lazy product as of this git ref"
    )
    parser.add_argument(
        "--lazy-ref", default="", help="spawn the lazy product as of this git ref, not the tree"
    )
    parser.add_argument("--no-importtime", action="store_true", help="skip the -X importtime part")
    parser.add_argument(
        "--python",
        default="",
        help="interpreter of the function processes, e.g. a venv with only requirements.txt",
    )


@dataclass(frozen=True)
class Product:
    """Where the spawned functions' code and interpreter come from."""

    sources: dict[str, Path]  # variant -> functions/ directory, when not the working tree's
    python: str = ""  # "" = the stack's own (the dev venv, with the test tools installed)

    def command(self, stack: Stack, function: str) -> tuple[list[str], dict[str, str], Path]:
        argv, env, cwd = services.command(stack, f"fn_{function}")
        if self.python:
            argv[0] = self.python
        return argv, env, cwd


def function_command(
    stack: Stack, function: str, port: int, variant: str, product: Product
) -> tuple[list[str], dict[str, str], Path]:
    argv, env, cwd = product.command(stack, function)
    argv[argv.index("--port") + 1] = str(port)
    sources = product.sources
    if variant in sources:
        cwd = sources[variant]
        argv[argv.index("--source") + 1] = str(cwd / "main.py")
    if variant == "eager":
        if argv[1:3] != ["-m", "functions_framework"]:
            raise RuntimeError(f"unexpected function command line: {argv}")
        argv = [argv[0], "-c", EAGER_CODE, *argv[3:]]
    return argv, env, cwd


def wait_port(port: int, started: float) -> float:
    while time.perf_counter() - started < DEADLINE_S:
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return time.perf_counter()
        except OSError:
            time.sleep(POLL_S)
    raise TimeoutError(f"port {port} did not open")


def send(port: int, method: str, path: str, headers: dict[str, str], body: bytes) -> int:
    conn = http.client.HTTPConnection(HOST, port, timeout=DEADLINE_S)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def wait_ok(port: int, started: float, ep: Endpoint | None) -> float:
    """Retry while the worker is not accepting yet; any other answer than expected fails.
    ``ep`` None: ``GET /healthz``."""
    method, path = ("GET", "/healthz") if ep is None else (ep.method, ep.path)
    status = 200 if ep is None else ep.status
    headers = {} if ep is None else ep.request_headers()
    body = b"" if ep is None else ep.request_body()
    while time.perf_counter() - started < DEADLINE_S:
        try:
            got = send(port, method, path, headers, body)
        except OSError:
            time.sleep(POLL_S)
            continue
        if got != status:
            raise RuntimeError(f"{method} {path} on port {port} answered {got}")
        return time.perf_counter()
    raise TimeoutError(f"{method} {path} on port {port}: no answer in {DEADLINE_S} s")


def cold_start(stack: Stack, ep: Endpoint, variant: str, label: str, product: Product) -> Run:
    port = free_port()
    argv, env, cwd = function_command(stack, ep.function, port, variant, product)
    log = stack.options.state_dir / "logs" / f"cold-{ep.function}-{label}.log"
    child = Child(f"cold-{label}", argv, env=env, cwd=cwd, log=log)
    started = time.perf_counter()
    child.start()
    try:
        port_at = wait_port(port, started)
        health_at = wait_ok(port, started, None) if ep.has_healthz else math.nan
        main_at = wait_ok(port, started, ep)
        assert child.proc is not None
        pids = group_pids(child.proc.pid)
        cpu = cpu_seconds(pids)
        rss = sum(status_kib(p).get("VmRSS", 0) for p in pids)
        pss = sum(pss_kib(p) for p in pids)
    except (TimeoutError, RuntimeError) as exc:
        raise RuntimeError(f"{exc}; log tail: {log.read_text(errors='replace')[-600:]}") from exc
    finally:
        child.stop()
    return Run(port_at - started, health_at - started, main_at - started, cpu, rss, pss)


def extract(ref: str, into: Path) -> Path:
    """``functions/`` as of ``ref``, extracted with ``git archive`` (no worktree)."""
    into.mkdir()
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref, "functions"], cwd=ROOT, capture_output=True,
        check=True,
    )  # fmt: skip
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into / "functions"


def measure(
    stack: Stack, callers: Callers, functions: list[str], variants: list[str], runs: int,
    product: Product,
) -> tuple[dict[str, dict[str, list[Run]]], dict[str, str]]:  # fmt: skip
    results: dict[str, dict[str, list[Run]]] = {}
    failures: dict[str, str] = {}
    for function in functions:
        ep = endpoint(function, callers)
        per = results[function] = {v: [] for v in variants}
        print(f"{function}: {ep.label} ({ep.auth})", flush=True)
        try:
            for variant in variants:  # untimed: warm page cache and .pyc files
                cold_start(stack, ep, variant, f"{variant}-warmup", product)
            for index in range(runs):
                for variant in variants:
                    run = cold_start(stack, ep, variant, f"{variant}-{index}", product)
                    per[variant].append(run)
        except RuntimeError as exc:
            failures[function] = str(exc)
            print(f"  failed: {exc}", flush=True)
    return results, failures


def _med(runs: list[Run], attr: str) -> float:
    values = [getattr(r, attr) for r in runs]
    return math.nan if not values else median(values)


def _cell(value: float, scale: float = 1.0) -> str:
    return "-" if math.isnan(value) else f"{value / scale:.2f}"


def timing_table(results: dict[str, dict[str, list[Run]]], variants: list[str], runs: int) -> Table:
    columns = ["function"]
    for v in variants:
        columns += [f"{v} port", f"{v} /healthz", f"{v} main"]
    columns += ["lazy/eager main", "lazy/eager CPU"]
    if "before" in variants:
        columns += ["lazy/before main"]
    rows: list[list[object] | None] = []
    for function, per in results.items():
        if not all(per[v] for v in variants):
            continue
        row: list[object] = [function]
        for v in variants:
            row += [_cell(_med(per[v], a)) for a in ("port_s", "health_s", "main_s")]
        row += [
            f"{_med(per['lazy'], 'main_s') / _med(per['eager'], 'main_s'):.2f}x",
            f"{_med(per['lazy'], 'cpu_s') / _med(per['eager'], 'cpu_s'):.2f}x",
        ]
        if "before" in variants:
            row.append(f"{_med(per['lazy'], 'main_s') / _med(per['before'], 'main_s'):.2f}x")
        rows.append(row)
    return Table(
        f"seconds from spawn to each answer (median of {runs} spawns, variants alternating)",
        columns,
        rows,
        "main = the first answer of the function's main endpoint (table below); - = no /healthz;"
        " CPU = the process group's user + system seconds at that answer.",
    )


def memory_table(results: dict[str, dict[str, list[Run]]], variants: list[str]) -> Table:
    columns = ["function"] + [f"{v} {m}" for v in variants for m in ("CPU s", "RSS MiB", "PSS MiB")]
    rows: list[list[object] | None] = []
    for function, per in results.items():
        if all(per[v] for v in variants):
            row: list[object] = [function]
            for v in variants:
                row += [
                    _cell(_med(per[v], "cpu_s")),
                    _cell(_med(per[v], "rss_kib"), 1024),
                    _cell(_med(per[v], "pss_kib"), 1024),
                ]
            rows.append(row)
    return Table(
        "CPU seconds and memory at the first main answer (medians; master + worker)", columns, rows
    )


def endpoint_table(callers: Callers, functions: list[str]) -> Table:
    rows: list[list[object] | None] = []
    for function in functions:
        ep = endpoint(function, callers)
        rows.append([function, ep.label.split("?")[0], ep.auth, ep.status])
    return Table("main endpoints", ["function", "request", "caller", "expected status"], rows)


def checks(results: dict[str, dict[str, list[Run]]], failures: dict[str, str]) -> list[Check]:
    out = []
    for function, per in results.items():
        claim = f"{function}: first main answer at most {TARGET_RATIO}x the eager baseline"
        if function in failures:
            out.append(Check(claim, False, f"a spawn failed: {failures[function][:300]}"))
            continue
        lazy, eager = _med(per["lazy"], "main_s"), _med(per["eager"], "main_s")
        cpu = _med(per["lazy"], "cpu_s") / _med(per["eager"], "cpu_s")
        detail = f"lazy {lazy:.2f} s, eager {eager:.2f} s: {lazy / eager:.2f}x (CPU {cpu:.2f}x)"
        out.append(Check(claim, lazy / eager <= TARGET_RATIO, detail))
    return out


def run(args: argparse.Namespace) -> ScenarioResult:
    variants = ["lazy", "eager"] + (["before"] if args.before else [])
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="genmedia-cold-") as tmp, local_stack() as stack:
        refs = {"before": args.before, "lazy": args.lazy_ref, "eager": args.lazy_ref}
        sources = {v: extract(ref, Path(tmp) / v) for v, ref in refs.items() if ref}
        product = Product(sources, args.python)
        functions = [f for f in args.functions.split(",") if f] or list(stack.function_names)
        callers = prepare(stack, functions)
        results, failures = measure(stack, callers, functions, variants, args.runs, product)
        profile = [] if args.no_importtime else import_time_tables(stack, callers, product)
    tables = [
        timing_table(results, variants, args.runs),
        memory_table(results, variants),
        endpoint_table(callers, functions),
        *profile,
    ]
    figures = {
        "runs": {
            f: {v: [asdict(r) for r in rs] for v, rs in per.items()} for f, per in results.items()
        },
        "failures": failures,
        "eager_modules": list(EAGER_MODULES),
        "before": args.before,
        "lazy_ref": args.lazy_ref or "working tree",
        "python": args.python or "the stack's own",
        "seconds": round(time.perf_counter() - started, 1),
    }
    return ScenarioResult(NAME, tables, checks(results, failures), [], figures)


if __name__ == "__main__":
    sys.exit(standalone(sys.modules[__name__]))
