"""Load: many clients at once through the gateway, with correctness checked on every answer.

Run: .venv/bin/python bench/load.py [--requests 2000 --keys 400 --clients 75 ...]

Three blocks on one fresh local stack, each from the load driver's own process:
- generate: ``--requests`` POST /v1/images:generate over ``--keys`` distinct Idempotency-Keys
  (each sent requests/keys times, shuffled) by ``--users`` users at ``--clients`` concurrent:
  one generation per key, replays byte-identical, usage charged once per key, no 5xx.
- cheap paths: ``--cheap-requests`` of a shuffled mix of idempotent replays, :signUrl, a library
  page and usage at the same concurrency, beside two baselines of the same shape measured in
  the same run: this project's GET /v1/healthz through the gateway, and a hello-world
  functions-framework function (the framework's floor).
- videos: ``--videos`` submits with Idempotency-Keys, each followed on its SSE stream to the end.
CPU per request of every function and emulator comes from /proc around each block.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import uuid
from collections import defaultdict
from typing import Any

import requests
from _common import (
    BenchUser,
    cpu_seconds,
    gateway_url,
    group_pids,
    local_stack,
    new_user,
    raise_quotas,
    server_errors,
)
from _drive import COLUMNS, Block, drive, latency_over_time, row, summary
from _floor import hello_world
from _report import Check, ScenarioResult, Series, Table, standalone
from _sampling import Sampler
from _video_load import video_block

from infra.local.stack import Stack

NAME = "load"
CHEAP_TAGS = ("replay", "signUrl", "library page", "usage")
SERVED_BY = {"replay": "generate_image", "signUrl": "issue_signed_url"}
# Measured before the hot-path work (issue #13): the cheap mix at 75 clients on this machine.
EARLIER_CHEAP_REQ_PER_S = 114.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--requests", type=int, default=2000, help="generate requests")
    parser.add_argument("--keys", type=int, default=400, help="distinct Idempotency-Keys")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--clients", type=int, default=75, help="concurrent clients")
    parser.add_argument("--cheap-requests", type=int, default=2000)
    parser.add_argument("--videos", type=int, default=12)
    parser.add_argument("--seed", type=int, default=13)


def generate_plan(stack: Stack, users: list[BenchUser], args: argparse.Namespace) -> list[Any]:
    url = gateway_url(stack) + "/v1/images:generate"
    plan = []
    for k in range(args.keys):
        user = users[k % len(users)]
        headers = {**user.headers, "Idempotency-Key": f"load-{k}-{uuid.uuid4().hex[:8]}"}
        spec = {"method": "POST", "url": url, "headers": headers, "tag": f"{k}", "keep_body": True}
        spec["json"] = {"prompt": f"a lighthouse at dusk, study {k}", "count": 1}
        plan += [spec] * (args.requests // args.keys)
    random.Random(args.seed).shuffle(plan)
    return plan


def check_generate(
    stack: Stack, users: list[BenchUser], block: Block, keys: int
) -> tuple[list[Check], dict[str, str]]:
    by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in block.results:
        by_key[r["tag"]].append(r)
    ok = {k: [r for r in rs if r["status"] == 200] for k, rs in by_key.items()}
    asset_of = {k: rs[0]["body"] for k, rs in ok.items() if rs}
    distinct = {k: {r["sha256"] for r in rs} for k, rs in ok.items()}
    used = 0
    for user in users:
        resp = requests.get(f"{gateway_url(stack)}/v1/usage", headers=user.headers, timeout=60)
        used += int(resp.json()["images"]["used"])
    fives = sum(1 for r in block.results if r["status"] >= 500 or r["status"] == 0)
    replays = sum(len(rs) - 1 for rs in ok.values())
    return [
        Check(
            "every key got its generation (a 200)", len(asset_of) == keys, f"{len(asset_of)}/{keys}"
        ),
        Check(
            "replays are byte-identical to the first answer",
            all(len(s) == 1 for s in distinct.values()),
            f"{replays} replays, {sum(len(s) > 1 for s in distinct.values())} keys differing",
        ),
        Check("usage charged exactly once per key", used == keys, f"{used} images for {keys} keys"),
        Check(
            "no 5xx and no transport error",
            fives == 0,
            f"{fives}" + "".join(f"\n    {line}" for line in server_errors(stack) if fives),
        ),
    ], asset_of


def cheap_plan(
    stack: Stack, gen: list[Any], asset_of: dict[str, str], n: int, seed: int
) -> list[Any]:
    base = gateway_url(stack)
    rng = random.Random(seed)
    firsts = {spec["tag"]: spec for spec in gen}
    keys = sorted(asset_of)
    plan = []
    for i in range(n):
        tag = CHEAP_TAGS[i % len(CHEAP_TAGS)]
        key = rng.choice(keys)
        first = firsts[key]
        user_headers = {"Authorization": first["headers"]["Authorization"]}
        if tag == "replay":
            spec = {**first, "keep_body": False}
        elif tag == "signUrl":
            asset = json.loads(asset_of[key])["assets"][0]["id"]
            spec = {"method": "POST", "url": f"{base}/v1/assets/{asset}:signUrl", "json": {}}
        elif tag == "library page":
            spec = {"method": "GET", "url": f"{base}/v1/assets?page_size=20"}
        else:
            spec = {"method": "GET", "url": f"{base}/v1/usage"}
        plan.append({**spec, "headers": spec.get("headers", user_headers), "tag": tag})
    rng.shuffle(plan)
    return plan


def cpu_table(title: str, blocks: dict[str, tuple[Block, int]]) -> Table:
    """CPU ms per request of every process that did work, per block."""
    labels = sorted({k for b, _ in blocks.values() for k, v in b.cpu_s.items() if v > 0.05})
    rows: list[list[object] | None] = []
    for label in labels:
        rows.append(
            [label] + [round(b.cpu_s.get(label, 0.0) / n * 1000, 2) for b, n in blocks.values()]
        )
    return Table(title, ["process"] + [f"{k} (ms/req)" for k in blocks], rows)


def run(args: argparse.Namespace) -> ScenarioResult:
    result = ScenarioResult(NAME)
    with local_stack() as stack, hello_world() as floor, Sampler(stack, interval=1.0) as sampler:
        users = [new_user(stack) for _ in range(args.users)]
        raise_quotas(stack, users, {"images_per_day": 1_000_000, "videos_per_month": 1_000_000})
        gen_specs = generate_plan(stack, users, args)
        print(f"generate: {len(gen_specs)} requests, {args.keys} keys, {args.clients} clients")
        gen = drive(stack, gen_specs, args.clients)
        checks, asset_of = check_generate(stack, users, gen, args.keys)
        result.checks += checks

        print(f"cheap paths: {args.cheap_requests} requests and two baselines of that shape")
        cheap_specs = cheap_plan(stack, gen_specs, asset_of, args.cheap_requests, args.seed)
        health = [{"method": "GET", "url": gateway_url(stack) + "/v1/healthz", "tag": "healthz"}]
        healthz = drive(stack, health * args.cheap_requests, args.clients)
        floor_before = cpu_seconds(group_pids(floor.pgid))
        hello = drive(
            None,
            [{"method": "GET", "url": floor.url, "tag": "hello"}] * args.cheap_requests,
            args.clients,
        )
        floor_cpu = cpu_seconds(group_pids(floor.pgid)) - floor_before
        cheap = drive(stack, cheap_specs, args.clients)
        videos = video_block(stack, users, args.videos, args.clients)
    result.series.append(
        Series("generate: latency over time", "ms", latency_over_time(gen.results))
    )
    result.series.append(
        Series("cheap paths: latency over time", "ms", latency_over_time(cheap.results))
    )
    result.series.append(Series("RSS of every process", "MiB", sampler.series("rss_kib", 1 / 1024)))
    _tables(result, args, gen, cheap, healthz, hello, floor_cpu)
    result.tables.append(videos.table)
    result.checks += videos.checks
    result.figures["videos"] = videos.figures
    return result


def _tables(
    result: ScenarioResult,
    args: argparse.Namespace,
    gen: Block,
    cheap: Block,
    healthz: Block,
    hello: Block,
    floor_cpu: float,
) -> None:
    figures = {
        "generate": summary(gen.results, gen.wall_s),
        "cheap mix": summary(cheap.results, cheap.wall_s),
        "GET /v1/healthz (baseline)": summary(healthz.results, healthz.wall_s),
        "hello world (floor)": summary(hello.results, hello.wall_s),
    }
    for tag in CHEAP_TAGS:
        figures[f"  {tag}"] = summary([r for r in cheap.results if r["tag"] == tag], cheap.wall_s)
    result.figures["blocks"] = figures
    result.tables.append(
        Table(
            f"Latency and throughput at {args.clients} concurrent clients",
            COLUMNS,
            [row(label, f) for label, f in figures.items()],
            "Per-path rows of the cheap mix share its wall time (their req/s add up to the mix's).",
        )
    )
    per_fn = _cheap_fn_cpu(cheap, healthz, hello, floor_cpu)
    result.figures["cheap_fn_cpu_ms"] = per_fn
    result.tables.append(
        Table(
            "Function CPU per cheap request (ms), beside the baselines of the same run",
            ["serving process", "ms/req", "x /v1/healthz", "x hello world"],
            [
                [
                    k,
                    round(v, 2),
                    round(v / per_fn["health"], 2),
                    round(v / per_fn["hello world"], 2),
                ]
                for k, v in per_fn.items()
            ],
        )
    )
    result.tables.append(cpu_table("CPU per request of every process", {
        "generate": (gen, len(gen.results)), "cheap mix": (cheap, len(cheap.results)),
        "healthz": (healthz, len(healthz.results)),
    }))  # fmt: skip
    mix = figures["cheap mix"]
    worst = max(v for k, v in per_fn.items() if k not in ("health", "hello world"))
    result.checks += [
        Check(
            f"cheap paths: p95 under 1 s at {args.clients} clients",
            mix["p95_ms"] < 1000,
            f"{mix['p95_ms']:.0f} ms",
        ),
        Check(
            f"cheap paths: at least 2.5x the {EARLIER_CHEAP_REQ_PER_S:.0f} req/s measured before",
            mix["req_per_s"] >= 2.5 * EARLIER_CHEAP_REQ_PER_S,
            f"{mix['req_per_s']:.0f} req/s",
        ),
        Check(
            "function CPU per cheap request at most 2x /v1/healthz's",
            worst <= 2 * per_fn["health"],
            f"worst {worst:.2f} ms vs healthz {per_fn['health']:.2f} ms",
        ),
        Check("cheap paths: no 5xx", mix["server_errors"] == 0, f"{mix['server_errors']}"),
    ]


def _cheap_fn_cpu(cheap: Block, healthz: Block, hello: Block, floor_cpu: float) -> dict[str, float]:
    served: dict[str, int] = defaultdict(int)
    for r in cheap.results:
        served[SERVED_BY.get(r["tag"], "library")] += 1
    per_fn = {fn: cheap.cpu_s.get(fn, 0.0) / n * 1000 for fn, n in served.items()}
    per_fn["health"] = healthz.cpu_s.get("health", 0.0) / len(healthz.results) * 1000
    per_fn["hello world"] = floor_cpu / len(hello.results) * 1000
    return per_fn


if __name__ == "__main__":
    sys.exit(standalone(sys.modules[__name__]))
