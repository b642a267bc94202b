"""Our Firestore emulator next to Google's, the same client workload against each, in one run.

Usage (from the repository root):
    .venv/bin/python bench/firestore_emulator.py [--duration 5] [--threads 4] [--only ours] ...

Starts our emulator (infra/emulators/firestore) in a subprocess and, when the Google Cloud
CLI's emulator and java are installed, Google's on free ports (stopped afterwards). Against
each, from this process with google-cloud-firestore, after a short untimed warm-up per
operation (the JVM compiles its hot paths):
  * get: DocumentReference.get() (a BatchGetDocuments stream) and the unary GetDocument RPC,
  * batch get: Client.get_all of 20 documents,
  * commit: a one-document set without a transaction,
  * transactional commit: @firestore.transactional read-modify-write increments spread over
    many documents (BeginTransaction + BatchGetDocuments + Commit), checked for lost updates,
  * collection query: `assets` holding many users' documents, one user's page
    (owner_uid == u, order by create_time desc, limit 20), as the library does,
  * collection-group query: `items` under every user, owner_uid == u order by n limit 20.
Ops/s, client-side latency percentiles and the emulator's CPU per operation (from /proc,
which moves less with other load on the machine than latency does); `ours/google` is the
ratio of ops/s (>= 1: ours is at least as fast). Client and server share the machine's
cores. Nothing is asserted about times; only errors (failed operations, lost updates) make
the run exit 1.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import grpc
from _common import (
    cpu_seconds,
    free_port,
    group_pids,
    percentile,
    print_context,
    print_load,
    print_table,
)
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.services.firestore import FirestoreClient
from google.cloud.firestore_v1.services.firestore.transports import FirestoreGrpcTransport

REPO_ROOT = Path(__file__).resolve().parents[1]
EMULATOR_PATH = REPO_ROOT / "infra" / "emulators" / "firestore"
Op = Callable[[random.Random], None]


@dataclass
class Result:
    name: str
    ops: int
    seconds: float
    latencies: list[float]
    errors: int
    server_cpu: float = 0.0  # seconds of CPU the emulator's processes used meanwhile

    @property
    def rate(self) -> float:
        return self.ops / self.seconds

    @property
    def cpu_us(self) -> float:
        return self.server_cpu / self.ops * 1e6 if self.ops else 0.0

    def ms(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000


def _conformance() -> ModuleType:
    """infra/emulators/firestore/conformance.py: how `make conformance` runs Google's."""
    spec = importlib.util.spec_from_file_location("conformance", EMULATOR_PATH / "conformance.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def ours() -> Iterator[tuple[str, int]]:
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(EMULATOR_PATH), PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "firestore_emulator", "--port", str(port)]
    cmd += ["--http-port", str(free_port())]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env, start_new_session=True)
    assert proc.stdout is not None
    try:
        line = proc.stdout.readline()
        if "ready" not in line:
            raise SystemExit(f"emulator did not start: {line!r}")
        yield f"127.0.0.1:{port}", proc.pid
    finally:
        proc.terminate()
        proc.wait(10)


@contextlib.contextmanager
def official(conformance: ModuleType) -> Iterator[tuple[str, int]]:
    with tempfile.TemporaryDirectory(prefix="bench-official-") as tmp:
        proc, host = conformance.start_official(Path(tmp) / "emulator.log")
        try:
            yield host, proc.pid  # its own session: the launcher script and the JVM
        finally:
            conformance.stop_official(proc)


def run_for(name: str, threads: int, seconds: float, op: Op, pgid: int = 0) -> Result:
    """Run `op` in a loop on `threads` threads for `seconds`; collect per-op latencies
    and the CPU time of process group `pgid` (the emulator) meanwhile."""
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
    cpu = cpu_seconds(group_pids(pgid)) if pgid else 0.0
    barrier.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - began
    cpu = cpu_seconds(group_pids(pgid)) - cpu if pgid else 0.0
    flat = [x for per in latencies for x in per]
    return Result(name, len(flat), elapsed, flat, sum(errors), cpu)


def write_all(client: firestore.Client, docs: list[tuple[Any, dict[str, Any]]]) -> None:
    for start in range(0, len(docs), 500):
        batch = client.batch()
        for ref, data in docs[start : start + 500]:
            batch.set(ref, data)
        batch.commit()


def seed(client: firestore.Client, coll: Any, count: int) -> list[Any]:
    refs = [coll.document(f"d{i:05d}") for i in range(count)]
    write_all(client, [(ref, {"n": 0, "payload": "x" * 200}) for ref in refs])
    return refs


def seed_owned(client: firestore.Client, args: argparse.Namespace) -> list[str]:
    """`assets` and users/{u}/items: --users owners with --per-user documents each."""
    uids = [f"u{i:03d}" for i in range(args.users)]
    docs = []
    for u, uid in enumerate(uids):
        for i in range(args.per_user):
            data = {"owner_uid": uid, "create_time": u * 10_000 + i, "n": i, "state": "ready"}
            data["payload"] = "x" * 200
            docs.append((client.collection("assets").document(f"{uid}-{i:04d}"), data))
            docs.append((client.collection("users", uid, "items").document(f"i{i:04d}"), data))
    write_all(client, docs)
    return uids


