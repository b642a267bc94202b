"""What a `make bench` scenario returns, and how the run turns it into JSON, Markdown and plots.

A scenario is a module of ``bench/`` with ``NAME`` (a short id such as ``"load"``), an
``add_arguments(parser)`` for its options and ``run(args) -> ScenarioResult``. It starts its own
fresh local stack (``_common.local_stack``), measures its baseline in the same run, and reports:
tables (printed and written as Markdown), checks (each expected behaviour, asserted and
printed: ``ok`` True or False, or None for a known gap reported rather than failed), series
(one PNG plot each: a line per label over seconds since the scenario began) and ``figures``
(the raw numbers, kept in the JSON). ``standalone(module)`` runs one scenario on its own.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from _common import print_context, print_load, print_table


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[object] | None]  # None: a rule between groups of rows
    note: str = ""


@dataclass
class Check:
    claim: str  # the behaviour expected, in a user's words
    ok: bool | None  # None: a known gap, reported and not counted as a failure
    detail: str = ""


@dataclass
class Series:
    title: str
    y_label: str
    lines: dict[str, list[tuple[float, float]]]  # label -> (seconds since start, value)


@dataclass
class ScenarioResult:
    name: str
    tables: list[Table] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.ok is False]


def check_mark(check: Check) -> str:
    return {True: "PASS", False: "FAIL", None: "GAP"}[check.ok]


def print_result(result: ScenarioResult) -> None:
    for table in result.tables:
        print(f"\n-- {table.title} --")
        print_table(table.columns, table.rows)
        if table.note:
            print(table.note)
    if result.checks:
        print(f"\n-- {result.name}: expected behaviour --")
        for check in result.checks:
            detail = f": {check.detail}" if check.detail else ""
            print(f"{check_mark(check):4}  {check.claim}{detail}")


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.2f}"
    return str(value).replace("|", "\\|")


def markdown(result: ScenarioResult, plots: Sequence[Path] = ()) -> str:
    lines = [f"## {result.name}", ""]
    for table in result.tables:
        lines += [f"### {table.title}", "", "| " + " | ".join(table.columns) + " |"]
        lines.append("|" + "---|" * len(table.columns))
        lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows if row]
        lines += [""] + ([table.note, ""] if table.note else [])
    if result.checks:
        lines += ["### Expected behaviour", ""]
        for check in result.checks:
            detail = f": {check.detail}" if check.detail else ""
            lines.append(f"- **{check_mark(check)}** {check.claim}{detail}")
        lines.append("")
    lines += [f"![{p.stem}]({p.name})" for p in plots] + ([""] if plots else [])
    return "\n".join(lines)


def plot(series: Series, path: Path) -> Path:
    import matplotlib  # only a full run draws: keep it out of the scenarios' imports

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    many = len(series.lines) > 6
    fig, ax = plt.subplots(figsize=(12 if many else 9, 4.5))
    for label, points in series.lines.items():
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, label=label, linewidth=1)
    ax.set(title=series.title, xlabel="seconds", ylabel=series.y_label)
    ax.grid(alpha=0.3)
    if many:  # outside the axes, so no line hides behind it
        ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1), ncol=2)
    elif len(series.lines) > 1:
        ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def to_json(result: ScenarioResult) -> dict[str, Any]:
    return asdict(result)


def standalone(module: ModuleType) -> int:
    """``python bench/<scenario>.py [options]``: run one scenario and print it."""
    parser = argparse.ArgumentParser(description=module.__doc__)
    module.add_arguments(parser)
    args = parser.parse_args()
    print_context(module.NAME)
    result: ScenarioResult = module.run(args)
    print_result(result)
    print_load()
    return 1 if result.failed else 0
