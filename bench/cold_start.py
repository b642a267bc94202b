"""Cold start of the generate_image function: lazy imports (as shipped) vs eager, side by side.

Run: .venv/bin/python bench/cold_start.py [--runs N]

Starts the local stack once for its emulators, then spawns fresh functions-framework processes
for generate_image on free ports, with the same argv and environment as the stack's own
(infra/local/services.py), and times from spawn to:

* port open: gunicorn listens; main.py has been imported (functions-framework imports it in the
  gunicorn master, before it forks the worker);
* /healthz 200: first request; the worker imports the handler module
  (genmedia.handlers.generate_image);
* generate 200: first authenticated POST /v1/images:generate, straight to the function's port
  (Firebase app, Firestore and Storage clients, image provider created on first use).

"eager" runs the same process through ``python -c "import <heavy libraries>; <the
functions-framework CLI>"``, so every heavy client library is imported before functions-framework
loads main.py; product code is unchanged. The variants alternate, after one untimed spawn of each
(warm page cache and .pyc files). Then ``python -X importtime`` shows where the lazy path's
import time goes (one run; importtime adds its own overhead). Prints figures only.
"""

from __future__ import annotations

import argparse
import http.client
import re
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from _common import (
    GENERATE_PATH,
    BenchUser,
    free_port,
    generous_user,
    group_pids,
    local_stack,
    median,
    mib,
    print_context,
    print_load,
    print_table,
    pss_kib,
    status_kib,
)

from infra.local import services
from infra.local.ports import HOST
from infra.local.processes import Child
from infra.local.stack import Stack

FUNCTION = "generate_image"
EAGER_MODULES = (
    "google.cloud.firestore",
    "google.cloud.storage",
    "google.cloud.tasks_v2",
    "firebase_admin",
    "firebase_admin.auth",
    "google.genai",
    "PIL.Image",
)
# What `python -m functions_framework` runs (its __main__.py), preceded by the eager imports.
EAGER_CODE = (
    "import " + ", ".join(EAGER_MODULES) + "; from functions_framework._cli import _cli; "
    "_cli(prog_name='python -m functions_framework')"
)
POLL_S = 0.005
DEADLINE_S = 120.0
MILESTONES = ("port open", "/healthz 200", "generate 200")


@dataclass
class Run:
    port_s: float
    health_s: float
    generate_s: float
    rss_kib: int  # master + worker after the first generate
    pss_kib: int


def function_command(
    stack: Stack, port: int, eager: bool
) -> tuple[list[str], dict[str, str], Path]:
    argv, env, cwd = services.command(stack, f"fn_{FUNCTION}")
    argv[argv.index("--port") + 1] = str(port)
    if eager:
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


def request(port: int, method: str, path: str, headers: dict[str, str], body: bytes) -> int:
    conn = http.client.HTTPConnection(HOST, port, timeout=DEADLINE_S)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def wait_ok(port: int, started: float, method: str, path: str, headers: dict[str, str]) -> float:
    """Retry while the worker is not accepting yet; any answer but 200 is a failure."""
    body = b'{"prompt": "cold start", "count": 1}' if method == "POST" else b""
    if body:
        headers = {**headers, "Content-Type": "application/json"}
    while time.perf_counter() - started < DEADLINE_S:
        try:
            status = request(port, method, path, headers, body)
        except OSError:
            time.sleep(POLL_S)
            continue
        if status != 200:
            raise RuntimeError(f"{method} {path} on port {port} answered {status}")
        return time.perf_counter()
    raise TimeoutError(f"{method} {path} on port {port}: no answer in {DEADLINE_S} s")


