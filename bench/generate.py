"""POST /v1/images:generate latency through the gateway vs straight to the function, and the
function's memory under bursts of concurrent requests.

Run: .venv/bin/python bench/generate.py [--requests N] [--burst N]

Starts the whole local stack (emulators, one functions-framework process per function, the
gateway) with the local image provider, creates a user whose daily quota an admin raised, then:

* gateway alone: GET /v1/healthz via the gateway and straight to the health function,
  alternating request by request (no generation, so the difference is the gateway's);
* memory: RSS of the generate_image process group (gunicorn master + worker) at rest after a
  warm-up, then its peak during bursts of concurrent requests: ``--burst`` (default 20) count=1
  requests straight to the function, 8 count=4 requests (the function's production concurrency,
  terraform/functions.tf), and the ``--burst`` count=1 requests again through the gateway;
* latency: count=1 and count=4 at concurrency 1 and 4, each through the gateway and straight to
  the function's own port (the baseline), interleaved in rounds so drift in the emulators hits
  both alike. "fn" columns are the handler's own latency from the function's access log (matched
  by X-Request-ID): client latency minus fn is HTTP, queueing in gunicorn and the gateway.
  CPU columns are per request, from /proc: the function's process group, this process (client
  threads and the gateway) and all emulators; other work on the machine does not inflate them.

The gateway runs in this process (as in `make dev` and the tests), sharing its GIL with the
client threads. Prints figures only; nothing is asserted. The cost of process_image against a
bare Pillow encode is bench/image_processing.py's subject.
"""

from __future__ import annotations

import argparse
import itertools
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import requests
from _common import (
    GENERATE_PATH,
    BenchUser,
    MemorySampler,
    cpu_seconds,
    gateway_url,
    generous_user,
    group_pids,
    local_stack,
    mib,
    ms,
    parent_pid,
    percentile,
    print_context,
    print_load,
    print_table,
    pss_kib,
    reset_peak_rss,
    run_together,
    status_kib,
)

from infra.local.stack import Stack

FUNCTION = "generate_image"
PROMPT = "benchmark: a lighthouse on a cliff at dusk"
ROUNDS = 2  # direct and gateway alternate this many times per scenario
HEALTHZ_REQUESTS = 50
PROD_CONCURRENCY = 8  # generate_image's max_instance_request_concurrency, terraform/functions.tf


@dataclass
class Samples:
    latencies_ms: list[float] = field(default_factory=list)
    request_ids: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    cpu_s: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])  # fn, bench, emulators

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.wall_s if self.wall_s else float("nan")


def problem(resp: requests.Response) -> str:
    """``status code`` of a failed call, e.g. ``409 ABORTED``, for the error breakdown."""
    try:
        code = resp.json().get("code", "")
    except ValueError:
        code = ""
    return f"{resp.status_code} {code}".strip()


def run_load(
    url: str, user: BenchUser, count: int, total: int, concurrency: int, tag: str, into: Samples
) -> None:
    """``total`` requests from ``concurrency`` threads (one Session each), started together."""
    numbers = itertools.count()
    lock = threading.Lock()
    body = {"prompt": PROMPT, "count": count}

    def worker(start: threading.Barrier) -> None:
        with requests.Session() as session:
            start.wait()
            while True:
                index = next(numbers)
                if index >= total:
                    return
                request_id = f"bench-{tag}-{index}"
                headers = {**user.headers, "X-Request-ID": request_id}
                began = time.perf_counter()
                try:
                    resp = session.post(
                        url + GENERATE_PATH, json=body, headers=headers, timeout=300
                    )
                    elapsed = (time.perf_counter() - began) * 1000
                    error = None if resp.status_code == 200 else problem(resp)
                except requests.RequestException as exc:
                    elapsed, error = 0.0, type(exc).__name__
                with lock:
                    if error is None:
                        into.latencies_ms.append(elapsed)
                        into.request_ids.append(request_id)
                    else:
                        into.errors.append(error)

    into.wall_s += run_together(concurrency, worker)


