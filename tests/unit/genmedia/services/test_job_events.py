"""The job watch stream with a fake clock: one event per change, resume, end, keepalive."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest

from genmedia.errors import NotFound
from genmedia.principal import Principal
from genmedia.services import generate_video, job_events
from genmedia.services.generate_video import VideoRequest
from tests.fakes.ports import Fakes, make_deps

ALICE = Principal("alice", "user", token="alice-token")


@pytest.fixture
def fakes() -> Fakes:
    return make_deps()


def submitted(fakes: Fakes) -> str:
    payload = generate_video.submit(fakes.deps, ALICE, VideoRequest("a heron"), "rid").payload
    return str(payload["job"]["id"])  # type: ignore[index]


def events(chunks: Iterator[bytes]) -> list[dict[str, str]]:
    parsed = []
    for chunk in chunks:
        fields = dict(
            line.split(": ", 1) for line in chunk.decode().strip().splitlines() if ": " in line
        )
        parsed.append(fields)
    return parsed


def change(fakes: Fakes, job_id: str, **fields: object) -> None:
    job = fakes.db.state.jobs[job_id]
    stamped = {"update_time": fakes.clock.now(), **fields}
    fakes.db.state.jobs[job_id] = replace(job, **stamped)  # type: ignore[arg-type]


def test_each_change_is_one_event_and_the_stream_ends_at_the_terminal_state(
    fakes: Fakes,
) -> None:
    job_id = submitted(fakes)
    stream = job_events.watch(fakes.deps, ALICE, job_id, 0)
    assert next(stream) == b"retry: 2000\n\n"
    first = events(iter([next(stream)]))[0]
    assert first["event"] == "job" and json.loads(first["data"])["state"] == "QUEUED"
    fakes.clock.advance(1)
    change(fakes, job_id, state="RUNNING", progress={"percent": 30, "stage": "rendering"})
    second = events(iter([next(stream)]))[0]
    assert json.loads(second["data"])["progress"]["percent"] == 30
    assert int(second["id"]) > int(first["id"])
    change(fakes, job_id, state="SUCCEEDED", update_time=fakes.clock.now() + timedelta(seconds=2))
    last = [e for e in events(stream) if "event" in e]
    assert [json.loads(e["data"])["state"] for e in last] == ["SUCCEEDED"]


def test_a_reconnect_with_last_event_id_skips_what_was_seen(fakes: Fakes) -> None:
    job_id = submitted(fakes)
    change(fakes, job_id, state="CANCELLED")
    seen = job_events.event_id(fakes.db.state.jobs[job_id])
    resumed = list(job_events.watch(fakes.deps, ALICE, job_id, seen))
    assert resumed == [b"retry: 2000\n\n"]  # nothing new, and the job has ended


def test_an_idle_stream_sends_keepalives_and_ends_after_its_maximum(fakes: Fakes) -> None:
    job_id = submitted(fakes)
    chunks = list(job_events.watch(fakes.deps, ALICE, job_id, 0, max_seconds=40))
    assert chunks.count(b": keepalive\n\n") == 2
    assert sum(1 for c in chunks if c.startswith(b"event: job")) == 1


def test_other_users_are_refused_before_the_stream_starts(fakes: Fakes) -> None:
    job_id = submitted(fakes)
    with pytest.raises(NotFound):
        job_events.watch(fakes.deps, Principal("bob", "user"), job_id, 0)


@pytest.mark.parametrize(("raw", "expected"), [(None, 0), ("123", 123), ("x1", 0), ("9" * 30, 0)])
def test_unparsable_last_event_ids_count_as_none(raw: str | None, expected: int) -> None:
    assert job_events.parse_last_event_id(raw) == expected