def cold_start(stack: Stack, user: BenchUser, eager: bool, label: str) -> Run:
    port = free_port()
    argv, env, cwd = function_command(stack, port, eager)
    log = stack.options.state_dir / "logs" / f"cold-{label}.log"
    child = Child(f"cold-{label}", argv, env=env, cwd=cwd, log=log)
    started = time.perf_counter()
    child.start()
    try:
        port_at = wait_port(port, started)
        health_at = wait_ok(port, started, "GET", "/healthz", {})
        generate_at = wait_ok(port, started, "POST", GENERATE_PATH, user.headers)
        assert child.proc is not None
        pids = group_pids(child.proc.pid)
        rss = sum(status_kib(p).get("VmRSS", 0) for p in pids)
        pss = sum(pss_kib(p) for p in pids)
    except (TimeoutError, RuntimeError):
        print(log.read_text(errors="replace")[-2000:])
        raise
    finally:
        child.stop()
    return Run(port_at - started, health_at - started, generate_at - started, rss, pss)


Entry = tuple[int, int, str]  # cumulative microseconds, nesting depth, module
_IMPORTTIME = re.compile(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)")


def parse_importtime(text: str) -> list[Entry]:
    entries = []
    for line in text.splitlines():
        if match := _IMPORTTIME.match(line):
            entries.append((int(match[1]), (len(match[2]) - 1) // 2, match[3]))
    return entries


def import_main_times(stack: Stack) -> list[Entry]:
    """``python -X importtime -c "import main"`` in the function's directory and environment."""
    argv, env, cwd = services.command(stack, f"fn_{FUNCTION}")
    proc = subprocess.run(
        [argv[0], "-X", "importtime", "-c", "import main"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    entries = parse_importtime(proc.stderr)
    # Drop interpreter start-up (site, encodings): keep the subtree that ends with main.
    end = max(i for i, (_, depth, name) in enumerate(entries) if name == "main" and depth == 0)
    start = end
    while start > 0 and entries[start - 1][1] > 0:
        start -= 1
    return entries[start : end + 1]


def first_request_times(stack: Stack, user: BenchUser) -> list[tuple[float, list[Entry]]]:
    """Imports a lazy worker makes during its first request and its first generate, with each
    request's latency: one spawn with PYTHONPROFILEIMPORTTIME=1, its log cut at each request
    (after a pause that lets the log settle; not part of the timed runs)."""
    port = free_port()
    argv, env, cwd = function_command(stack, port, eager=False)
    env["PYTHONPROFILEIMPORTTIME"] = "1"
    log = stack.options.state_dir / "logs" / "cold-importtime.log"
    child = Child("cold-importtime", argv, env=env, cwd=cwd, log=log)
    started = time.perf_counter()
    child.start()
    marks, took = [], []
    try:
        wait_port(port, started)
        for method, path, headers in (
            ("GET", "/healthz", {}),
            ("POST", GENERATE_PATH, user.headers),
        ):
            time.sleep(0.5)
            marks.append(log.stat().st_size)
            sent = time.perf_counter()
            took.append(wait_ok(port, sent, method, path, headers) - sent)
        time.sleep(0.5)
        marks.append(log.stat().st_size)
    finally:
        child.stop()
    data = log.read_bytes()
    return [
        (took[i], parse_importtime(data[marks[i] : marks[i + 1]].decode(errors="replace")))
        for i in range(2)
    ]


def eager_module_times(stack: Stack) -> list[Entry]:
    """What each eager import costs once main and the handler module are loaded."""
    argv, env, cwd = services.command(stack, f"fn_{FUNCTION}")
    marker = "-- eager --"
    code = (
        f"import sys, main, genmedia.handlers.generate_image; print({marker!r}, file=sys.stderr); "
        + "; ".join(f"import {m}" for m in EAGER_MODULES)
    )
    proc = subprocess.run(
        [argv[0], "-X", "importtime", "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return parse_importtime(proc.stderr.split(marker, 1)[1])


def print_top(title: str, entries: list[Entry], top: int = 10) -> None:
    total = sum(cum for cum, depth, _ in entries if depth == 0) / 1000
    print(
        f"\n{title}: {len(entries)} modules, top-level imports {total:.0f} ms; "
        f"top {top} cumulative (ms)"
    )
    rows = sorted(entries, reverse=True)[:top]
    print_table(
        ["module", "cumulative", "depth"],
        [[name, f"{cum / 1000:.1f}", depth] for cum, depth, name in rows],
    )


def collect_import_times(stack: Stack, user: BenchUser) -> dict[str, list[Entry]]:
    (health_s, health), (generate_s, generate) = first_request_times(stack, user)
    return {
        'python -X importtime -c "import main" (gunicorn master, at start)': import_main_times(
            stack
        ),
        f"worker, first request (GET /healthz took {health_s * 1000:.0f} ms)": health,
        f"worker, first POST /v1/images:generate (took {generate_s * 1000:.0f} ms)": generate,
        "eager": [e for e in eager_module_times(stack) if e[1] == 0],
    }


def print_import_times(profile: dict[str, list[Entry]]) -> None:
    print(
        "\nimport times, lazy path (-X importtime, one run each; it adds its own overhead;"
        "\nmodules imported inside an entry point's body show at depth 0)"
    )
    for title, entries in profile.items():
        if title != "eager":
            print_top(title, entries)
    print("\neager list, each imported after main and the handler module (ms):")
    costs = {name: f"{cum / 1000:.0f}" for cum, _, name in profile["eager"]}
    print("  " + ", ".join(f"{m} {costs.get(m, '0 (already loaded)')}" for m in EAGER_MODULES))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed spawns per variant")
    args = parser.parse_args()
    print_context(f"cold start: {FUNCTION}, lazy (as shipped) vs eager client imports")
    started = time.perf_counter()
    runs: dict[str, list[Run]] = {"lazy": [], "eager": []}
    with local_stack() as stack:
        user = generous_user(stack, images_per_day=1000)
        for variant in runs:  # untimed: warm page cache and .pyc files
            cold_start(stack, user, variant == "eager", f"{variant}-warmup")
        for index in range(args.runs):
            for variant, results in runs.items():
                results.append(cold_start(stack, user, variant == "eager", f"{variant}-{index}"))
        profile = collect_import_times(stack, user)

    print(f"\nseconds from spawn, {args.runs} spawns per variant, variants alternating")
    header = ["variant"]
    for milestone in MILESTONES:
        header += [f"{milestone} median", "max"]
    header += ["RSS MiB", "PSS MiB"]
    rows: list[list[object] | None] = []
    for variant, results in runs.items():
        columns = [
            [r.port_s for r in results],
            [r.health_s for r in results],
            [r.generate_s for r in results],
        ]
        row: list[object] = [variant]
        for values in columns:
            row += [f"{median(values):.2f}", f"{max(values):.2f}"]
        row += [
            mib(median([r.rss_kib for r in results])),
            mib(median([r.pss_kib for r in results])),
        ]
        rows.append(row)
    lazy, eager = runs["lazy"], runs["eager"]
    delta: list[object] = ["eager - lazy"]
    for attr in ("port_s", "health_s", "generate_s"):
        diff = median([getattr(r, attr) for r in eager]) - median([getattr(r, attr) for r in lazy])
        delta += [f"{diff:+.2f}", ""]
    delta += [
        f"{(median([r.rss_kib for r in eager]) - median([r.rss_kib for r in lazy])) / 1024:+.1f}",
        f"{(median([r.pss_kib for r in eager]) - median([r.pss_kib for r in lazy])) / 1024:+.1f}",
    ]
    rows += [None, delta]
    print_table(header, rows)
    print("RSS/PSS: master + worker after the first generate (medians)")
    print("each run, seconds (port open / healthz / generate):")
    for variant, results in runs.items():
        cells = [f"{r.port_s:.2f}/{r.health_s:.2f}/{r.generate_s:.2f}" for r in results]
        print(f"  {variant:<6}" + "  ".join(cells))
    print_import_times(profile)
    print(f"\ntotal run time {time.perf_counter() - started:.0f} s")
    print_load()


if __name__ == "__main__":
    main()
