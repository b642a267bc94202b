"""Fault 4 of bench/faults.py: the image provider (Vertex Imagen, a local HTTP fake the real
google-genai SDK in generate_image talks to) answering 429 and 503 for a while under load.

Expected: each generation retries with jittered backoff (attempts counted at the fake, grouped
by prompt), the breaker opens (fast 503 PROVIDER_UNAVAILABLE with Retry-After, the provider
not called), nothing stays charged, and generation comes back once the provider does.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import threading
import time
from collections import Counter, defaultdict

import requests
from _common import gateway_url, generous_user, local_stack
from _faultaudit import audit_checks, stack_env
from _faultload import (
    Load,
    Outcome,
    Poller,
    Recorder,
    Users,
    by_label,
    latency_ms,
    recovery_seconds,
    report,
    warm_up,
)
from _report import Check, ScenarioResult

from tests.fakes.server import RecordedRequest, Reply, Route
from tests.fakes.vertex import ApiError, FakeVertex

RETRY_ATTEMPTS = 3
BREAKER_THRESHOLD = 3
BREAKER_RESET_SECONDS = 5
BASE_DELAY_S = 0.2  # genmedia.retry.retry_call's first backoff ceiling


class Flaky:
    """The Imagen route, answering 429 and 503 in turn while ``failing`` is set."""

    def __init__(self, healthy: Route, t0: float) -> None:
        self.healthy, self.t0, self.failing = healthy, t0, False
        self.attempts: list[tuple[float, str, int]] = []  # (seconds, prompt, status)
        self._lock = threading.Lock()

    def __call__(self, request: RecordedRequest) -> Reply:
        prompt = str((request.instances or [{}])[0].get("prompt", ""))
        with self._lock:
            failing, n = self.failing, len(self.attempts)
        if failing:
            error = ApiError.rate_limited() if n % 2 else ApiError.unavailable()
            reply = error.reply(request)
        else:
            reply = self.healthy(request)
        with self._lock:
            self.attempts.append((time.perf_counter() - self.t0, prompt, reply.status))
        return reply


def provider_fault(args: argparse.Namespace, result: ScenarioResult) -> None:
    t0 = time.perf_counter()
    fake = FakeVertex(project="demo-genmedia", token=None)  # StackOptions' default project
    flaky = Flaky(fake.imagen, t0)
    fake.routes["predict"] = flaky
    fake.start()
    env = {
        **stack_env(args),
        "GENMEDIA_IMAGE_PROVIDER": "vertex",
        "GENMEDIA_VERTEX_BASE_URL": fake.base_url,
        "GENMEDIA_RETRY_MAX_ATTEMPTS": str(RETRY_ATTEMPTS),
        "GENMEDIA_RETRY_DEADLINE_SECONDS": "20",
        "GENMEDIA_BREAKER_FAILURE_THRESHOLD": str(BREAKER_THRESHOLD),
        "GENMEDIA_BREAKER_RESET_SECONDS": str(BREAKER_RESET_SECONDS),
    }
    try:
        with local_stack(env) as stack:
            users = Users([generous_user(stack) for _ in range(args.threads)])
            warm_up(gateway_url(stack), users)
            t0 = flaky.t0 = time.perf_counter()
            recorder, breaker = Recorder(t0), Recorder(t0)
            readyz, session = stack.function_url("generate_image") + "/readyz", requests.Session()
            states: list[tuple[float, str]] = []

            def poll() -> None:
                try:
                    report = session.get(readyz, timeout=10).json()
                    states.append((breaker.now(), report["breakers"]["vertex"]["state"]))
                except (requests.RequestException, ValueError, KeyError):
                    states.append((breaker.now(), "unknown"))

            mix = ("generate", "replay", "usage")
            with Load(gateway_url(stack), users, recorder, mix=mix), Poller(poll, 0.25):
                time.sleep(args.before)
                t_fault = recorder.now()
                flaky.failing = True
                time.sleep(args.outage)
                t_heal = recorder.now()
                flaky.failing = False
                time.sleep(args.after)
                t_end = recorder.now()
            phases = [
                ("before", 0.0, t_fault),
                ("during", t_fault, t_heal),
                ("after", t_heal, t_end),
            ]
            checks = _checks(recorder, flaky, states, t_fault, t_heal, t_end)
            audited, figures = audit_checks(stack, [u.uid for u in users.users], args, "provider")
    finally:
        fake.stop()
    fast = _fast_rejections(recorder, flaky, t_fault, t_heal)
    calls = sum(1 for at, _, _ in flaky.attempts if t_fault <= at < t_heal)
    note = (
        f"{args.threads} client threads (generate, replay, usage); the fake answered 429 and 503 "
        f"in turn from {t_fault:.1f} s to {t_heal:.1f} s; retries {RETRY_ATTEMPTS} attempts, "
        f"breaker opens after {BREAKER_THRESHOLD} failed requests for {BREAKER_RESET_SECONDS} s; "
        f"provider calls during the fault: {calls}; "
        f"breaker-rejected generates: {len(fast)} (p50 {latency_ms(fast, 50):.1f} ms); time to "
        f"recover {recovery_seconds(recorder.between(t_heal, t_end), t_heal):.1f} s"
    )
    figures["breaker_states"] = dict(Counter(s for t, s in states if t_fault <= t < t_heal))
    report(
        result,
        "provider",
        "provider answering 429/503 under load",
        recorder,
        phases,
        note,
        checks + audited,
        figures,
    )


def _fast_rejections(recorder: Recorder, flaky: Flaky, start: float, end: float) -> list[Outcome]:
    called = {prompt for _, prompt, _ in flaky.attempts}
    generates = recorder.between(start, end, ("generate",))
    return [o for o in generates if not o.ok and o.tag not in called]


def _checks(
    recorder: Recorder,
    flaky: Flaky,
    states: list[tuple[float, str]],
    t_fault: float,
    t_heal: float,
    t_end: float,
) -> list[Check]:
    per_prompt: dict[str, list[float]] = defaultdict(list)
    for at, prompt, status in flaky.attempts:
        if t_fault <= at < t_heal + 5 and status != 200:
            per_prompt[prompt].append(at)
    tries = Counter(len(times) for times in per_prompt.values())
    delays = [b - a for times in per_prompt.values() for a, b in itertools.pairwise(times)]
    first = [times[1] - times[0] for times in per_prompt.values() if len(times) > 1]
    spread = statistics.pstdev(first) if len(first) > 1 else 0.0
    during = recorder.between(t_fault, t_end)
    fast = _fast_rejections(recorder, flaky, t_fault, t_heal)
    tail = recorder.between(t_end - 5, t_end)
    open_seen = any(s == "open" for t, s in states if t_fault <= t < t_heal)
    return [
        Check(
            f"each failing generation is retried, at most {RETRY_ATTEMPTS} provider calls",
            bool(tries) and max(tries) <= RETRY_ATTEMPTS and any(n > 1 for n in tries),
            "requests by provider calls: "
            + ", ".join(f"{n} calls x{c}" for n, c in sorted(tries.items())),
        ),
        Check(
            "retries wait a jittered backoff (first waits spread, none above its ceiling)",
            len(first) > 1 and spread > 0.005 and max(first) < BASE_DELAY_S + 0.25,
            f"{len(delays)} waits; first waits (ms): min {1000 * min(first, default=0):.0f}, "
            f"max {1000 * max(first, default=0):.0f}, stdev {1000 * spread:.0f}",
        ),
        Check(
            "the breaker opens: a fast 503 PROVIDER_UNAVAILABLE with Retry-After, no provider call",
            open_seen
            and bool(fast)
            and all(
                o.status == 503 and o.code == "PROVIDER_UNAVAILABLE" and o.retry_after for o in fast
            ),
            f"breaker open seen on /readyz: {open_seen}; {len(fast)} rejected without a provider "
            f"call: {by_label(fast)}, p95 {latency_ms(fast, 95):.1f} ms",
        ),
        Check(
            "every failed answer is 503 problem+json with Retry-After",
            all(o.status == 503 and o.problem and o.retry_after for o in during if not o.ok),
            by_label([o for o in during if not o.ok]),
        ),
        Check(
            "generation comes back once the provider does",
            bool(tail) and all(o.ok for o in tail),
            f"last 5 s: {len(tail)} requests, {by_label([o for o in tail if not o.ok])} failed",
        ),
    ]
