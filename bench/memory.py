"""Peak memory of generate_image under concurrent bursts: count=4 against the count=1 baseline.

Run: .venv/bin/python bench/memory.py [--burst N] [--rounds N] [--limit X]

Starts the local stack (local image provider), warms the function up with one request of each
count, then sends bursts of ``--burst`` concurrent requests straight to the function's port
(no gateway), count=1 and count=4 alternating for ``--rounds`` rounds. For each burst: the
gunicorn worker's peak RSS (VmHWM, reset through /proc/<pid>/clear_refs before the burst), the
process group's (master + worker) RSS and PSS sampled every 20 ms, errors, wall time and the
worker's RSS after the burst. The check: the count=4 peak stays within ``--limit`` times the
count=1 peak of the same run (memory per instance is bounded by the image-processing gate and
the request concurrency, not by how many images a request asks for).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field

import requests
from _common import (
    GENERATE_PATH,
    BenchUser,
    MemorySampler,
    generous_user,
    group_pids,
    local_stack,
    parent_pid,
    percentile,
    pss_kib,
    reset_peak_rss,
    run_together,
    status_kib,
)
from _report import Check, ScenarioResult, Series, Table, standalone

from infra.local.ports import HOST
from infra.local.stack import Stack

NAME = "memory"
FUNCTION = "generate_image"


@dataclass
class Burst:
    label: str
    count: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0
    worker_before_kib: int = 0
    worker_peak_kib: int = 0
    group_max_rss_kib: int = 0
    group_max_pss_kib: int = 0
    worker_after_kib: int = 0


class TracingSampler(MemorySampler):
    """MemorySampler that also keeps (seconds since ``t0``, group RSS MiB) for the plot; its
    maxima are reset before each burst."""

    def __init__(self, pgid: int, t0: float, trace: list[tuple[float, float]]) -> None:
        super().__init__(pgid)
        self.t0, self.trace = t0, trace

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = group_pids(self.pgid)
            rss = sum(status_kib(p).get("VmRSS", 0) for p in pids)
            self.max_rss_kib = max(self.max_rss_kib, rss)
            self.max_pss_kib = max(self.max_pss_kib, sum(pss_kib(p) for p in pids))
            self.trace.append((round(time.perf_counter() - self.t0, 2), round(rss / 1024, 1)))
            self.samples += 1
            self._stop.wait(self.interval)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--burst", type=int, default=20, help="concurrent requests per burst")
    parser.add_argument("--rounds", type=int, default=2, help="count=1 + count=4 burst pairs")
    parser.add_argument(
        "--limit", type=float, default=1.5, help="allowed count=4 peak / count=1 peak"
    )


def post(url: str, user: BenchUser, count: int, burst: Burst, lock: threading.Lock) -> None:
    headers = {**user.headers, "Idempotency-Key": uuid.uuid4().hex}
    began = time.perf_counter()
    try:
        resp = requests.post(
            url, json={"prompt": f"memory {uuid.uuid4().hex}", "count": count},
            headers=headers, timeout=300,
        )  # fmt: skip
        kind = "" if resp.status_code == 200 else f"{resp.status_code}"
    except requests.RequestException as exc:
        kind = type(exc).__name__
    with lock:
        burst.latencies_ms.append((time.perf_counter() - began) * 1000)
        if kind:
            burst.errors[kind] = burst.errors.get(kind, 0) + 1


def workers_of(pgid: int) -> list[int]:
    return [p for p in group_pids(pgid) if parent_pid(p) == pgid]


def worker_kib(pgid: int, key: str) -> int:
    return sum(status_kib(p).get(key, 0) for p in workers_of(pgid))


def run_burst(
    url: str, user: BenchUser, pgid: int, burst: Burst, concurrency: int, sampler: TracingSampler
) -> None:
    for pid in group_pids(pgid):
        reset_peak_rss(pid)
    burst.worker_before_kib = worker_kib(pgid, "VmRSS")
    sampler.max_rss_kib = sampler.max_pss_kib = 0
    lock = threading.Lock()

    def worker(start: threading.Barrier) -> None:
        start.wait()
        post(url, user, burst.count, burst, lock)

    burst.wall_s = run_together(concurrency, worker)
    burst.worker_peak_kib = worker_kib(pgid, "VmHWM")
    burst.group_max_rss_kib = sampler.max_rss_kib
    burst.group_max_pss_kib = sampler.max_pss_kib
    time.sleep(1.0)  # let the allocator hand back what it will
    burst.worker_after_kib = worker_kib(pgid, "VmRSS")


Trace = list[tuple[float, float]]


def measure(stack: Stack, args: argparse.Namespace) -> tuple[list[Burst], Trace]:
    user = generous_user(stack)
    child = stack.children[f"fn_{FUNCTION}"]
    assert child.proc is not None
    pgid = child.proc.pid
    url = f"http://{HOST}:{stack.ports[f'fn_{FUNCTION}']}{GENERATE_PATH}"
    warm = Burst("warm-up", 4)
    for count in (1, 4):  # every lazy import and client created before measuring
        post(url, user, count, warm, threading.Lock())
    trace: Trace = []
    bursts: list[Burst] = []
    with TracingSampler(pgid, time.perf_counter(), trace) as sampler:
        for round_ in range(args.rounds):
            for count in (1, 4):
                burst = Burst(f"{args.burst} x count={count} (round {round_ + 1})", count)
                print(f"burst {burst.label}", flush=True)
                run_burst(url, user, pgid, burst, args.burst, sampler)
                bursts.append(burst)
    if warm.errors:
        bursts.insert(0, warm)
    return bursts, trace


def mib(kib: int) -> float:
    return round(kib / 1024, 1)


def table(bursts: list[Burst]) -> Table:
    rows: list[list[object] | None] = [
        [
            b.label,
            len(b.latencies_ms) - sum(b.errors.values()),
            ", ".join(f"{k} x{v}" for k, v in b.errors.items()) or "0",
            round(b.wall_s, 1),
            round(percentile(b.latencies_ms, 50)),
            round(max(b.latencies_ms)),
            mib(b.worker_before_kib),
            mib(b.worker_peak_kib),
            mib(b.group_max_rss_kib),
            mib(b.group_max_pss_kib),
            mib(b.worker_after_kib),
        ]
        for b in bursts
    ]
    return Table(
        f"memory of {FUNCTION} (MiB) under concurrent bursts, straight to its port",
        [
            "burst",
            "ok",
            "errors",
            "wall s",
            "p50 ms",
            "max ms",
            "worker RSS before",
            "worker peak",
            "group max RSS",
            "group max PSS",
            "worker RSS after",
        ],
        rows,
        "worker peak = the gunicorn worker's VmHWM, reset before each burst; group = master +"
        " worker, sampled every 20 ms; RSS after = 1 s after the burst ended.",
    )


def checks(bursts: list[Burst], limit: float) -> tuple[list[Check], dict[str, float]]:
    peak = {
        c: max((b.worker_peak_kib for b in bursts if b.count == c and b.label != "warm-up"),
               default=0)
        for c in (1, 4)
    }  # fmt: skip
    ratio = peak[4] / peak[1] if peak[1] else float("inf")
    errors = sum(sum(b.errors.values()) for b in bursts)
    return [
        Check(
            f"every request of every burst answered 200 ({FUNCTION})",
            errors == 0,
            f"{errors} errors" if errors else "",
        ),
        Check(
            f"peak worker RSS under count=4 bursts at most {limit}x the count=1 bursts' peak",
            ratio <= limit,
            f"count=1 {mib(peak[1])} MiB, count=4 {mib(peak[4])} MiB: {ratio:.2f}x",
        ),
    ], {"peak_count1_mib": mib(peak[1]), "peak_count4_mib": mib(peak[4]), "ratio": ratio}


def run(args: argparse.Namespace) -> ScenarioResult:
    with local_stack() as stack:
        bursts, trace = measure(stack, args)
    found, summary = checks(bursts, args.limit)
    series = Series(f"RSS of {FUNCTION} (master + worker) over the bursts", "MiB", {"RSS": trace})
    figures = {
        "bursts": [vars(b) for b in bursts],
        "burst": args.burst,
        "rounds": args.rounds,
        "limit": args.limit,
        **summary,
    }
    return ScenarioResult(NAME, [table(bursts)], found, [series], figures)


if __name__ == "__main__":
    sys.exit(standalone(sys.modules[__name__]))
