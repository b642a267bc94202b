"""Throughput/latency of the Firestore emulator as seen through google-cloud-firestore.

Usage (from the repository root):
    .venv/bin/python bench/firestore_emulator.py [--duration 5] [--get-threads 8] ...

Starts the emulator from infra/emulators/firestore in a subprocess unless
FIRESTORE_EMULATOR_HOST is set, then measures from this process:
  * single-document gets per second (several client threads), twice: through
    DocumentReference.get() (a BatchGetDocuments stream) and through the unary GetDocument
    RPC of the generated client, which costs less client-side CPU per call,
  * transactional read-modify-write commits per second (@firestore.transactional:
    BeginTransaction + BatchGetDocuments + Commit), spread over many documents,
and prints ops/s with p50/p95 latencies. Targets: >= 2,000 gets/s, >= 500 commits/s.
Client and server share the machine's cores, so the client's own CPU cost counts too.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.cloud import firestore
from google.cloud.firestore_v1.services.firestore import FirestoreClient
from google.cloud.firestore_v1.services.firestore.transports import FirestoreGrpcTransport

REPO_ROOT = Path(__file__).resolve().parents[1]
EMULATOR_PATH = REPO_ROOT / "infra" / "emulators" / "firestore"
GET_DOC = "get (DocumentReference)"
GET_RPC = "get (GetDocument RPC)"
COMMIT = "transactional commit"
TARGETS = {GET_DOC: 2000.0, GET_RPC: 2000.0, COMMIT: 500.0}


@dataclass
class Result:
    name: str
    ops: int
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def rate(self) -> float:
        return self.ops / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_emulator() -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(EMULATOR_PATH), PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "firestore_emulator", "--port", str(port)]
    cmd += ["--http-port", str(free_port())]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "ready" not in line:
        proc.kill()
        raise SystemExit(f"emulator did not start: {line!r}")
    return proc, f"127.0.0.1:{port}"


def run_for(name: str, threads: int, seconds: float, op: Callable[[random.Random], None]) -> Result:
    """Run `op` in a loop on `threads` threads for `seconds`; collect per-op latencies."""
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads
    stop = threading.Event()
    barrier = threading.Barrier(threads + 1)

    def worker(i: int) -> None:
        rng = random.Random(i)
        barrier.wait()
        while not stop.is_set():
            started = time.perf_counter()
            try:
                op(rng)
            except Exception:
                errors[i] += 1
                continue
            latencies[i].append(time.perf_counter() - started)

    pool = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - began
    flat = [x for per in latencies for x in per]
    return Result(name, len(flat), elapsed, flat, sum(errors))


def seed(client: firestore.Client, coll: Any, count: int) -> list[Any]:
    refs = [coll.document(f"d{i:05d}") for i in range(count)]
    for start in range(0, count, 500):
        batch = client.batch()
        for ref in refs[start : start + 500]:
            batch.set(ref, {"n": 0, "payload": "x" * 200})
        batch.commit()
    return refs


def bench_gets(client: firestore.Client, args: argparse.Namespace) -> list[Result]:
    refs = seed(client, client.collection(f"bench-get-{uuid.uuid4().hex}"), args.docs)
    high_level = run_for(GET_DOC, args.get_threads, args.duration, lambda r: r.choice(refs).get())
    channel = grpc.insecure_channel(os.environ["FIRESTORE_EMULATOR_HOST"])
    gapic = FirestoreClient(transport=FirestoreGrpcTransport(channel=channel))
    names = [ref._document_path for ref in refs]

    def get_document(rng: random.Random) -> None:
        gapic.get_document(request={"name": rng.choice(names)})

    return [high_level, run_for(GET_RPC, args.get_threads, args.duration, get_document)]


def bench_transactions(client: firestore.Client, args: argparse.Namespace) -> Result:
    refs = seed(client, client.collection(f"bench-txn-{uuid.uuid4().hex}"), args.docs)

    @firestore.transactional
    def increment(tx: firestore.Transaction, ref: Any) -> None:
        snap = ref.get(transaction=tx)
        tx.update(ref, {"n": snap.get("n") + 1})

    def op(rng: random.Random) -> None:
        increment(client.transaction(), rng.choice(refs))

    result = run_for(COMMIT, args.txn_threads, args.duration, op)
    total = sum(ref.get().get("n") for ref in refs)
    if total != result.ops:
        raise SystemExit(f"lost updates: {result.ops} commits but counters sum to {total}")
    return result


def print_table(results: list[Result]) -> None:
    header = f"{'operation':<26}{'ops':>8}{'ops/s':>10}{'p50 ms':>9}{'p95 ms':>9}"
    print(header + f"{'errors':>8}{'target':>9}  ok")
    print("-" * (len(header) + 21))
    for r in results:
        target = TARGETS.get(r.name, 0.0)
        ok = "yes" if r.rate >= target and r.errors == 0 else "NO"
        print(
            f"{r.name:<26}{r.ops:>8}{r.rate:>10.0f}{r.percentile(0.5):>9.2f}"
            f"{r.percentile(0.95):>9.2f}{r.errors:>8}{target:>9.0f}  {ok}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    # More threads than this mostly adds GIL contention in both processes on 2 cores.
    parser.add_argument("--get-threads", type=int, default=4)
    parser.add_argument("--txn-threads", type=int, default=8)
    parser.add_argument("--docs", type=int, default=1000, help="documents per measurement")
    args = parser.parse_args()
    proc = None
    host = os.environ.get("FIRESTORE_EMULATOR_HOST")
    if not host:
        proc, host = start_emulator()
        os.environ["FIRESTORE_EMULATOR_HOST"] = host
    try:
        client = firestore.Client(project=f"bench-{uuid.uuid4().hex[:8]}")
        results = [*bench_gets(client, args), bench_transactions(client, args)]
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
    print(f"emulator {host}, {args.duration:g}s per measurement, {os.cpu_count()} CPUs")
    print_table(results)
    # Figures are printed, never asserted; only errors (lost or failed operations) fail the run.
    return 0 if all(r.errors == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
