"""`make bench`: every scenario, each on fresh local stacks, into one results file.

Run: .venv/bin/python bench/run.py [--only load,soak] [-o soak:--duration=120] [--out DIR]

Writes ``<out>/<date>-<commit>.json`` (every table, check, series and raw figure), a Markdown
summary ``<date>-<commit>.md`` with a table per scenario and its checks, and the PNG plots
beside it. A scenario that crashes is recorded as a failed check and the run goes on. Exits 1
when any expected behaviour failed (a missed target included), 0 otherwise.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import platform
import sys
import traceback
from pathlib import Path
from typing import Any

from _common import ROOT, print_context, revision
from _report import Check, ScenarioResult, check_mark, markdown, plot, print_result, to_json

SCENARIOS = ("cold_start", "load", "memory", "cost", "faults", "soak")


def _options(module: Any, overrides: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"bench/{module.__name__}.py")
    module.add_arguments(parser)
    prefix = module.NAME + ":"
    return parser.parse_args([o.removeprefix(prefix) for o in overrides if o.startswith(prefix)])


def _run_one(name: str, overrides: list[str]) -> ScenarioResult:
    module = importlib.import_module(name)
    print_context(f"{module.NAME}")
    try:
        result: ScenarioResult = module.run(_options(module, overrides))
    except Exception as exc:
        traceback.print_exc()
        result = ScenarioResult(module.NAME)
        result.checks.append(Check("the scenario ran to its end", False, repr(exc)))
    print_result(result)
    return result


def _summary(results: list[ScenarioResult]) -> list[str]:
    lines = ["| scenario | passed | failed | known gaps |", "|---|---|---|---|"]
    for r in results:
        marks = [check_mark(c) for c in r.checks]
        lines.append(
            f"| {r.name} | {marks.count('PASS')} | {marks.count('FAIL')} | {marks.count('GAP')} |"
        )
    return lines


def write(results: list[ScenarioResult], out: Path, header: dict[str, Any]) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{header['date']}-{header['commit'].split()[0]}"
    md = [f"# make bench: {header['date']}, commit {header['commit']}", ""]
    md += [f"{header['machine']}", "", *_summary(results), ""]
    for result in results:
        plots = [
            plot(series, out / f"{stem}-{result.name}-{i}.png")
            for i, series in enumerate(result.series, 1)
        ]
        md.append(markdown(result, plots))
    (out / f"{stem}.md").write_text("\n".join(md))
    document = {**header, "scenarios": {r.name: to_json(r) for r in results}}
    (out / f"{stem}.json").write_text(json.dumps(document, indent=1, default=str))
    return out / f"{stem}.md"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated scenarios")
    parser.add_argument("-o", dest="overrides", action="append", default=[], metavar="NAME:OPT")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    chosen = [s for s in args.only.split(",") if s]
    unknown = sorted(set(chosen) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenarios {unknown}; there are {list(SCENARIOS)}")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    header = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d"),
        "commit": revision(),
        "machine": f"{os.cpu_count()} cores; load average at start {load}; "
        f"Python {platform.python_version()} on {platform.system()} {platform.release()}",
    }
    results = [_run_one(name, args.overrides) for name in chosen]
    summary = write(results, args.out, header)
    failed = [(r.name, c) for r in results for c in r.checks if c.ok is False]
    print(f"\nresults: {summary} (and .json); {len(failed)} failed expectations")
    for name, check in failed:
        print(f"FAIL {name}: {check.claim}: {check.detail}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
