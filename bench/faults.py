"""Faults under load (issue 13): an emulator stopped, the provider failing, a function or the
video worker killed, duplicate task deliveries; each on a fresh local stack under a steady mix
of requests through the gateway, with what users saw (status, problem code, Retry-After,
latency) and what was left in Firestore and the bucket checked against the expected behaviour.

``.venv/bin/python bench/faults.py [--only firestore,storage,...] [--outage 20]``
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
import traceback
from collections.abc import Callable, Sequence

import requests
from _common import auth_emulator, gateway_url, generous_user, local_stack
from _faultaudit import audit_checks, firestore_client, stack_env
from _faultload import (
    Load,
    Outcome,
    Poller,
    Recorder,
    Users,
    by_label,
    held_check,
    recovery_seconds,
    report,
    warm_up,
)
from _faultprovider import provider_fault
from _faultvideo import video_fault
from _report import Check, ScenarioResult, standalone

from infra.local.stack import Stack

NAME = "faults"
FAULTS = ("firestore", "storage", "auth", "provider", "kill", "video")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--only", default=",".join(FAULTS), help="comma-separated faults to run")
    parser.add_argument("--outage", type=float, default=20.0, help="seconds a fault lasts")
    parser.add_argument("--before", type=float, default=8.0, help="seconds of load before it")
    parser.add_argument("--after", type=float, default=20.0, help="seconds of load after it")
    parser.add_argument("--threads", type=int, default=3, help="client threads (one user each)")
    parser.add_argument(
        "--prompt",
        type=float,
        default=5.0,
        help="seconds within which a request sent during "
        "an outage must be answered (a 503 to retry, not held until the dependency is back)",
    )
    parser.add_argument("--video-jobs", type=int, default=4, help="video jobs in fault 6")
    parser.add_argument("--sweep-after", type=int, default=5, help="sweeper's PENDING age, s")


def run(args: argparse.Namespace) -> ScenarioResult:
    result = ScenarioResult(NAME)
    runners: dict[str, Callable[[argparse.Namespace, ScenarioResult], None]] = {
        "firestore": lambda a, r: emulator_outage(a, r, "firestore"),
        "storage": lambda a, r: emulator_outage(a, r, "storage"),
        "auth": lambda a, r: emulator_outage(a, r, "auth"),
        "provider": provider_fault,
        "kill": function_killed,
        "video": video_fault,
    }
    for name in [n.strip() for n in args.only.split(",") if n.strip()]:
        print(f"fault {name} ...", flush=True)
        started = time.perf_counter()
        try:
            runners[name](args, result)
        except Exception as exc:
            traceback.print_exc()
            result.checks.append(
                Check(f"{name}: the fault scenario ran to its end", False, repr(exc))
            )
        result.figures.setdefault("seconds", {})[name] = round(time.perf_counter() - started, 1)
    return result


def function_pids(stack: Stack) -> dict[str, int | None]:
    return {
        name: child.proc.pid if child.proc and child.running else None
        for name, child in stack.children.items()
        if name.startswith("fn_")
    }


# -- checks shared by every fault --------------------------------------------------------------
def answers_check(
    claim: str, outcomes: Sequence[Outcome], allowed: Callable[[Outcome], bool]
) -> Check:
    failed = [o for o in outcomes if not o.ok]
    bad = [o for o in failed if not allowed(o)]
    detail = f"{len(failed)} failed answers: {by_label(failed)}"
    if bad:
        detail += f"; not as expected: {by_label(bad)}"
    return Check(claim, not bad, detail)


def is_503_problem(o: Outcome) -> bool:
    return o.status == 503 and o.problem and bool(o.retry_after)


def recovered_check(
    recorder: Recorder, t_up: float, t_end: float, pids_before: dict[str, int | None], stack: Stack
) -> Check:
    tail = recorder.between(max(t_up, t_end - 5), t_end)
    pids_after = function_pids(stack)
    restarted = sorted(n for n, pid in pids_before.items() if pids_after.get(n) != pid)
    ok = bool(tail) and all(o.ok for o in tail) and not restarted
    detail = (
        f"last 5 s: {len(tail)} requests, {by_label([o for o in tail if not o.ok])} failed; "
        f"recovered {recovery_seconds(recorder.between(t_up, t_end), t_up):.1f} s after the "
        f"service was back; functions restarted: {', '.join(restarted) or 'none'}"
    )
    return Check("full recovery without restarting any function", ok, detail)


# -- 1-3: an emulator stopped ------------------------------------------------------------------
def emulator_outage(args: argparse.Namespace, result: ScenarioResult, service: str) -> None:
    with local_stack(stack_env(args), storage_on_disk=True) as stack:
        users = Users([generous_user(stack) for _ in range(args.threads)])
        base, pids = gateway_url(stack), function_pids(stack)
        warm_up(base, users)
        recorder = Recorder(time.perf_counter())
        ready, session = Recorder(recorder.t0), requests.Session()
        with (
            Load(base, users, recorder) as load,
            Poller(lambda: ready.call(session, "readyz", "GET", base + "/v1/readyz")),
        ):
            time.sleep(args.before)
            t_fault = recorder.now()
            stack.stop_service(service)
            time.sleep(args.outage)
            t_restart = recorder.now()
            if service == "auth":
                # The emulator comes back without the accounts it kept in memory; production's
                # Identity Toolkit would not lose them. Users wait while they are given back.
                load.running.clear()
            stack.start_service(service)
            t_up = recorder.now()
            if service == "auth":
                restore_accounts(stack, users)
                load.running.set()
            t_restored = recorder.now()
            time.sleep(args.after)
            t_end = recorder.now()
        phases = [("before", 0.0, t_fault), ("during", t_fault, t_up)]
        phases += [("after", t_restored, t_end)]
        seen = recorder.between(t_fault, t_end)
        checks = [
            Check(
                f"{service} down: users are told (some requests answered 503 while it lasts)",
                any(is_503_problem(o) for o in recorder.between(t_fault, t_up)),
                "answers while down: " + by_label(recorder.between(t_fault, t_up)),
            ),
            answers_check(
                f"{service} down: every failed answer is 503 problem+json with Retry-After "
                "(never 500, never 401, never a dropped connection)",
                seen,
                is_503_problem,
            ),
            held_check(recorder, t_fault, t_restart, t_up, args.prompt),
            recovered_check(recorder, t_restored, t_end, pids, stack),
        ]
        if service != "auth":  # /v1/readyz checks Firestore, storage and tasks, not Auth
            checks.append(readyz_check(ready, t_fault, t_restart, t_up, t_end))
        audited, figures = audit_checks(stack, [u.uid for u in users.users], args, service)
        checks += audited
        note = (
            f"{args.threads} client threads; {service} stopped at {t_fault:.1f} s for "
            f"{args.outage:.0f} s, answering again at {t_up:.1f} s (start took "
            f"{t_up - t_restart:.1f} s); time to recover "
            f"{recovery_seconds(recorder.between(t_restored, t_end), t_restored):.1f} s; "
            f"/v1/readyz during: {by_label(ready.between(t_fault, t_restart))}, ready again "
            f"{ready_again(ready, t_up, t_end)} after the service was back"
        )
        if service == "auth":
            note += (
                "; the load paused while the emulator restarted and its accounts were given back"
            )
        title = f"{service} emulator stopped for {args.outage:.0f} s under load"
        report(result, service, title, recorder, phases, note, checks, figures)


def readyz_check(
    ready: Recorder, t_fault: float, t_restart: float, t_up: float, t_end: float
) -> Check:
    # The first second of the outage may still read ready (a check in flight when it began).
    during = ready.between(t_fault + 1.5, t_restart)
    after = ready.between(t_up + 1.0, t_end)
    ok = bool(during) and all(o.status == 503 for o in during) and bool(after)
    ok = ok and all(o.status == 200 for o in after[-3:])
    detail = f"during: {by_label(during)}; after: {by_label(after)}"
    return Check("/v1/readyz is 503 during the outage and 200 after", ok, detail)


def ready_again(ready: Recorder, t_up: float, t_end: float) -> str:
    """Seconds from the service's return until /v1/readyz answered 200 for good."""
    polls = ready.between(t_up, t_end)
    for i, poll in enumerate(polls):
        if all(o.status == 200 for o in polls[i:]):
            return f"{poll.end - t_up:.1f} s"
    return f"not within {t_end - t_up:.0f} s"


