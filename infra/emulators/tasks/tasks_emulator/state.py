"""Everything the emulator holds in memory, guarded by one condition variable.

Every read or change happens with `State.cond` held. The dispatcher waits on the same
condition, so a change that may make a task due (a new task, a resumed queue, a finished
attempt) notifies it.
"""

import threading
from collections import deque
from dataclasses import dataclass, field

from . import pb
from .errors import already_exists, not_found
from .faults import Fault
from .history import AttemptRecord, History
from .ratelimit import TokenBucket
from .timeutil import seconds_of


@dataclass(eq=False)
class TaskEntry:
    task: pb.Task  # FULL view; the counters and attempts are kept current
    named: bool  # caller-chosen name: takes part in de-duplication
    due: float
    live: set[int] = field(default_factory=set)  # attempts dispatched and not yet concluded
    first_dispatch: float | None = None
    execution_count: int = 0
    previous_status: int | None = None
    retry_reason: str | None = None
    duplicate_pending: bool = False


@dataclass(eq=False)
class QueueEntry:
    queue: pb.Queue
    bucket: TokenBucket
    tasks: dict[str, TaskEntry] = field(default_factory=dict)
    in_flight: int = 0
    faults: deque[Fault] = field(default_factory=deque)

    @classmethod
    def of(cls, queue: pb.Queue, now: float) -> "QueueEntry":
        limits = queue.rate_limits
        bucket = TokenBucket.full(limits.max_dispatches_per_second, limits.max_burst_size, now)
        return cls(queue, bucket)

    def reconfigure(self, queue: pb.Queue, now: float) -> None:
        self.queue = queue
        limits = queue.rate_limits
        self.bucket.configure(limits.max_dispatches_per_second, limits.max_burst_size, now)


@dataclass(eq=False)
class LiveAttempt:
    """An attempt whose outcome is not known yet."""

    attempt_id: int
    queue: QueueEntry
    entry: TaskEntry
    record: AttemptRecord
    deadline_at: float
    retry_base: float | None  # RunTask: retries count from the call, not from the failure
    injected: Fault | None = None
    duplicate: bool = False


class State:
    def __init__(self, tombstone_seconds: float) -> None:
        self.cond = threading.Condition()
        self.tombstone_seconds = tombstone_seconds
        self.queues: dict[str, QueueEntry] = {}
        self.tombstones: dict[str, float] = {}  # task name -> until when it stays reserved
        self.live: dict[int, LiveAttempt] = {}
        self.history = History()
        self._next_attempt = 0

    def queue(self, name: str) -> QueueEntry:
        entry = self.queues.get(name)
        if entry is None:
            raise not_found(f"Queue {name} does not exist")
        return entry

    def task(self, name: str) -> tuple[QueueEntry, TaskEntry]:
        queue = self.queues.get(name.rsplit("/tasks/", 1)[0])
        entry = None if queue is None else queue.tasks.get(name)
        if queue is None or entry is None:
            raise not_found(f"Task {name} does not exist (it may have finished or been deleted)")
        return queue, entry

    def add_task(self, queue: QueueEntry, task: pb.Task, named: bool, now: float) -> TaskEntry:
        if task.name in queue.tasks:
            raise already_exists(f"Task {task.name} already exists")
        if named and self.tombstones.get(task.name, 0.0) > now:
            raise already_exists(
                f"The task {task.name} cannot be created because a task with this name existed "
                "too recently (it finished or was deleted within the tombstone window)"
            )
        self.tombstones.pop(task.name, None)
        entry = TaskEntry(task, named, seconds_of(task.schedule_time))
        queue.tasks[task.name] = entry
        self.history.open(task.name, queue.queue.name)
        self.cond.notify_all()
        return entry

    def remove_task(self, queue: QueueEntry, entry: TaskEntry, outcome: str, now: float) -> None:
        """The task ends: it leaves the queue and, if named, its name stays reserved."""
        if queue.tasks.get(entry.task.name) is entry:
            del queue.tasks[entry.task.name]
        if entry.named:
            self.tombstones[entry.task.name] = now + self.tombstone_seconds
        self.history.finish(entry.task.name, outcome, now)

    def next_attempt_id(self) -> int:
        self._next_attempt += 1
        return self._next_attempt

    def sweep_tombstones(self, now: float) -> None:
        for name in [n for n, until in self.tombstones.items() if until <= now]:
            del self.tombstones[name]

    def clear(self) -> None:
        """Forget everything; attempts still in flight report into the void."""
        self.queues.clear()
        self.tombstones.clear()
        self.live.clear()
        self.history.clear()
        self.cond.notify_all()