def workload(client: firestore.Client, args: argparse.Namespace, host: str) -> dict[str, Op]:
    refs = seed(client, client.collection(f"bench-get-{uuid.uuid4().hex}"), args.docs)
    channel = grpc.insecure_channel(host)
    gapic = FirestoreClient(transport=FirestoreGrpcTransport(channel=channel))
    names = [ref._document_path for ref in refs]
    uids = seed_owned(client, args)
    writes = client.collection(f"bench-set-{uuid.uuid4().hex}")

    def batch_get(rng: random.Random) -> None:
        list(client.get_all(rng.sample(refs, 20)))

    def page(rng: random.Random) -> None:
        owner = FieldFilter("owner_uid", "==", rng.choice(uids))
        query = client.collection("assets").where(filter=owner)
        list(query.order_by("create_time", direction="DESCENDING").limit(20).stream())

    def group_page(rng: random.Random) -> None:
        owner = FieldFilter("owner_uid", "==", rng.choice(uids))
        list(client.collection_group("items").where(filter=owner).order_by("n").limit(20).stream())

    return {
        "get (DocumentReference)": lambda r: r.choice(refs).get(),
        "get (GetDocument RPC)": lambda r: gapic.get_document(request={"name": r.choice(names)}),
        "batch get (get_all of 20)": batch_get,
        "commit (set, no txn)": lambda r: writes.document(f"w{r.randrange(args.docs)}").set(
            {"n": r.random(), "payload": "x" * 200}
        ),
        "collection query (page)": page,
        "collection-group query": group_page,
    }


def transactions(client: firestore.Client, args: argparse.Namespace, pgid: int) -> Result:
    refs = seed(client, client.collection(f"bench-txn-{uuid.uuid4().hex}"), args.docs)

    @firestore.transactional
    def increment(tx: firestore.Transaction, ref: Any) -> None:
        snap = ref.get(transaction=tx)
        tx.update(ref, {"n": snap.get("n") + 1})

    def op(rng: random.Random) -> None:
        increment(client.transaction(), rng.choice(refs))

    run_for("warm-up", args.txn_threads, args.warmup, op)
    before = sum(ref.get().get("n") for ref in refs)
    result = run_for("transactional commit", args.txn_threads, args.duration, op, pgid)
    total = sum(ref.get().get("n") for ref in refs) - before
    if total != result.ops:
        print(f"lost updates: {result.ops} commits but counters grew by {total}")
        result.errors += 1
    return result


def measure(emulator: tuple[str, int], args: argparse.Namespace) -> list[Result]:
    host, pgid = emulator
    os.environ["FIRESTORE_EMULATOR_HOST"] = host
    client = firestore.Client(project=f"bench-{uuid.uuid4().hex[:8]}")
    results = []
    for name, op in workload(client, args, host).items():
        run_for("warm-up", args.threads, args.warmup, op)
        results.append(run_for(name, args.threads, args.duration, op, pgid))
    return [*results, transactions(client, args, pgid)]


def report(columns: dict[str, list[Result]]) -> None:
    labels = list(columns)
    headers = ["operation"]
    for label in labels:
        headers += [f"{label} ops/s", "p50 ms", "p95 ms", "p99 ms", "CPU us", "err"]
    if len(labels) == 2:
        headers.append(f"{labels[0]}/{labels[1]}")
    rows: list[list[object] | None] = []
    for i, first in enumerate(columns[labels[0]]):
        row: list[object] = [first.name]
        for label in labels:
            r = columns[label][i]
            row += [f"{r.rate:.0f}", f"{r.ms(50):.2f}", f"{r.ms(95):.2f}", f"{r.ms(99):.2f}"]
            row += [f"{r.cpu_us:.0f}", r.errors]
        if len(labels) == 2:
            row.append(f"x{first.rate / columns[labels[1]][i].rate:.2f}")
        rows.append(row)
    print_table(headers, rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=1.0, help="untimed seconds before each")
    # More threads than this mostly adds GIL contention in both processes on 2 cores.
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--txn-threads", type=int, default=8)
    parser.add_argument("--docs", type=int, default=1000, help="documents for gets and commits")
    parser.add_argument("--users", type=int, default=40, help="owners of assets and items")
    parser.add_argument("--per-user", type=int, default=50, help="assets (and items) per owner")
    parser.add_argument("--only", choices=["ours", "google"], help="measure one emulator")
    args = parser.parse_args()
    print_context("Firestore emulator: ours and Google's, same client workload")
    conformance = _conformance()
    columns: dict[str, list[Result]] = {}
    if args.only != "google":
        with ours() as emulator:
            columns["ours"] = measure(emulator, args)
    if args.only != "ours" and conformance.official_available():
        with official(conformance) as emulator:
            columns["google"] = measure(emulator, args)
    elif args.only != "ours":
        print(f"Google's emulator not measured ({conformance.OFFICIAL} or java is missing)")
    print(
        f"{args.duration:g} s per measurement after {args.warmup:g} s warm-up, "
        f"{args.threads} client threads ({args.txn_threads} for transactions); "
        f"{args.docs} documents for gets/commits; {args.users} owners x {args.per_user} "
        "assets (and items) for the queries, page of 20; latencies client-side; "
        "CPU us = the emulator's CPU time per operation (its processes, from /proc)"
    )
    report(columns)
    print_load()
    # Figures are printed, never asserted; only errors (lost or failed operations) fail the run.
    return 0 if all(r.errors == 0 for rs in columns.values() for r in rs) else 1


if __name__ == "__main__":
    sys.exit(main())
