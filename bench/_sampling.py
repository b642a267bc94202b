"""Every process of a local stack, read from /proc: CPU, RSS, open files and threads.

Each stack child runs in its own process group (a function's gunicorn master and workers, an
emulator and its helpers), so one pass over /proc buckets every process by group. The gateway
runs inside the benchmark's own process; the load driver is a separate process, so this
process's CPU during a block is the gateway's (plus a sampler thread that is mostly asleep).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from _common import _TICKS  # clock ticks per second, read once

from infra.local.stack import Stack

GATEWAY = "gateway"
# CPU seconds the samplers' own threads used: not the gateway's, though in its process.
_sampler_cpu: dict[int, float] = {}


@dataclass
class Reading:
    cpu_s: float = 0.0
    rss_kib: int = 0
    fds: int = 0
    threads: int = 0


def _groups() -> dict[int, list[int]]:
    groups: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            groups.setdefault(int(fields[2]), []).append(int(entry.name))
    return groups


def _read(pids: list[int]) -> Reading:
    total = Reading()
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            status = Path(f"/proc/{pid}/status").read_text()
            fds = len(os.listdir(f"/proc/{pid}/fd"))
        except OSError:
            continue  # ended between the listing and the read
        total.cpu_s += (int(fields[11]) + int(fields[12])) / _TICKS
        total.fds += fds
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total.rss_kib += int(line.split()[1])
            elif line.startswith("Threads:"):
                total.threads += int(line.split()[1])
    return total


def process_groups(stack: Stack) -> dict[str, int]:
    """Label -> process group id of every running child, plus the gateway (this process)."""
    groups = {
        name.removeprefix("fn_"): child.proc.pid
        for name, child in stack.children.items()
        if child.proc is not None and child.proc.poll() is None
    }
    return {GATEWAY: os.getpgid(0), **groups}


def snapshot(stack: Stack) -> dict[str, Reading]:
    buckets = _groups()
    own = os.getpid()
    readings = {}
    for label, pgid in process_groups(stack).items():
        # This process's group also holds whatever started the benchmark: count only itself.
        readings[label] = _read([own] if label == GATEWAY else buckets.get(pgid, []))
    readings[GATEWAY].cpu_s -= sum(_sampler_cpu.values())
    return readings


def cpu_delta(before: dict[str, Reading], after: dict[str, Reading]) -> dict[str, float]:
    return {k: after[k].cpu_s - before[k].cpu_s for k in after if k in before}


@dataclass
class Sampler:
    """Readings of every stack process every ``interval`` seconds, in a thread."""

    stack: Stack
    interval: float = 5.0
    samples: list[tuple[float, dict[str, Reading]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="proc-sampler", daemon=True)
        self._began = time.perf_counter()

    def _run(self) -> None:
        ident = threading.get_ident()
        while not self._stop.is_set():
            self.samples.append((time.perf_counter() - self._began, snapshot(self.stack)))
            _sampler_cpu[ident] = time.thread_time()
            self._stop.wait(self.interval)

    def __enter__(self) -> Sampler:
        self._began = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def series(self, metric: str, scale: float = 1.0) -> dict[str, list[tuple[float, float]]]:
        lines: dict[str, list[tuple[float, float]]] = {}
        for t, readings in self.samples:
            for label, reading in readings.items():
                lines.setdefault(label, []).append((t, getattr(reading, metric) * scale))
        return lines
