"""Soak: a steady mixed rate for minutes, watching every process for growth and every error.

Run: .venv/bin/python bench/soak.py [--duration 600 --rate 25 --interval 5]

One fresh local stack; the load driver sends ``--rate`` requests/s (open loop: a slow answer does
not slow the sending) for ``--duration`` seconds: new generations, idempotent replays,
:signUrl, library pages and usage. Every ``--interval`` seconds the RSS, open file descriptors
and threads of every process are read from /proc. Growth compares the last quarter of the
samples after ``--warmup`` with the first quarter (medians: a function's RSS swings with the
images in flight at the sampled moment); the goal is under 10% for every function and the
gateway (the emulators keep the data in memory and grow with it).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import uuid
from typing import Any

import requests
from _common import gateway_url, generous_user, local_stack, server_errors
from _drive import COLUMNS, drive, latency_over_time, outcome, row, summary
from _report import Check, ScenarioResult, Series, Table, standalone
from _sampling import Reading, Sampler

from infra.local.stack import Stack

NAME = "soak"
GROWTH_GOAL = 0.10
EMULATORS = {"auth", "firestore", "storage", "tasks", "pubsub"}
# One slot per request type in every round of the mix; generations are the rarest.
MIX = ("library page", "usage", "replay", "signUrl", "library page", "usage", "replay", "new")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--duration", type=float, default=600.0, help="seconds")
    parser.add_argument("--rate", type=float, default=25.0, help="requests per second")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds before the base")
    parser.add_argument("--clients", type=int, default=32)


def _plan(stack: Stack, total: int) -> list[dict[str, Any]]:
    base, user = gateway_url(stack), generous_user(stack)
    replay = {**user.headers, "Idempotency-Key": uuid.uuid4().hex}
    body = {"prompt": "a lighthouse at dusk", "count": 1}
    first = requests.post(f"{base}/v1/images:generate", json=body, headers=replay, timeout=60)
    first.raise_for_status()
    asset = first.json()["assets"][0]["id"]
    specs = {
        "library page": {"method": "GET", "url": f"{base}/v1/assets?page_size=20"},
        "usage": {"method": "GET", "url": f"{base}/v1/usage"},
        "replay": {"method": "POST", "url": f"{base}/v1/images:generate", "json": body},
        "signUrl": {"method": "POST", "url": f"{base}/v1/assets/{asset}:signUrl", "json": {}},
        "new": {"method": "POST", "url": f"{base}/v1/images:generate", "json": body},
    }
    plan = []
    for i in range(total):
        tag = MIX[i % len(MIX)]
        headers = replay if tag == "replay" else dict(user.headers)
        if tag == "new":
            headers["Idempotency-Key"] = uuid.uuid4().hex
        plan.append({**specs[tag], "headers": headers, "tag": tag})
    return plan


def _mean(readings: list[dict[str, Reading]], label: str, metric: str) -> float:
    # The median: a function's RSS swings with the images in flight at the sampled moment.
    return statistics.median(getattr(r[label], metric) for r in readings if label in r)


def growth_table(sampler: Sampler, warmup: float) -> tuple[Table, dict[str, dict[str, float]]]:
    samples = sampler.samples
    steady = [r for t, r in samples if t >= warmup] or [r for _, r in samples]
    quarter = max(1, len(steady) // 4)
    base, end = steady[:quarter], steady[-quarter:]
    rows: list[list[object] | None] = []
    figures: dict[str, dict[str, float]] = {}
    for label in sorted(end[-1]):
        f = {
            m: (_mean(base, label, m), _mean(end, label, m)) for m in ("rss_kib", "fds", "threads")
        }
        growth = (f["rss_kib"][1] - f["rss_kib"][0]) / f["rss_kib"][0] if f["rss_kib"][0] else 0.0
        figures[label] = {"rss_growth": growth, **{f"{m}_base": v[0] for m, v in f.items()}}
        figures[label].update({f"{m}_end": v[1] for m, v in f.items()})
        rows.append([
            label, round(f["rss_kib"][0] / 1024, 1), round(f["rss_kib"][1] / 1024, 1),
            f"{growth:+.1%}", f"{f['fds'][0]:.0f} -> {f['fds'][1]:.0f}",
            f"{f['threads'][0]:.0f} -> {f['threads'][1]:.0f}",
        ])  # fmt: skip
    columns = ["process", "RSS base MiB", "RSS end MiB", "RSS growth", "open fds", "threads"]
    return Table("Growth over the run (after the warm-up)", columns, rows), figures


def run(args: argparse.Namespace) -> ScenarioResult:
    result = ScenarioResult(NAME)
    total = int(args.duration * args.rate)
    with local_stack() as stack:
        plan = _plan(stack, total)
        print(f"soak: {total} requests at {args.rate}/s for {args.duration:.0f} s")
        with Sampler(stack, interval=args.interval) as sampler:
            block = drive(stack, plan, args.clients, rate=args.rate)
        logged = server_errors(stack)  # the stack's logs go with it
    figures = summary(block.results, block.wall_s)
    result.tables.append(Table(f"Steady {args.rate:g} req/s mix", COLUMNS, [row("mix", figures)]))
    growth, per_process = growth_table(sampler, args.warmup)
    result.tables.append(growth)
    errors = [r for r in block.results if not 200 <= r["status"] < 300]
    result.tables.append(
        Table(
            "Every error",
            ["t s", "request", "outcome", "latency ms"],
            [[round(r["t"], 1), r["tag"], outcome(r), round(r["latency"] * 1000)] for r in errors],
        )
    )
    # The emulators keep the data in memory (fake-gcs-server every object): they grow with it.
    ours = {k: v for k, v in per_process.items() if k not in EMULATORS}
    worst = max(ours.items(), key=lambda kv: kv[1]["rss_growth"])
    result.checks += [
        Check(
            f"RSS of every function and the gateway grows less than {GROWTH_GOAL:.0%}",
            worst[1]["rss_growth"] < GROWTH_GOAL,
            f"largest: {worst[0]} {worst[1]['rss_growth']:+.1%}",
        ),
        Check(
            "no error during the soak",
            not errors,
            f"{len(errors)} of {len(block.results)}"
            + "".join(f"\n    {line}" for line in logged if errors),
        ),
    ]
    result.series += [
        Series("soak: latency over time (per 5 s)", "ms", latency_over_time(block.results, 5.0)),
        Series("soak: RSS of every process", "MiB", sampler.series("rss_kib", 1 / 1024)),
        Series("soak: open file descriptors", "fds", sampler.series("fds")),
    ]
    result.figures.update(mix=figures, processes=per_process)
    return result


if __name__ == "__main__":
    sys.exit(standalone(sys.modules[__name__]))
