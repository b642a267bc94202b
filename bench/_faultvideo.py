"""Fault 6 of bench/faults.py: the video worker SIGKILLed mid-job and its tasks delivered more
than once (the Cloud Tasks emulator's fault injection: a failed attempt whose worker ran
anyway, and a duplicate of every step after it succeeded), with users watching their jobs.

Expected: every job completes once, with one asset and one charge.
"""

from __future__ import annotations

import argparse
import signal
import threading
import time
import uuid
from typing import Any

import requests
from _common import BenchUser, gateway_url, generous_user, local_stack
from _faultaudit import audit_checks, stack_env
from _faultload import Recorder, by_label, latency_ms, report
from _report import Check, ScenarioResult, Table

from infra.local.stack import Stack

QUEUE = "video-jobs"
TERMINAL = {"SUCCEEDED", "FAILED", "CANCELLED"}


def video_fault(args: argparse.Namespace, result: ScenarioResult) -> None:
    env = {**stack_env(args), "GENMEDIA_QUOTA_VIDEOS_PER_MONTH": "1000"}
    with local_stack(env) as stack:
        users = [generous_user(stack) for _ in range(2)]
        base, recorder, session = (
            gateway_url(stack),
            Recorder(time.perf_counter()),
            requests.Session(),
        )
        queue = f"projects/{stack.options.project_id}/locations/us-central1/queues/{QUEUE}"
        # The worker runs the next two deliveries but Cloud Tasks records them failed: it
        # delivers them again, so two steps run twice.
        _fault(
            stack, {"kind": "status", "queue": queue, "status": 503, "count": 2, "deliver": True}
        )
        jobs = [_submit(session, recorder, base, users[i % 2]) for i in range(args.video_jobs)]
        watching = {j["id"]: users[i % 2] for i, j in enumerate(jobs) if j}
        states: dict[str, dict[str, Any]] = {}
        stop = threading.Event()
        watcher = threading.Thread(target=_watch, args=(base, recorder, watching, states, stop))
        watcher.start()
        try:
            t_kill = _kill_when_running(stack, states, recorder)
            t_up = recorder.now()
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline and not _all_terminal(states, watching):
                time.sleep(0.5)
            t_done = recorder.now()
            for job_id in watching:  # every step's task delivered once more
                for step in range(4):
                    _fault(stack, {"kind": "duplicate", "task": f"{queue}/tasks/{job_id}-{step}"})
            time.sleep(4)  # the duplicates run; the watchers keep reading
            t_end = recorder.now()
        finally:
            stop.set()
            watcher.join()
        histories = {j: _histories(stack, queue, j) for j in watching}
        checks, figures = _checks(stack, states, watching, histories, users, args)
    phases = [("before", 0.0, t_kill), ("during", t_kill, t_up), ("after", t_up, t_end)]
    rows: list[list[object] | None] = []
    for job_id, user in watching.items():
        state = states.get(job_id, {})
        attempts = [a for h in histories[job_id] for a in h.get("attempts", [])]
        kinds = by_label_kinds(attempts)
        rows.append(
            [
                job_id[:10],
                user.uid[:8],
                state.get("state", "?"),
                f"{state.get('_seen', float('nan')):.1f}",
                len(histories[job_id]),
                kinds,
            ]
        )
    result.tables.append(
        Table(
            "video jobs: worker killed mid-job, deliveries failed-but-run and duplicated",
            ["job", "user", "state", "terminal at s", "tasks", "task attempts by kind"],
            rows,
            f"video_worker SIGKILLed at {t_kill:.1f} s (a job RUNNING), healthy again at "
            f"{t_up:.1f} s; all terminal at {t_done:.1f} s; status polls through the gateway: "
            f"{by_label(recorder.between(0, t_end, ('status',)))}, p95 "
            f"{latency_ms(recorder.between(0, t_end, ('status',)), 95):.1f} ms",
        )
    )
    note = "requests: video submits, job status polls (every 0.3 s per job) and usage reads"
    report(
        result,
        "video",
        "video jobs under a worker kill: requests",
        recorder,
        phases,
        note,
        checks,
        figures,
    )


