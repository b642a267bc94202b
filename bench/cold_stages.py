"""Where a cold instance's CPU goes, stage by stage, lazy (as shipped) vs eager.

Run: .venv/bin/python bench/cold_stages.py [--functions a,b] [--runs N] [--python PATH]

cold_start.py times real functions-framework processes (gunicorn master and worker), whose
wall times on the shared 2-core machine move by seconds. This measures the same cold start in
one process per spawn (bench/_cold_stage_child.py: ``import main``, functions-framework's
app, the first /healthz and the first main request through Flask's test client, against one
local stack's emulators) and reports the process's own CPU seconds per stage, the garbage
collector's share and the modules each stage loaded: steadier figures, and the split between
the framework, the handler module, the client libraries and the request's own work. Variants
alternate; medians of ``--runs`` spawns.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from typing import Any

from _cold_endpoints import endpoint, prepare
from _common import ROOT, local_stack, median
from _report import ScenarioResult, Table, standalone

from infra.local import services

NAME = "cold_stages"
CHILD = ROOT / "bench" / "_cold_stage_child.py"
FUNCTIONS = ROOT / "functions"
VARIANTS = ("lazy", "eager")
Stages = list[dict[str, Any]]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--functions", default="library,generate_image")
    parser.add_argument("--runs", type=int, default=5, help="spawns per function and variant")
    parser.add_argument("--python", default="", help="interpreter (default: the stack's own)")


def spawn(argv0: str, env: dict[str, str], spec: dict[str, Any]) -> Stages:
    proc = subprocess.run(
        [argv0, str(CHILD), json.dumps(spec)],
        cwd=FUNCTIONS, env={**env, "PYTHONPATH": str(FUNCTIONS)}, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"{spec['function']} ({spec['eager']=}): {proc.stderr[-800:]}")
    stages: Stages = json.loads(proc.stdout.strip().splitlines()[-1])
    return stages


def table(function: str, runs: dict[str, list[Stages]]) -> Table:
    rows: list[list[object] | None] = []
    for variant in VARIANTS:
        names = [s["stage"] for s in runs[variant][0]]
        for i, name in enumerate(names):
            cpu, collected = [], []
            for stages in runs[variant]:
                before = stages[i - 1] if i else {"cpu": 0.0, "gc": 0.0}
                cpu.append(stages[i]["cpu"] - before["cpu"])
                collected.append(stages[i]["gc"] - before["gc"])
            modules = runs[variant][0][i]["modules"]
            rows.append([variant, name, f"{median(cpu):.3f}", f"{median(collected):.3f}", modules])
        total = median([stages[-1]["cpu"] for stages in runs[variant]])
        rows += [[variant, "total", f"{total:.3f}", "", ""], None]
    return Table(
        f"{function}: CPU seconds per stage of a cold start (median of {len(runs['lazy'])})",
        ["variant", "stage", "CPU s", "of which gc s", "modules loaded"],
        rows,
    )


def run(args: argparse.Namespace) -> ScenarioResult:
    functions = [f for f in args.functions.split(",") if f]
    results: dict[str, dict[str, list[Stages]]] = {f: {v: [] for v in VARIANTS} for f in functions}
    with local_stack() as stack:
        callers = prepare(stack, functions)
        for _ in range(args.runs):
            for function in functions:
                ep = endpoint(function, callers)
                argv, env, _cwd = services.command(stack, f"fn_{function}")
                for variant in VARIANTS:
                    spec = {
                        "function": function, "method": ep.method, "path": ep.path,
                        "headers": ep.request_headers(), "body": ep.request_body().decode(),
                        "status": ep.status, "healthz": ep.has_healthz,
                        "eager": variant == "eager",
                    }  # fmt: skip
                    stages = spawn(args.python or argv[0], env, spec)
                    results[function][variant].append(stages)
    tables = [table(f, per) for f, per in results.items()]
    return ScenarioResult(NAME, tables, [], [], {"runs": results, "python": args.python})


if __name__ == "__main__":
    sys.exit(standalone(sys.modules[__name__]))
