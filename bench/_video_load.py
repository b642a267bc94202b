"""The video block of the load scenario: submit, read status, follow the SSE stream to the end.

Threads of this process (the block is small; the driver's process does not stream): each job is
submitted with an Idempotency-Key (the submit is sent twice, the second must replay the same
job), read once with GET /v1/jobs/{id}, then followed on ``:watch`` until its terminal event.
"""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests
from _common import BenchUser, gateway_url, percentile
from _report import Check, Table

from infra.local.stack import Stack

TERMINAL = {"SUCCEEDED", "FAILED", "CANCELLED"}


@dataclass
class VideoBlock:
    table: Table
    checks: list[Check]
    figures: dict[str, Any] = field(default_factory=dict)


def _follow(base: str, user: BenchUser, index: int) -> dict[str, Any]:
    session = requests.Session()
    headers = {**user.headers, "Idempotency-Key": f"video-{index}-{uuid.uuid4().hex[:8]}"}
    body = {"prompt": f"a heron over a lake, take {index}", "duration_seconds": 4}
    began = time.perf_counter()
    first = session.post(f"{base}/v1/videos:generate", json=body, headers=headers, timeout=60)
    submit_s = time.perf_counter() - began
    again = session.post(f"{base}/v1/videos:generate", json=body, headers=headers, timeout=60)
    out: dict[str, Any] = {"submit_s": submit_s, "status": first.status_code, "events": []}
    if first.status_code != 202:
        return out
    job_id = first.json()["job"]["id"]
    out["same_job"] = again.status_code == 202 and again.json()["job"]["id"] == job_id
    status = session.get(f"{base}/v1/jobs/{job_id}", headers=user.headers, timeout=60)
    out["status_ok"] = status.status_code == 200
    watch = f"{base}/v1/jobs/{job_id}:watch"
    with session.get(watch, headers=user.headers, stream=True, timeout=120) as stream:
        for line in stream.iter_lines(decode_unicode=True):
            if line and line.startswith("data:"):
                state = json.loads(line[5:])["state"]
                out["events"].append(state)
                if state in TERMINAL:
                    break
    out["done_s"] = time.perf_counter() - began
    out["state"] = out["events"][-1] if out["events"] else "no events"
    return out


def video_block(stack: Stack, users: list[BenchUser], videos: int, clients: int) -> VideoBlock:
    base = gateway_url(stack)
    print(f"videos: {videos} jobs submitted and followed on :watch")
    with ThreadPoolExecutor(max_workers=min(clients, videos) or 1) as pool:
        jobs = list(pool.map(lambda i: _follow(base, users[i % len(users)], i), range(videos)))
    submits = [j["submit_s"] * 1000 for j in jobs]
    dones = [j["done_s"] for j in jobs if "done_s" in j]
    succeeded = sum(1 for j in jobs if j.get("state") == "SUCCEEDED")
    used = 0
    for user in users:
        resp = requests.get(f"{base}/v1/usage", headers=user.headers, timeout=60)
        used += int(resp.json()["videos"]["used"])
    table = Table(
        f"Video jobs: {videos} submitted, each followed on its SSE stream",
        ["jobs", "submit p50 ms", "submit p95 ms", "to SUCCEEDED p50 s", "max s", "succeeded"],
        [[videos, round(percentile(submits, 50), 1), round(percentile(submits, 95), 1),
          round(percentile(dones, 50), 2), round(max(dones, default=0.0), 2), succeeded]],
    )  # fmt: skip
    checks = [
        Check(
            "every video job SUCCEEDED, seen on its stream",
            succeeded == videos,
            f"{succeeded}/{videos}",
        ),
        Check(
            "a repeated submit with the same key replays the same job",
            all(j.get("same_job") for j in jobs),
        ),
        Check("each job charged once", used == videos, f"{used} videos charged for {videos} jobs"),
    ]
    return VideoBlock(table, checks, {"jobs": jobs})
