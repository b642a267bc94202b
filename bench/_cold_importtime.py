"""Where generate_image's lazy cold start spends its import time (``-X importtime``), for
cold_start.py: ``import main`` as the gunicorn master does, the imports a worker makes during
its first request and its first generate (one spawn with PYTHONPROFILEIMPORTTIME=1, its log
cut at each request), and what each eager import costs once main and the handler module are
loaded. One run each; importtime adds its own overhead. Modules imported inside an entry
point's body show at depth 0.
"""

from __future__ import annotations

import re
import subprocess
import time
from typing import TYPE_CHECKING

from _cold_endpoints import Callers, Endpoint, endpoint
from _common import free_port
from _report import Table

from infra.local.processes import Child
from infra.local.stack import Stack

if TYPE_CHECKING:
    from cold_start import Product

FUNCTION = "generate_image"
Entry = tuple[int, int, str]  # cumulative microseconds, nesting depth, module
_IMPORTTIME = re.compile(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)")
TOP = 10


def parse_importtime(text: str) -> list[Entry]:
    entries = []
    for line in text.splitlines():
        if match := _IMPORTTIME.match(line):
            entries.append((int(match[1]), (len(match[2]) - 1) // 2, match[3]))
    return entries


def import_main_times(stack: Stack, product: Product) -> list[Entry]:
    """``python -X importtime -c "import main"`` in the function's directory and environment."""
    argv, env, cwd = product.command(stack, FUNCTION)
    proc = subprocess.run(
        [argv[0], "-X", "importtime", "-c", "import main"],
        cwd=cwd, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    entries = parse_importtime(proc.stderr)
    # Drop interpreter start-up (site, encodings): keep the subtree that ends with main.
    end = max(i for i, (_, depth, name) in enumerate(entries) if name == "main" and depth == 0)
    start = end
    while start > 0 and entries[start - 1][1] > 0:
        start -= 1
    return entries[start : end + 1]


def first_request_times(
    stack: Stack, ep: Endpoint, product: Product
) -> list[tuple[float, list[Entry]]]:
    """Imports of the first ``/healthz`` and the first generate, with each one's latency (a
    pause before each lets the log settle; not part of the timed runs)."""
    from cold_start import function_command, wait_ok, wait_port

    port = free_port()
    argv, env, cwd = function_command(stack, FUNCTION, port, "lazy", product)
    env["PYTHONPROFILEIMPORTTIME"] = "1"
    log = stack.options.state_dir / "logs" / "cold-importtime.log"
    child = Child("cold-importtime", argv, env=env, cwd=cwd, log=log)
    started = time.perf_counter()
    child.start()
    marks, took = [], []
    try:
        wait_port(port, started)
        for request in (None, ep):
            time.sleep(0.5)
            marks.append(log.stat().st_size)
            sent = time.perf_counter()
            took.append(wait_ok(port, sent, request) - sent)
        time.sleep(0.5)
        marks.append(log.stat().st_size)
    finally:
        child.stop()
    data = log.read_bytes()
    return [
        (took[i], parse_importtime(data[marks[i] : marks[i + 1]].decode(errors="replace")))
        for i in range(2)
    ]


def eager_module_times(stack: Stack, modules: tuple[str, ...], product: Product) -> list[Entry]:
    """What each eager import costs once main and the handler module are loaded."""
    argv, env, cwd = product.command(stack, FUNCTION)
    marker = "-- eager --"
    code = (
        f"import sys, main, genmedia.handlers.{FUNCTION}; print({marker!r}, file=sys.stderr); "
        + "; ".join(f"import {m}" for m in modules)
    )
    proc = subprocess.run(
        [argv[0], "-X", "importtime", "-c", code],
        cwd=cwd, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return parse_importtime(proc.stderr.split(marker, 1)[1])


def top_table(title: str, entries: list[Entry]) -> Table:
    total = sum(cum for cum, depth, _ in entries if depth == 0) / 1000
    top = sorted(entries, reverse=True)[:TOP]
    rows: list[list[object] | None] = [[name, f"{cum / 1000:.1f}", d] for cum, d, name in top]
    return Table(
        f"{title}: {len(entries)} modules, top-level imports {total:.0f} ms",
        ["module", "cumulative ms", "depth"],
        rows,
    )


def import_time_tables(stack: Stack, callers: Callers, product: Product) -> list[Table]:
    from cold_start import EAGER_MODULES

    ep = endpoint(FUNCTION, callers)
    (health_s, health), (generate_s, generate) = first_request_times(stack, ep, product)
    eager = [e for e in eager_module_times(stack, EAGER_MODULES, product) if e[1] == 0]
    costs = {name: f"{cum / 1000:.0f}" for cum, _, name in eager}
    return [
        top_table(
            f'{FUNCTION}: python -X importtime -c "import main" (gunicorn master, at start)',
            import_main_times(stack, product),
        ),
        top_table(f"{FUNCTION} worker, first GET /healthz (took {health_s * 1000:.0f} ms)", health),
        top_table(
            f"{FUNCTION} worker, first {ep.label} (took {generate_s * 1000:.0f} ms)", generate
        ),
        Table(
            f"{FUNCTION}: each eager import after main and the handler module",
            ["module", "ms"],
            [[m, costs.get(m, "0 (already loaded)")] for m in EAGER_MODULES],
        ),
    ]