def bench_healthz(stack: Stack, total: int) -> None:
    """The gateway alone: GET /v1/healthz (no generation) via the gateway and straight to the
    health function, alternating request by request on one keep-alive session each."""
    urls = {"direct": stack.function_url("health"), "gateway": gateway_url(stack)}
    sessions = {name: requests.Session() for name in urls}
    latencies: dict[str, list[float]] = {name: [] for name in urls}
    failures = 0
    for index in range(total + 5):  # the first five are warm-up
        for name, url in urls.items():
            began = time.perf_counter()
            resp = sessions[name].get(url + "/v1/healthz", timeout=30)
            elapsed = (time.perf_counter() - began) * 1000
            failures += resp.status_code != 200
            if index >= 5:
                latencies[name].append(elapsed)
    for session in sessions.values():
        session.close()
    print(f"\nGET /v1/healthz, {total} requests per path, alternating, concurrency 1 (ms)")
    rows: list[list[object] | None] = [
        [name, ms(percentile(v, 50)), ms(percentile(v, 95)), ms(max(v))]
        for name, v in latencies.items()
    ]
    d, g = latencies["direct"], latencies["gateway"]
    rows.append(
        [
            "gateway - direct",
            f"{percentile(g, 50) - percentile(d, 50):+.1f}",
            f"{percentile(g, 95) - percentile(d, 95):+.1f}",
            "",
        ]
    )
    print_table(["path", "p50", "p95", "max"], rows)
    if failures:
        print(f"({failures} answers were not 200)")


def handler_latencies(stack: Stack) -> dict[str, float]:
    """X-Request-ID -> the handler's latency in ms, from the function's JSON access log."""
    result = {}
    log = stack.options.state_dir / "logs" / f"fn_{FUNCTION}.log"
    for line in log.read_text(errors="replace").splitlines():
        if '"httpRequest"' not in line:
            continue
        try:
            entry = json.loads(line)
            request_id = entry["logging.googleapis.com/labels"]["request_id"]
            result[request_id] = float(entry["httpRequest"]["latency"].rstrip("s")) * 1000
        except (ValueError, KeyError, TypeError):
            continue
    return result


def role(pid: int, pgid: int) -> str:
    if pid == pgid:
        return "master"
    return "worker" if parent_pid(pid) == pgid else "other"


def kib_of(pids: list[int], field: str) -> int:
    return sum(status_kib(p).get(field, 0) for p in pids)


def bench_memory(
    stack: Stack, user: BenchUser, targets: dict[str, str], bursts: list[tuple[str, int, int]]
) -> int:
    """RSS of the function's process group at rest, then its peak during each burst of
    concurrent requests (VmHWM reset before each; the group sampled every 20 ms)."""
    child = stack.children[f"fn_{FUNCTION}"]
    assert child.proc is not None
    pgid = child.proc.pid
    pids = group_pids(pgid)
    workers = [p for p in pids if role(p, pgid) == "worker"]
    print(f"\nmemory of {FUNCTION}, MiB: pgid {pgid}, worker {', '.join(map(str, workers))}")
    print(
        f"at rest after warm-up: master RSS {mib(status_kib(pgid).get('VmRSS', 0))}, "
        f"worker RSS {mib(kib_of(workers, 'VmRSS'))} (VmHWM {mib(kib_of(workers, 'VmHWM'))}), "
        f"group PSS {mib(sum(pss_kib(p) for p in pids))}"
    )
    rows: list[list[object] | None] = []
    for target, count, concurrency in bursts:
        reset = all(reset_peak_rss(p) for p in pids)
        rss_before = kib_of(workers, "VmRSS")
        samples = Samples()
        with MemorySampler(pgid) as sampler:
            run_load(targets[target], user, count, concurrency, concurrency, "burst", samples)
        rows.append(
            [
                f"{concurrency} x count={count} {target}",
                len(samples.latencies_ms),
                errors(samples),
                f"{samples.wall_s:.1f}",
                ms(percentile(samples.latencies_ms, 50)),
                ms(max(samples.latencies_ms, default=float("nan"))),
                mib(rss_before),
                mib(kib_of(workers, "VmHWM")) + ("" if reset else " (lifetime)"),
                mib(sampler.max_rss_kib),
                mib(sampler.max_pss_kib),
                mib(kib_of(workers, "VmRSS")),
            ]
        )
    print_table(
        [
            "concurrent burst",
            "ok",
            "errors",
            "wall s",
            "p50 ms",
            "max ms",
            "worker RSS before",
            "worker peak",
            "group max RSS",
            "max PSS",
            "worker RSS after",
        ],
        rows,
    )
    print(
        "worker peak = VmHWM of the gunicorn worker, reset before each burst; group = master +"
        " worker, sampled every 20 ms"
    )
    return pgid


