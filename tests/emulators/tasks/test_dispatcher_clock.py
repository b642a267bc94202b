"""The dispatcher driven by a fake clock, in-process: exact retry times, without waiting.

The conformance tests observe real time with tolerances; here the schedule is checked to
the microsecond against RetryConfig's documented example (10s min, 300s max, 3 doublings:
retries after 10, 20, 40, 80, 160, 240, 300, 300 s).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from google.cloud import tasks_v2

from tasks_emulator.attempts import Attempts, Result
from tasks_emulator.dispatcher import Dispatcher
from tasks_emulator.history import Request
from tasks_emulator.oidc import TokenSigner
from tasks_emulator.retry import RetryPolicy
from tasks_emulator.service import TasksService
from tasks_emulator.state import State

LOCATION = "projects/clock/locations/here"
QUEUE = f"{LOCATION}/queues/q"
START = 1_800_000_000.0


@dataclass
class FakeClock:
    t: float = START

    def now(self) -> float:
        return self.t


@dataclass
class FakeWorker:
    clock: FakeClock
    status: int = 500
    calls: list[float] = field(default_factory=list)

    def send(self, request: Request, timeout: float) -> Result:
        self.calls.append(self.clock.t - START)
        return Result(self.status)


@dataclass
class Harness:
    clock: FakeClock
    worker: FakeWorker
    state: State
    dispatcher: Dispatcher
    service: TasksService
    parked: list[Callable[[], None]]

    def run_until(self, t: float) -> None:
        """Step the dispatcher from wake-up to wake-up, as its thread would, up to START+t."""
        with self.state.cond:
            while self.clock.t <= START + t:
                self.clock.t = max(self.clock.t, self.dispatcher.step(self.clock.t))
                if not self.state.live and not any(q.tasks for q in self.state.queues.values()):
                    return

    def outcome(self, task: str) -> str:
        history = self.state.history.get(task)
        assert history is not None
        return history.outcome


def _harness(deliver: bool = True, **retry: Any) -> Harness:
    clock = FakeClock()
    worker = FakeWorker(clock)
    state = State(tombstone_seconds=3600)
    attempts = Attempts(state, TokenSigner(clock.now()))
    parked: list[Callable[[], None]] = []

    def spawn(run: Callable[[], None]) -> None:
        run() if deliver else parked.append(run)  # parked: the worker never answers

    dispatcher = Dispatcher(state, attempts, clock, worker, spawn)
    service = TasksService(state, attempts, dispatcher, clock, min_dispatch_deadline=15)
    queue = tasks_v2.Queue(name=QUEUE, retry_config=retry)
    service.create_queue(
        tasks_v2.CreateQueueRequest.pb(tasks_v2.CreateQueueRequest(parent=LOCATION, queue=queue))
    )
    return Harness(clock, worker, state, dispatcher, service, parked)


def _create(h: Harness, **task: Any) -> str:
    spec = tasks_v2.Task(http_request={"url": "http://127.0.0.1:9/w"}, **task)
    request = tasks_v2.CreateTaskRequest(parent=QUEUE, task=spec)
    return str(h.service.create_task(tasks_v2.CreateTaskRequest.pb(request)).name)


def test_backoff_schedule_matches_the_documented_example() -> None:
    policy = RetryPolicy(-1, 0, min_backoff=10, max_backoff=300, max_doublings=3)
    assert [policy.backoff(k) for k in range(8)] == [10, 20, 40, 80, 160, 240, 300, 300]
    linear = RetryPolicy(-1, 0, min_backoff=1, max_backoff=100, max_doublings=0)
    assert [linear.backoff(k) for k in range(4)] == [1, 2, 3, 4]


def test_dispatcher_retries_exactly_on_schedule_then_drops() -> None:
    h = _harness(
        min_backoff=timedelta(seconds=10),
        max_backoff=timedelta(seconds=300),
        max_doublings=3,
        max_attempts=9,
    )
    task = _create(h)
    h.run_until(10_000)
    gaps = [b - a for a, b in itertools.pairwise(h.worker.calls)]
    assert gaps == pytest.approx([10, 20, 40, 80, 160, 240, 300, 300], abs=1e-5)
    assert h.outcome(task) == "dropped"


@pytest.mark.parametrize(
    ("max_attempts", "max_retry_seconds", "expected_attempts"),
    [(3, 0, 3), (3, 100, 11), (-1, 50, 6), (20, 50, 20)],
)
def test_both_limits_must_be_reached_before_giving_up(
    max_attempts: int, max_retry_seconds: int, expected_attempts: int
) -> None:
    h = _harness(
        min_backoff=timedelta(seconds=10),
        max_backoff=timedelta(seconds=10),
        max_attempts=max_attempts,
        max_retry_duration=timedelta(seconds=max_retry_seconds),
    )
    task = _create(h)
    h.run_until(100_000)
    assert len(h.worker.calls) == expected_attempts
    assert h.outcome(task) == "dropped"


def test_an_unanswered_attempt_fails_at_its_deadline_and_is_retried() -> None:
    h = _harness(deliver=False, min_backoff=timedelta(seconds=5), max_attempts=2)
    task = _create(h, dispatch_deadline=timedelta(seconds=20))
    h.run_until(1_000)
    history = h.state.history.get(task)
    assert history is not None and h.outcome(task) == "dropped"
    first, second = history.attempts
    assert first.error is not None and first.error.startswith("DEADLINE_EXCEEDED")
    assert (first.dispatch_time - START, second.dispatch_time - START) == (0, 25)
    assert len(h.parked) == 2  # both requests were sent; neither was ever answered
