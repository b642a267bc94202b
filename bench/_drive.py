"""Running a block of requests through the load driver and summarising what clients saw.

Shared by the load and soak scenarios: ``drive`` hands a request list to ``_client.py`` in its
own process and reads every process's CPU around it; ``summary`` turns the per-request results
into the latency and outcome figures the tables print.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import percentile
from _sampling import cpu_delta, snapshot

from infra.local.stack import Stack

CLIENT = Path(__file__).with_name("_client.py")


@dataclass
class Block:
    results: list[dict[str, Any]]
    wall_s: float
    cpu_s: dict[str, float]  # process label -> CPU seconds used during the block


def drive(
    stack: Stack | None, requests: list[dict[str, Any]], clients: int, rate: float | None = None
) -> Block:
    before = snapshot(stack) if stack else {}
    plan = json.dumps({"clients": clients, "rate": rate, "requests": requests})
    proc = subprocess.run(
        [sys.executable, str(CLIENT)], input=plan, capture_output=True, text=True, check=True
    )
    after = snapshot(stack) if stack else {}
    results = json.loads(proc.stdout)["results"]
    ends = [r["t"] + r["latency"] for r in results]
    return Block(results, max(ends, default=0.0), cpu_delta(before, after))


def outcome(result: dict[str, Any]) -> str:
    if result["status"] == 0:
        return result.get("error", "transport error")
    code = result.get("code")
    return f"{result['status']} {code}" if code else str(result["status"])


def summary(results: Iterable[dict[str, Any]], wall_s: float) -> dict[str, Any]:
    results = list(results)
    latencies = [r["latency"] * 1000 for r in results]
    outcomes = Counter(outcome(r) for r in results)
    return {
        "requests": len(results),
        "req_per_s": len(results) / wall_s if wall_s else 0.0,
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
        "max_ms": max(latencies, default=float("nan")),
        "outcomes": dict(outcomes.most_common()),
        "server_errors": sum(1 for r in results if r["status"] >= 500 or r["status"] == 0),
    }


COLUMNS = ["block", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "outcomes"]


def row(label: str, figures: dict[str, Any]) -> list[object]:
    outcomes = ", ".join(f"{k}: {v}" for k, v in figures["outcomes"].items())
    return [
        label, figures["requests"], round(figures["req_per_s"], 1),
        round(figures["p50_ms"], 1), round(figures["p95_ms"], 1),
        round(figures["p99_ms"], 1), round(figures["max_ms"], 1), outcomes,
    ]  # fmt: skip


def latency_over_time(
    results: Iterable[dict[str, Any]], window_s: float = 1.0
) -> dict[str, list[tuple[float, float]]]:
    """p50 and p95 per window of send time, in milliseconds."""
    windows: dict[int, list[float]] = {}
    for r in results:
        windows.setdefault(int(r["t"] // window_s), []).append(r["latency"] * 1000)
    lines: dict[str, list[tuple[float, float]]] = {"p50": [], "p95": []}
    for index in sorted(windows):
        lines["p50"].append((index * window_s, percentile(windows[index], 50)))
        lines["p95"].append((index * window_s, percentile(windows[index], 95)))
    return lines