def errors(samples: Samples) -> str:
    counts = Counter(samples.errors)
    return f"{len(samples.errors)} errors" + (f" ({dict(counts)})" if counts else "")


def outside_ms(samples: Samples, fn_ms: dict[str, float]) -> list[float]:
    """Per request, client latency minus handler latency: HTTP, queueing, the gateway."""
    return [
        total - fn_ms[request_id]
        for total, request_id in zip(samples.latencies_ms, samples.request_ids, strict=True)
        if request_id in fn_ms
    ]


def summary(samples: Samples, fn_ms: dict[str, float]) -> list[str]:
    lat = samples.latencies_ms
    fn = [fn_ms[r] for r in samples.request_ids if r in fn_ms]
    done = max(1, len(lat))
    return [
        str(len(lat)),
        str(len(samples.errors)),
        ms(percentile(lat, 50)),
        ms(percentile(lat, 95)),
        ms(percentile(lat, 99)),
        ms(max(lat, default=float("nan"))),
        f"{samples.rate:.2f}",
        ms(percentile(fn, 50)),
        ms(percentile(fn, 95)),
        ms(percentile(outside_ms(samples, fn_ms), 50)),
        *(f"{1000 * cpu / done:.0f}" for cpu in samples.cpu_s),
    ]


def difference(direct: Samples, gateway: Samples, fn_ms: dict[str, float]) -> list[str]:
    d, g = direct.latencies_ms, gateway.latencies_ms
    d_cpu = [1000 * c / max(1, len(d)) for c in direct.cpu_s]
    g_cpu = [1000 * c / max(1, len(g)) for c in gateway.cpu_s]
    d_out, g_out = outside_ms(direct, fn_ms), outside_ms(gateway, fn_ms)
    return [
        "  gateway - direct",
        "",
        "",
        f"{percentile(g, 50) - percentile(d, 50):+.1f}",
        f"{percentile(g, 95) - percentile(d, 95):+.1f}",
        "",
        "",
        f"x{gateway.rate / direct.rate:.2f}",
        "",
        "",
        f"{percentile(g_out, 50) - percentile(d_out, 50):+.1f}",
        *(f"{gc - dc:+.0f}" for gc, dc in zip(g_cpu, d_cpu, strict=True)),
    ]