def restore_accounts(stack: Stack, users: Users) -> None:
    """The Auth emulator keeps accounts in memory: recreate them with their uids (no
    ``validSince``, so the tokens minted before the outage verify again)."""
    auth = auth_emulator(stack)
    for user in users.users:
        auth.create_user(f"{user.uid.lower()}@restored.example.com", uid=user.uid)


# -- 5: a function process killed mid-generation -----------------------------------------------
def wait_pending(stack: Stack, timeout: float = 30.0) -> bool:
    """Until an asset is PENDING: a generation charged and drawing, not yet ACTIVE."""
    from google.cloud.firestore_v1.base_query import FieldFilter

    db, deadline = firestore_client(stack), time.monotonic() + timeout
    query = db.collection("assets").where(filter=FieldFilter("state", "==", "PENDING")).limit(1)
    while time.monotonic() < deadline:
        if list(query.stream()):
            return True
        time.sleep(0.01)
    return False


def function_killed(args: argparse.Namespace, result: ScenarioResult) -> None:
    with local_stack(stack_env(args)) as stack:
        users = Users([generous_user(stack) for _ in range(args.threads)])
        warm_up(gateway_url(stack), users)
        base, recorder = gateway_url(stack), Recorder(time.perf_counter())
        with Load(base, users, recorder) as load:
            time.sleep(args.before)
            in_flight = wait_pending(stack)  # into a generation: charged, PENDING, drawing
            t_fault, cut = recorder.now(), load.generating
            stack.children["fn_generate_image"].signal_group(signal.SIGKILL)
            time.sleep(2.0)  # the gateway finds nobody answering meanwhile
            t_restart = recorder.now()
            stack.restart_function("generate_image")
            t_up = recorder.now()
            time.sleep(args.after)
            t_end = recorder.now()
        phases = [("before", 0.0, t_fault), ("during", t_fault, t_up), ("after", t_up, t_end)]
        seen = recorder.between(t_fault, t_end)
        checks = [
            Check(
                "generations were in flight when generate_image was killed",
                in_flight and cut > 0,
                f"{cut} generate requests in flight at the SIGKILL",
            ),
            answers_check(
                "the requests cut by the kill get the gateway's 502/503 problem+json "
                "(never a dropped connection)",
                seen,
                lambda o: o.status in (502, 503) and o.problem,
            ),
        ]
        tail = recorder.between(t_end - 5, t_end)
        checks.append(
            Check(
                "after restart_function every request succeeds again",
                bool(tail) and all(o.ok for o in tail),
                f"last 5 s: {len(tail)} requests; recovered "
                f"{recovery_seconds(recorder.between(t_up, t_end), t_up):.1f} s after the restart",
            )
        )
        audited, figures = audit_checks(stack, [u.uid for u in users.users], args, "kill")
        checks += audited
        note = (
            f"{args.threads} client threads; generate_image's process group SIGKILLed at "
            f"{t_fault:.1f} s with {cut} generate(s) in flight, restarted at {t_restart:.1f} s "
            f"(healthy after {t_up - t_restart:.1f} s); the sweeper (PENDING older than "
            f"{args.sweep_after} s) then refunds what the dead process charged"
        )
        title = "generate_image killed (SIGKILL) mid-generation under load"
        report(result, "kill", title, recorder, phases, note, checks, figures)


if __name__ == "__main__":
    sys.exit(standalone(sys.modules[__name__]))
