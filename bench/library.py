"""Signed URLs and the asset library: signUrl latency and throughput with URL reuse against
re-signing every URL, signing calls per 1,000 requests, library page latency, and Firestore
RPCs per request.

Run: .venv/bin/python bench/library.py [--requests N] [--concurrency N] [--distinct N]

Starts the whole local stack on free ports and gives one user ~200 assets: a dozen generated
for real (their URLs download) and the rest written straight to Firestore as generate_image
writes them (same records and search terms; no objects, which signing does not need). Then:

* signUrl: ``--requests`` POST /v1/assets/{id}:signUrl through the gateway from
  ``--concurrency`` threads over a repeat-view mix (``--distinct`` assets, popularity 1/rank,
  the generated ones most viewed), in two scenarios that alternate in rounds: "reuse" asks
  every time for the default TTL, so the function hands out the URL it signed for that user,
  asset and TTL within the reuse window (generation itself already asked for the generated
  assets' URLs); "re-sign every URL" asks each request for a different TTL, so nothing is
  reused (the cost without the cache). Signing calls are the difference in the function's own
  /statusz counters around each run.
  Locally a signature is an RSA operation in the process; in production each one is an IAM
  signBlob RPC, so the calls column is what reuse saves in RPCs.
* library: GET /v1/assets with page_size 50 through the gateway: the first page, following
  pages (page_token), a prompt search, at concurrency 1 and at ``--concurrency``.
* Firestore RPCs: the library and issue_signed_url code runs in this process
  (functions_framework.create_app(...).test_client(), the stack's function environment) with a
  gRPC client interceptor on the Firestore client's channel counting every call by method.
  The function processes of the stack are not instrumented; this is the same code against the
  same emulator. ID-token checks go to the Auth emulator over HTTP and are not counted.

The gateway runs inside this process (as in `make dev` and the tests), sharing its GIL with the
client threads. Prints figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import os
import random
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from _common import (
    ROOT,
    BenchUser,
    gateway_url,
    generous_user,
    local_stack,
    ms,
    percentile,
    print_context,
    print_load,
    print_table,
    run_together,
)

from infra.local.stack import Stack

if str(ROOT / "functions") not in sys.path:
    sys.path.insert(0, str(ROOT / "functions"))

TOTAL_ASSETS = 200
GENERATED = 12  # three count=4 generations: real objects, downloadable URLs
PAGE = 50
ROUNDS = 2  # signing scenarios alternate this many times
PROMPTS = [
    "a lighthouse on a cliff at dusk",
    "lightning over a dark sea",
    "a flight of swallows over wheat",
    "red fox in fresh snow",
    "a café terrace at night",
]


# -- setup --------------------------------------------------------------------------------------
def seed_assets(stack: Stack, user: BenchUser, count: int) -> list[str]:
    """``count`` asset documents as generate_image writes them, a minute apart, oldest first."""
    from google.cloud import firestore

    from genmedia import search
    from genmedia.store.assets import new_asset_id
    from genmedia.store.records import AssetRecord, ObjectRef

    db = firestore.Client(project=stack.options.project_id)
    start = datetime.now(UTC) - timedelta(days=30)
    ids = []
    batch = db.batch()
    for i in range(count):
        asset_id = new_asset_id()
        base = f"users/{user.uid}/assets/{asset_id}"
        prompt = PROMPTS[i % len(PROMPTS)]
        when = start + timedelta(minutes=i)
        asset = AssetRecord(
            id=asset_id, owner_uid=user.uid, type="image", state="ACTIVE", prompt=prompt,
            params={"aspect_ratio": "1:1", "provider": "local"}, cost_micros=0,
            create_time=when, update_time=when, sha256="0" * 64,
            search_terms=search.terms(prompt),
            objects={
                "original": ObjectRef(f"{base}/original.png", "image/png", 400_000, 1024, 1024),
                "thumbnail": ObjectRef(f"{base}/thumbnail.webp", "image/webp", 4000, 256, 256),
            },
        )  # fmt: skip
        batch.set(db.collection("assets").document(asset_id), asset.to_doc())
        ids.append(asset_id)
    batch.commit()
    return ids


def generate_assets(stack: Stack, user: BenchUser, count: int) -> list[str]:
    ids: list[str] = []
    while len(ids) < count:
        body = {"prompt": PROMPTS[len(ids) % len(PROMPTS)], "count": min(4, count - len(ids))}
        resp = requests.post(
            gateway_url(stack) + "/v1/images:generate", json=body, headers=user.headers, timeout=120
        )
        if resp.status_code != 200:
            raise RuntimeError(f"generate failed: {resp.status_code} {resp.text[:300]}")
        ids += [a["id"] for a in resp.json()["assets"]]
    return ids


def statusz(stack: Stack) -> dict[str, int]:
    resp = requests.get(stack.function_url("issue_signed_url") + "/statusz", timeout=10)
    counters: dict[str, int] = resp.json()["signing"]
    return counters


# -- load ---------------------------------------------------------------------------------------
@dataclass
class Samples:
    latencies_ms: list[float] = field(default_factory=list)
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    wall_s: float = 0.0
    urls: list[tuple[str, str]] = field(default_factory=list)  # (asset id, url)

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.wall_s if self.wall_s else float("nan")


Call = Callable[[requests.Session], requests.Response]


def run(calls: list[tuple[str, Call]], concurrency: int, into: Samples) -> None:
    """Every call once, from ``concurrency`` threads (one keep-alive Session each)."""
    feed: Iterator[tuple[str, Call]] = iter(calls)
    lock = threading.Lock()

    def worker(start: threading.Barrier) -> None:
        with requests.Session() as session:
            start.wait()
            while True:
                with lock:
                    item = next(feed, None)
                if item is None:
                    return
                key, call = item
                began = time.perf_counter()
                try:
                    resp = call(session)
                    error = None if resp.status_code == 200 else str(resp.status_code)
                except requests.RequestException as exc:
                    resp, error = None, type(exc).__name__
                elapsed = (time.perf_counter() - began) * 1000
                url = resp.json().get("url") if key and resp is not None and not error else None
                with lock:
                    if error is not None:
                        into.errors[error] += 1
                        continue
                    into.latencies_ms.append(elapsed)
                    if url:
                        into.urls.append((key, url))

    into.wall_s += run_together(concurrency, worker)


def sign_call(base: str, user: BenchUser, asset_id: str, body: dict[str, Any]) -> Call:
    url = f"{base}/v1/assets/{asset_id}:signUrl"
    return lambda session: session.post(url, json=body, headers=user.headers, timeout=60)


def view_mix(ids: list[str], newest: list[str], total: int, distinct: int, seed: int) -> list[str]:
    """``total`` views of ``distinct`` assets with Zipf-like popularity (weight 1/rank): the
    ``newest`` (the generated ones, whose URLs download) most viewed, then older ones."""
    rng = random.Random(seed)
    older = [i for i in ids if i not in set(newest)]
    viewed = (newest + rng.sample(older, distinct))[:distinct]
    return rng.choices(viewed, weights=[1 / (k + 1) for k in range(distinct)], k=total)


def bench_signing(
    stack: Stack, user: BenchUser, ids: list[str], real: list[str], args: argparse.Namespace
) -> None:
    base = gateway_url(stack)
    # Warm-up: handlers imported, clients created (TTLs no scenario uses).
    run([(i, sign_call(base, user, i, {"ttl_seconds": 3000 + n})) for n, i in enumerate(ids[:20])],
        4, Samples())  # fmt: skip
    views = view_mix(ids, real, args.requests, args.distinct, seed=7)
    scenarios = {
        "re-sign every URL (TTL varies)": [
            (i, sign_call(base, user, i, {"ttl_seconds": 1000 + n})) for n, i in enumerate(views)
        ],
        "reuse (default TTL 900 s)": [(i, sign_call(base, user, i, {})) for i in views],
    }
    results = {name: Samples() for name in scenarios}
    signs = dict.fromkeys(scenarios, 0)
    half = len(views) // ROUNDS
    for round_no in range(ROUNDS):  # the scenarios alternate, so drift hits both alike
        for name, calls in scenarios.items():
            before = statusz(stack)["sign_calls"]
            run(calls[round_no * half : (round_no + 1) * half], args.concurrency, results[name])
            signs[name] += statusz(stack)["sign_calls"] - before
    rows: list[list[object] | None] = []
    for name, samples in results.items():
        n, lat = len(samples.latencies_ms), samples.latencies_ms
        rows.append([
            name, n, sum(samples.errors.values()), ms(percentile(lat, 50)), ms(percentile(lat, 95)),
            ms(percentile(lat, 99)), f"{samples.rate:.0f}", signs[name],
            f"{signs[name] / max(1, n) * 1000:.0f}", len({u for _, u in samples.urls}),
        ])  # fmt: skip
    print(
        f"\nPOST /v1/assets/{{id}}:signUrl through the gateway: {args.requests} requests, "
        f"concurrency {args.concurrency}, {args.distinct} distinct assets (Zipf-like views), "
        f"{ROUNDS} alternating rounds;\n"
        "latency in ms (client side); signs = signing calls by issue_signed_url (its /statusz), "
        "in production one IAM signBlob RPC each"
    )
    print_table(
        ["scenario", "n", "err", "p50", "p95", "p99", "req/s", "signs", "signs/1k", "URLs"],
        rows,
    )
    reused = results["reuse (default TTL 900 s)"].urls
    checked = list({u: i for i, u in reused if i in real}.items())[:20]
    ok = sum(requests.get(u, timeout=30).status_code == 200 for u, _ in checked)
    print(f"downloads: {ok}/{len(checked)} reused URLs of generated assets served the object")


def bench_pages(stack: Stack, user: BenchUser, concurrency: int, walks: int) -> None:
    base = gateway_url(stack)
    session = requests.Session()

    def tokens(**params: Any) -> list[str]:
        found, token = [""], ""
        while True:
            query = {"page_size": PAGE, **params, **({"page_token": token} if token else {})}
            token = session.get(base + "/v1/assets", params=query, headers=user.headers,
                                timeout=60).json()["next_page_token"]  # fmt: skip
            if not token:
                return found
            found.append(token)

    def page_call(token: str, **params: Any) -> Call:
        query = {"page_size": PAGE, **params, **({"page_token": token} if token else {})}
        return lambda s: s.get(base + "/v1/assets", params=query, headers=user.headers, timeout=60)

    walk = tokens()
    search = tokens(q="lig")
    cases = {
        "first page": [("", page_call(""))] * walks,
        "following pages (page_token)": [("", page_call(t)) for t in walk[1:]] * walks,
        "search q=lig, first page": [("", page_call("", q="lig"))] * walks,
        "show_deleted, first page": [("", page_call("", show_deleted="true"))] * walks,
    }
    rows: list[list[object] | None] = []
    for conc in (1, concurrency):
        for name, calls in cases.items():
            samples = Samples()
            run(calls, conc, samples)
            lat = samples.latencies_ms
            rows.append([f"{name}, conc {conc}", len(lat), sum(samples.errors.values()),
                         ms(percentile(lat, 50)), ms(percentile(lat, 95)), ms(percentile(lat, 99)),
                         f"{samples.rate:.0f}"])  # fmt: skip
        rows.append(None)
    print(
        f"\nGET /v1/assets?page_size={PAGE} through the gateway ({TOTAL_ASSETS} assets: "
        f"{len(walk)} pages; the search matches {len(search)} page(s)); latency in ms"
    )
    print_table(["request", "n", "err", "p50", "p95", "p99", "req/s"], rows[:-1])


# -- Firestore RPCs, in process ----------------------------------------------------------------
class RpcCounter:
    """A gRPC client interceptor: counts every call on the channel by method name."""

    def __init__(self) -> None:
        self.calls: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()

    def _count(self, details: Any) -> None:
        with self.lock:
            self.calls[details.method.rsplit("/", 1)[-1]] += 1

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        self._count(details)
        return continuation(details, request)

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        self._count(details)
        return continuation(details, request)

    def intercept_stream_unary(self, continuation: Any, details: Any, iterator: Any) -> Any:
        self._count(details)
        return continuation(details, iterator)

    def intercept_stream_stream(self, continuation: Any, details: Any, iterator: Any) -> Any:
        self._count(details)
        return continuation(details, iterator)

    def take(self) -> collections.Counter[str]:
        with self.lock:
            taken, self.calls = self.calls, collections.Counter()
        return taken


def instrumented_clients(
    stack: Stack, names: tuple[str, ...] = ("library", "issue_signed_url")
) -> tuple[dict[str, Any], RpcCounter]:
    """functions-framework test clients of ``names`` in this process, their Firestore
    client's channel wrapped by an RpcCounter."""
    import grpc
    from grpc import (
        StreamStreamClientInterceptor,
        StreamUnaryClientInterceptor,
        UnaryStreamClientInterceptor,
        UnaryUnaryClientInterceptor,
    )

    env = stack.function_env("library")
    env.pop("FUNCTION_TARGET", None)
    env["GENMEDIA_LOG_LEVEL"] = "WARNING"  # no access log lines in the bench output
    os.environ.update(env)
    import functions_framework

    from genmedia.bootstrap import deps

    class Interceptor(
        RpcCounter,
        UnaryUnaryClientInterceptor,
        UnaryStreamClientInterceptor,
        StreamUnaryClientInterceptor,
        StreamStreamClientInterceptor,
    ):
        pass

    counter = Interceptor()
    client = deps().firestore()
    plain = client._emulator_channel  # the emulator's insecure channel, made on first use

    def counted_channel(transport: Any) -> Any:
        return grpc.intercept_channel(plain(transport), counter)

    client._emulator_channel = counted_channel  # type: ignore[method-assign]
    source = str(ROOT / "functions" / "main.py")
    apps = {
        name: functions_framework.create_app(target=name, source=source).test_client()
        for name in names
    }
    return apps, counter