def function_errors(stack: Stack) -> list[str]:
    """Request id and exception of each ERROR entry in the function's log."""
    found = []
    log = stack.options.state_dir / "logs" / f"fn_{FUNCTION}.log"
    for line in log.read_text(errors="replace").splitlines():
        if '"ERROR"' not in line or not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("severity") != "ERROR" or "httpRequest" in entry:
            continue
        request_id = entry.get("logging.googleapis.com/labels", {}).get("request_id", "?")
        trace = (entry.get("stack_trace") or "").strip().splitlines()
        detail = trace[-1] if trace else ""
        found.append(f"{request_id}: {entry.get('message', '')} {detail}".strip())
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests", type=int, default=20, help="count=1 requests per path and concurrency"
    )
    parser.add_argument("--burst", type=int, default=20, help="concurrent requests for memory")
    args = parser.parse_args()
    # count=4 requests each make four images: a third as many keeps the run short.
    scenarios = [
        (1, 1, args.requests),
        (1, 4, args.requests),
        (4, 1, max(ROUNDS, args.requests // 3)),
        (4, 4, max(4 * ROUNDS, args.requests // 3 * 2)),
    ]
    print_context("generate: POST /v1/images:generate, local provider")
    started = time.perf_counter()
    results: dict[tuple[int, int, str], Samples] = {}
    with local_stack() as stack:
        user = generous_user(stack)
        targets = {"direct": stack.function_url(FUNCTION), "gateway": gateway_url(stack)}
        for name, url in targets.items():  # first requests import handlers, create clients
            run_load(url, user, 1, 3, 1, f"warm-{name}", Samples())
        bursts = [
            ("direct", 1, args.burst),
            ("direct", 4, PROD_CONCURRENCY),
            ("gateway", 1, args.burst),
        ]
        bench_healthz(stack, HEALTHZ_REQUESTS)
        pgid = bench_memory(stack, user, targets, bursts)

        fn_pids = group_pids(pgid)
        emulator_pids = [
            pid
            for name, child in stack.children.items()
            if not name.startswith("fn_") and child.proc is not None
            for pid in group_pids(child.proc.pid)
        ]

        def cpu_now() -> tuple[float, float, float]:
            return cpu_seconds(fn_pids), time.process_time(), cpu_seconds(emulator_pids)

        for count, concurrency, total in scenarios:
            if count == 4:
                for name, url in targets.items():
                    run_load(url, user, 4, 2, 1, f"warm4-{name}", Samples())
            per_round = max(1, total // ROUNDS)
            for round_no in range(ROUNDS):
                for name, url in targets.items():
                    samples = results.setdefault((count, concurrency, name), Samples())
                    tag = f"c{count}x{concurrency}-{name}-{round_no}"
                    before = cpu_now()
                    run_load(url, user, count, per_round, concurrency, tag, samples)
                    used = [b - a for a, b in zip(before, cpu_now(), strict=True)]
                    samples.cpu_s = [t + u for t, u in zip(samples.cpu_s, used, strict=True)]
        fn_ms = handler_latencies(stack)
        failures = function_errors(stack)
        hwm_end = {f"{role(p, pgid)} {p}": status_kib(p).get("VmHWM", 0) for p in group_pids(pgid)}

    print(
        f"\nlatency in ms, client side, {ROUNDS} interleaved rounds per row; fn = handler time "
        "from the function's access log, outside = client - fn per request;\n"
        "CPU ms per request: fn = function process group, bench = this process (client threads "
        "+ gateway), emu = all emulators"
    )
    rows: list[list[object] | None] = []
    for count, concurrency, _ in scenarios:
        direct, gateway = (results[(count, concurrency, name)] for name in targets)
        rows.append([f"count={count} conc={concurrency} direct", *summary(direct, fn_ms)])
        rows.append([f"count={count} conc={concurrency} gateway", *summary(gateway, fn_ms)])
        rows.append(difference(direct, gateway, fn_ms))
        rows.append(None)
    print_table(
        [
            "scenario",
            "n",
            "err",
            "p50",
            "p95",
            "p99",
            "max",
            "req/s",
            "fn p50",
            "fn p95",
            "outside p50",
            "CPU fn",
            "bench",
            "emu",
        ],
        rows[:-1],
    )
    for (count, concurrency, name), samples in results.items():
        if samples.errors:
            print(f"errors, count={count} conc={concurrency} {name}: {errors(samples)}")
    for failure in failures[:5]:
        print(f"function log ERROR {failure}")
    print(
        "VmHWM at the end of the run, i.e. peak since the burst (MiB): "
        + ", ".join(f"{name} {mib(kib)}" for name, kib in sorted(hwm_end.items()))
    )
    print(f"total run time {time.perf_counter() - started:.0f} s")
    print_load()


if __name__ == "__main__":
    main()
