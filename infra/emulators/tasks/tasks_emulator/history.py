"""What the admin port reports: every attempt of a task, and how the task ended."""

import base64
from collections import OrderedDict
from dataclasses import dataclass, field

from .timeutil import rfc3339

# Histories outlive their tasks (that is their point), so bound them in a long-lived stack.
MAX_TASK_HISTORIES = 10_000


@dataclass(frozen=True)
class Request:
    url: str
    method: str
    headers: dict[str, str]
    body: bytes


@dataclass
class AttemptRecord:
    kind: str  # "dispatch", "run" (RunTask) or "duplicate" (injected duplicate delivery)
    schedule_time: float
    dispatch_time: float
    deadline: float  # the dispatch deadline, in seconds
    request: Request
    delivered: bool = True  # False when an injected fault stood in for the worker
    injected: str | None = None
    response_time: float | None = None
    status: int | None = None
    error: str | None = None
    late_status: int | None = None  # a response that arrived after the dispatch deadline

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "schedule_time": rfc3339(self.schedule_time),
            "dispatch_time": rfc3339(self.dispatch_time),
            "dispatch_deadline_seconds": self.deadline,
            "response_time": None if self.response_time is None else rfc3339(self.response_time),
            "status": self.status,
            "error": self.error,
            "late_status": self.late_status,
            "delivered": self.delivered,
            "injected": self.injected,
            "url": self.request.url,
            "method": self.request.method,
            "headers": self.request.headers,
            "body_base64": base64.b64encode(self.request.body).decode(),
        }


@dataclass
class TaskHistory:
    task: str
    queue: str
    attempts: list[AttemptRecord] = field(default_factory=list)
    outcome: str = "pending"  # then "succeeded", "dropped", "deleted" or "purged"
    finished_time: float | None = None

    def to_json(self) -> dict[str, object]:
        finished = None if self.finished_time is None else rfc3339(self.finished_time)
        return {
            "task": self.task,
            "queue": self.queue,
            "outcome": self.outcome,
            "finished_time": finished,
            "attempts": [a.to_json() for a in self.attempts],
        }

    def last_success(self) -> AttemptRecord | None:
        ok = [a for a in self.attempts if a.status is not None and 200 <= a.status < 300]
        return ok[-1] if ok else None


class History:
    def __init__(self) -> None:
        self._tasks: OrderedDict[str, TaskHistory] = OrderedDict()

    def open(self, task: str, queue: str) -> TaskHistory:
        self._tasks.pop(task, None)  # a name reused after its tombstone starts afresh
        self._tasks[task] = entry = TaskHistory(task, queue)
        while len(self._tasks) > MAX_TASK_HISTORIES:
            self._tasks.popitem(last=False)
        return entry

    def get(self, task: str) -> TaskHistory | None:
        return self._tasks.get(task)

    def finish(self, task: str, outcome: str, when: float) -> None:
        entry = self._tasks.get(task)
        if entry is not None and entry.outcome == "pending":
            entry.outcome, entry.finished_time = outcome, when

    def with_outcome(self, outcome: str, queue: str | None) -> list[TaskHistory]:
        return [
            h
            for h in self._tasks.values()
            if h.outcome == outcome and (queue is None or h.queue == queue)
        ]

    def clear(self) -> None:
        self._tasks.clear()