def bench_rpcs(stack: Stack, user: BenchUser, ids: list[str], repeats: int) -> None:
    apps, counter = instrumented_clients(stack)
    headers = user.headers
    lib, signer = apps["library"], apps["issue_signed_url"]
    first = lib.get("/v1/assets", query_string={"page_size": PAGE}, headers=headers)
    token = first.get_json()["next_page_token"]
    n = itertools.count()
    requests_: dict[str, Callable[[], Any]] = {
        "list: first page": lambda: lib.get(
            "/v1/assets", query_string={"page_size": PAGE}, headers=headers
        ),
        "list: next page (page_token)": lambda: lib.get(
            "/v1/assets", query_string={"page_size": PAGE, "page_token": token}, headers=headers
        ),
        "list: search q=lig": lambda: lib.get(
            "/v1/assets", query_string={"page_size": PAGE, "q": "lig"}, headers=headers
        ),
        "list: show_deleted": lambda: lib.get(
            "/v1/assets", query_string={"page_size": PAGE, "show_deleted": "true"}, headers=headers
        ),
        "get one asset": lambda: lib.get(f"/v1/assets/{ids[0]}", headers=headers),
        "usage": lambda: lib.get("/v1/usage", headers=headers),
        "signUrl (same TTL: reused URL)": lambda: signer.post(
            f"/v1/assets/{ids[1]}:signUrl", json={"ttl_seconds": 500}, headers=headers
        ),
        "signUrl (new TTL each time)": lambda: signer.post(
            f"/v1/assets/{ids[1]}:signUrl", json={"ttl_seconds": 600 + next(n)}, headers=headers
        ),
        f"batchSignUrls of {PAGE}": lambda: signer.post(
            "/v1/assets:batchSignUrls", json={"ids": ids[:PAGE]}, headers=headers
        ),
    }
    rows: list[list[object] | None] = []
    for name, do in requests_.items():
        do()  # warm: the first call of a route imports its handler
        counter.take()
        latencies, statuses = [], collections.Counter()
        for _ in range(repeats):
            began = time.perf_counter()
            statuses[do().status_code] += 1
            latencies.append((time.perf_counter() - began) * 1000)
        calls = counter.take()
        per = {m: c / repeats for m, c in calls.items()}
        rows.append([
            name, repeats, ",".join(str(s) for s in sorted(statuses)),
            f"{sum(per.values()):g}", " ".join(f"{m} {c:g}" for m, c in sorted(per.items())),
            ms(percentile(latencies, 50)),
        ])  # fmt: skip
    print(
        "\nFirestore RPCs per request: library and issue_signed_url code in this process "
        "(functions_framework test client, same emulator), counted by a gRPC interceptor on "
        "the Firestore channel; p50 = in-process handler time in ms (no HTTP, no gateway)"
    )
    print_table(["request", "n", "status", "RPCs", "by method", "p50"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="signUrl requests per scenario")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--distinct", type=int, default=50, help="distinct assets viewed")
    parser.add_argument("--walks", type=int, default=50, help="repeats of each library request")
    args = parser.parse_args()
    print_context("library: signed URLs and the asset library")
    started = time.perf_counter()
    with local_stack() as stack:
        os.environ.update(stack.emulator_env())  # for this process's own Google clients
        user = generous_user(stack)
        real = generate_assets(stack, user, GENERATED)
        ids = real + seed_assets(stack, user, TOTAL_ASSETS - GENERATED)
        print(f"{len(ids)} assets for one user ({len(real)} generated, the rest seeded)")
        bench_signing(stack, user, ids, real, args)
        bench_pages(stack, user, args.concurrency, args.walks)
        bench_rpcs(stack, user, ids, repeats=20)
    print_load()
    print(f"total run time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
