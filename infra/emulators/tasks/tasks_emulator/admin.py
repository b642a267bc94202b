"""What the admin port does: reset, health, attempt history, fault injection, certificates."""

from . import faults, names, pb, queues
from .attempts import Attempts
from .clock import Clock
from .dispatcher import Dispatcher
from .errors import failed_precondition, not_found
from .oidc import TokenSigner
from .state import QueueEntry, State


class Admin:
    def __init__(
        self,
        state: State,
        attempts: Attempts,
        dispatcher: Dispatcher,
        signer: TokenSigner,
        clock: Clock,
        startup_queues: list[str],
    ) -> None:
        self.state = state
        self.attempts = attempts
        self.dispatcher = dispatcher
        self.signer = signer
        self.clock = clock
        self.startup_queues = [names.queue(q) for q in startup_queues]

    def reset(self) -> None:
        """Empty everything, then recreate the --queue queues: the state at start."""
        with self.state.cond:
            self.state.clear()
            now = self.clock.now()
            for name in self.startup_queues:
                queue = queues.created(name.location, pb.Queue(name=name.full))
                self.state.queues[name.full] = QueueEntry.of(queue, now)

    def health(self) -> dict[str, object]:
        with self.state.cond:
            pending = sum(len(q.tasks) for q in self.state.queues.values())
            return {"status": "ok", "queues": len(self.state.queues), "tasks": pending}

    def history(self, task: str) -> dict[str, object]:
        name = names.task(task).full
        with self.state.cond:
            found = self.state.history.get(name)
            if found is None:
                raise not_found(f"No history for task {name}")
            return found.to_json()

    def dropped(self, queue: str | None) -> dict[str, object]:
        wanted = None if queue is None else names.queue(queue).full
        with self.state.cond:
            found = self.state.history.with_outcome("dropped", wanted)
            return {"tasks": [h.to_json() for h in found]}

    def add_fault(self, body: object) -> dict[str, object]:
        request = faults.parse(body)
        with self.state.cond:
            if request.fault is not None:
                self.state.queue(request.target).faults.append(request.fault)
                return {"queue": request.target, "kind": request.kind}
            self._duplicate(request.target)
            return {"task": request.target, "kind": request.kind}

    def certs(self) -> dict[str, str]:
        return self.signer.certs()

    def _duplicate(self, task: str) -> None:
        """Deliver `task` once more after it succeeds (or now, if it already has)."""
        queue = self.state.queues.get(task.rsplit("/tasks/", 1)[0])
        entry = None if queue is None else queue.tasks.get(task)
        if entry is not None:
            entry.duplicate_pending = True
            return
        history = self.state.history.get(task)
        success = None if history is None else history.last_success()
        if success is None:
            raise failed_precondition(f"Task {task} is neither pending nor succeeded")
        self.dispatcher.launch(self.attempts.duplicate(task, success, self.clock.now()))
