"""Shared helpers for the stack benchmarks: local stack, users, percentiles, /proc memory, tables.

Not a benchmark itself (the leading underscore keeps it out of `make bench`). Scripts run as
``.venv/bin/python bench/<name>.py``, so this directory is on sys.path; importing it also puts
the repository root there for ``infra.local``.
"""

from __future__ import annotations

import contextlib
import datetime
import math
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from infra.local.authemu import AuthEmulator  # noqa: E402
from infra.local.ports import HOST  # noqa: E402
from infra.local.stack import Stack, StackOptions  # noqa: E402

# Generous limits so the benchmarks measure generation, not the token bucket. Settings cap the
# burst at 10 000 (config.py); a larger value makes every function refuse to boot.
BENCH_FUNCTION_ENV = {
    "GENMEDIA_RATE_LIMIT_BURST": "10000",
    "GENMEDIA_RATE_LIMIT_PER_MINUTE": "100000",
}
GENERATE_PATH = "/v1/images:generate"


# -- the stack ------------------------------------------------------------------------------
@contextlib.contextmanager
def local_stack(function_env: dict[str, str] | None = None, **options: Any) -> Iterator[Stack]:
    """The whole local stack on free ports in a private temp dir, stopped and removed on exit;
    ``options`` are further StackOptions (e.g. ``storage_on_disk=True``)."""
    with tempfile.TemporaryDirectory(prefix="genmedia-bench-") as tmp:
        stack = Stack(
            StackOptions(
                state_dir=Path(tmp),
                free_ports=True,
                seed_demo_user=False,
                function_env={**BENCH_FUNCTION_ENV, **(function_env or {})},
                **options,
            )
        )
        started = time.perf_counter()
        try:
            stack.start()
            print(f"local stack up in {time.perf_counter() - started:.1f} s (state in {tmp})")
            yield stack
        finally:
            stack.stop()


def server_errors(stack: Stack, limit: int = 20) -> list[str]:
    """The ERROR lines of every function's log (with their stack traces), for a 5xx's cause:
    the stack's logs go with its temp dir."""
    lines = []
    for log in sorted((stack.options.state_dir / "logs").glob("fn_*.log")):
        for line in log.read_text(errors="replace").splitlines():
            if '"severity": "ERROR"' in line or '"severity":"ERROR"' in line:
                lines.append(f"{log.stem}: {line[:4000]}")
    return lines[:limit]


def gateway_url(stack: Stack) -> str:
    return f"http://{HOST}:{stack.ports['gateway']}"


def auth_emulator(stack: Stack) -> AuthEmulator:
    return AuthEmulator(f"{HOST}:{stack.ports['auth']}", stack.options.project_id)


@dataclass(frozen=True)
class BenchUser:
    uid: str
    token: str  # emulator ID tokens live an hour: ample for one run

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def new_user(stack: Stack, role: str | None = None) -> BenchUser:
    auth = auth_emulator(stack)
    uid = auth.create_user(f"bench-{os.urandom(5).hex()}@example.com", role=role)
    return BenchUser(uid, auth.id_token(uid))


def raise_quotas(stack: Stack, users: Sequence[BenchUser], quota: dict[str, int]) -> None:
    """Quota overrides for ``users``, set by one admin through the API."""
    admin = new_user(stack, role="admin")
    for user in users:
        resp = requests.patch(
            f"{gateway_url(stack)}/v1/admin/users/{user.uid}",
            json={"quota": quota},
            headers=admin.headers,
            timeout=60,
        )
        if resp.status_code != 200:
            raise RuntimeError(f"quota override failed: {resp.status_code} {resp.text[:300]}")


def generous_user(stack: Stack, images_per_day: int = 100_000) -> BenchUser:
    """A ``user``-role account whose daily image quota an admin raised through the API."""
    user = new_user(stack)
    raise_quotas(stack, [user], {"images_per_day": images_per_day})
    return user


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


# -- statistics -----------------------------------------------------------------------------
def percentile(samples: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), ``q`` in 0..100."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(samples: Sequence[float]) -> float:
    return percentile(samples, 50)


# -- /proc memory (no psutil in the venv) ---------------------------------------------------
def group_pids(pgid: int) -> list[int]:
    """Live processes in process group ``pgid`` (a stack child and e.g. its gunicorn worker)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the parenthesised command: state ppid pgrp ...
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid:
            pids.append(int(entry.name))
    return sorted(pids)


def status_kib(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM (peak RSS) etc. of ``pid`` in KiB; empty if it is gone."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, rest = line.partition(":")
            if rest.strip().endswith("kB"):
                values[name] = int(rest.split()[0])
    except OSError:
        return {}
    return values


def pss_kib(pid: int) -> int:
    """Proportional set size: shared (copy-on-write) pages split between the processes."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def reset_peak_rss(pid: int) -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0, own processes only)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU the live processes ``pids`` have used so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / _TICKS


def parent_pid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return 0


class MemorySampler:
    """Samples the summed RSS and PSS of a process group in a thread; keeps the maxima."""

    def __init__(self, pgid: int, interval: float = 0.02) -> None:
        self.pgid, self.interval = pgid, interval
        self.max_rss_kib = self.max_pss_kib = self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = group_pids(self.pgid)
            rss = sum(status_kib(p).get("VmRSS", 0) for p in pids)
            pss = sum(pss_kib(p) for p in pids)
            self.max_rss_kib = max(self.max_rss_kib, rss)
            self.max_pss_kib = max(self.max_pss_kib, pss)
            self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# -- output ---------------------------------------------------------------------------------
def mib(kib: float) -> str:
    return f"{kib / 1024:.1f}"


def ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object] | None]) -> None:
    """Left-aligned first column, right-aligned others; ``None`` rows print a rule."""
    cells = [[str(c) for c in row] for row in rows if row is not None]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]

    def line(row: Sequence[str]) -> str:
        first, *rest = row
        parts = [first.ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(rest, widths[1:], strict=True)
        ]
        return "  ".join(parts).rstrip()

    print(line(list(headers)))
    print("-" * len(line(list(headers))))
    for row in rows:
        if row is None:
            print("-" * len(line(list(headers))))
        else:
            print(line([str(c) for c in row]))


def revision() -> str:
    """Commit measured, flagged when functions/ or infra/ differ from it."""

    def git(*args: str) -> str:
        proc = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return proc.stdout.strip() if proc.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = git("status", "--porcelain", "--", "functions", "infra")
    return commit + (" + uncommitted changes in functions/ or infra/" if changed else "")


def print_context(title: str) -> None:
    """What the figures depend on: cores, load (other work on the box skews them), versions."""
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"== {title} ==")
    print(
        f"{now}; commit {revision()}; {os.cpu_count()} cores; load average {load}; "
        f"Python {platform.python_version()} on {platform.system()} {platform.release()}"
    )


def print_load(label: str = "load average at end") -> None:
    print(f"{label}: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


def run_together(concurrency: int, worker: Callable[[threading.Barrier], None]) -> float:
    """Run ``worker(start)`` in ``concurrency`` threads released together by ``start``;
    returns the wall time in seconds from the release until the last thread ends."""
    start = threading.Barrier(concurrency + 1)
    threads = [threading.Thread(target=worker, args=(start,)) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began
