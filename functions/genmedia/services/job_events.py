"""Live job updates as Server-Sent Events (``GET /v1/jobs/{id}:watch``).

The stream sends the job whenever it changes (state or progress), ends after its terminal
state or after ``max_seconds`` (the function's timeout bounds a request; the browser's
EventSource reconnects), and resumes with ``Last-Event-ID``: event ids are the job's update
time in microseconds, so a reconnecting client gets the current job only if it changed since
the last one it saw. Comments keep idle proxies from closing the connection.

It reads the job document once per ``interval`` rather than listening: a watcher costs one
Firestore read per second at most, and the worker writes progress at the poll interval.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

from genmedia.principal import Principal
from genmedia.services.jobs import job_view, owned

if TYPE_CHECKING:
    from genmedia.bootstrap import Deps
    from genmedia.store.records import JobRecord

RECONNECT_MS = 2000
KEEPALIVE_S = 15.0


def event_id(job: JobRecord) -> int:
    return int(job.update_time.timestamp() * 1_000_000)


def _event(job: JobRecord) -> bytes:
    data = json.dumps(job_view(job), separators=(",", ":"))
    return f"event: job\nid: {event_id(job)}\ndata: {data}\n\n".encode()


def parse_last_event_id(raw: str | None) -> int:
    """The id a client last saw; anything unparsable counts as none (send the current job)."""
    return int(raw) if raw is not None and raw.isdigit() and len(raw) < 20 else 0


def watch(
    deps: Deps, principal: Principal, job_id: str, last_seen: int, *,
    max_seconds: float = 240.0, interval: float = 1.0,
) -> Iterator[bytes]:  # fmt: skip
    """Check ownership now (a 404 before streaming), then the events."""
    job = owned(deps.database.jobs.get(job_id), principal)
    return _events(deps, job, last_seen, max_seconds, interval)


def _events(
    deps: Deps, job: JobRecord, last_seen: int, max_seconds: float, interval: float
) -> Iterator[bytes]:
    clock = deps.clock
    started = quiet_since = clock.monotonic()
    yield f"retry: {RECONNECT_MS}\n\n".encode()
    while True:
        if event_id(job) > last_seen:
            last_seen = event_id(job)
            quiet_since = clock.monotonic()
            yield _event(job)
        if job.terminal or clock.monotonic() - started >= max_seconds:
            return
        if clock.monotonic() - quiet_since >= KEEPALIVE_S:
            quiet_since = clock.monotonic()
            yield b": keepalive\n\n"
        clock.sleep(interval)
        current = deps.database.jobs.get(job.id)
        if current is None:
            return
        job = current