def by_label_kinds(attempts: list[dict[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for a in attempts:
        label = a.get("kind", "?") + (
            f" {a['status']}" if a.get("status") else f" {a.get('error', '')[:20]}"
        )
        label += " (injected)" if a.get("injected") else ""
        counts[label] = counts.get(label, 0) + 1
    return ", ".join(f"{k} x{n}" for k, n in sorted(counts.items()))


def _fault(stack: Stack, body: dict[str, Any]) -> int:
    resp = requests.post(f"{stack.tasks_admin}/emulator/v1/faults", json=body, timeout=10)
    return resp.status_code


def _submit(
    session: requests.Session, recorder: Recorder, base: str, user: BenchUser
) -> dict[str, Any] | None:
    headers = {**user.headers, "Idempotency-Key": uuid.uuid4().hex}
    body = {"prompt": f"fault video {uuid.uuid4().hex[:8]}"}
    resp = recorder.call(
        session, "submit", "POST", base + "/v1/videos:generate", json=body, headers=headers
    )
    if resp is None or resp.status_code != 202:
        return None
    job: dict[str, Any] = resp.json()["job"]
    return job


def _watch(
    base: str,
    recorder: Recorder,
    jobs: dict[str, BenchUser],
    states: dict[str, dict[str, Any]],
    stop: threading.Event,
) -> None:
    session = requests.Session()
    while not stop.is_set():
        for job_id, user in jobs.items():
            resp = recorder.call(
                session,
                "status",
                "GET",
                f"{base}/v1/jobs/{job_id}",
                tag=job_id,
                headers=user.headers,
            )
            if resp is not None and resp.status_code == 200:
                job = resp.json()
                if job["state"] in TERMINAL and states.get(job_id, {}).get("state") not in TERMINAL:
                    job["_seen"] = recorder.now()
                elif job_id in states and "_seen" in states[job_id]:
                    job["_seen"] = states[job_id]["_seen"]
                states[job_id] = job
        for user in {u.uid: u for u in jobs.values()}.values():
            recorder.call(session, "usage", "GET", base + "/v1/usage", headers=user.headers)
        stop.wait(0.3)


def _kill_when_running(
    stack: Stack, states: dict[str, dict[str, Any]], recorder: Recorder
) -> float:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(s.get("state") == "RUNNING" for s in states.values()):
            break
        time.sleep(0.05)
    t_kill = recorder.now()
    stack.children["fn_video_worker"].signal_group(signal.SIGKILL)
    time.sleep(1.5)  # deliveries meanwhile fail to connect and are retried by the queue
    stack.restart_function("video_worker")
    return t_kill


def _all_terminal(states: dict[str, dict[str, Any]], jobs: dict[str, BenchUser]) -> bool:
    return all(states.get(j, {}).get("state") in TERMINAL for j in jobs)


def _histories(stack: Stack, queue: str, job_id: str) -> list[dict[str, Any]]:
    found = []
    for step in range(50):
        resp = requests.get(
            f"{stack.tasks_admin}/emulator/v1/attempts",
            params={"task": f"{queue}/tasks/{job_id}-{step}"},
            timeout=10,
        )
        if resp.status_code != 200:
            break
        found.append(resp.json())
    return found


def _checks(
    stack: Stack,
    states: dict[str, dict[str, Any]],
    jobs: dict[str, BenchUser],
    histories: dict[str, list[dict[str, Any]]],
    users: list[BenchUser],
    args: argparse.Namespace,
) -> tuple[list[Check], dict[str, object]]:
    succeeded = [j for j in jobs if states.get(j, {}).get("state") == "SUCCEEDED"]
    asset_ids = [states[j].get("asset_id") for j in succeeded]
    duplicates = sum(
        1
        for hs in histories.values()
        for h in hs
        for a in h.get("attempts", [])
        if a.get("kind") == "duplicate"
    )
    checks = [
        Check(
            f"every job completes once ({len(jobs)} submitted)",
            len(jobs) == args.video_jobs and len(succeeded) == len(jobs),
            ", ".join(f"{j[:8]} {states.get(j, {}).get('state', '?')}" for j in jobs),
        ),
        Check(
            "one asset per job despite the kill and the duplicate deliveries",
            len(set(asset_ids)) == len(succeeded) and None not in asset_ids,
            f"{len(set(asset_ids))} distinct assets for {len(succeeded)} jobs; {duplicates} "
            "duplicate deliveries made",
        ),
    ]
    audited, figures = audit_checks(stack, [u.uid for u in users], args, "video")
    return checks + audited, figures
