"""One method per CloudTasks RPC, on the raw protobuf messages. Each runs under the state lock."""

from . import names, pb, queues, tasks
from .attempts import Attempts
from .clock import Clock
from .dispatcher import Dispatcher
from .errors import already_exists
from .paging import page
from .state import QueueEntry, State
from .timeutil import timestamp

MAX_QUEUE_PAGE = 9800
MAX_TASK_PAGE = 1000


def _copy(queue: pb.Queue) -> pb.Queue:
    out = pb.Queue()
    out.CopyFrom(queue)
    return out


class TasksService:
    def __init__(
        self,
        state: State,
        attempts: Attempts,
        dispatcher: Dispatcher,
        clock: Clock,
        min_dispatch_deadline: float,
    ) -> None:
        self.state = state
        self.attempts = attempts
        self.dispatcher = dispatcher
        self.clock = clock
        self.min_dispatch_deadline = min_dispatch_deadline

    def list_queues(self, request: pb.ListQueuesRequest) -> pb.ListQueuesResponse:
        parent = names.location(request.parent)
        with self.state.cond:
            matching = sorted(
                name
                for name, entry in self.state.queues.items()
                if name.startswith(parent + "/")
                and queues.matches_filter(entry.queue, request.filter)
            )
            chosen, token = page(matching, request.page_size, request.page_token, MAX_QUEUE_PAGE)
            found = [_copy(self.state.queues[n].queue) for n in chosen]
        return pb.ListQueuesResponse(queues=found, next_page_token=token)

    def get_queue(self, request: pb.GetQueueRequest) -> pb.Queue:
        name = names.queue(request.name).full
        with self.state.cond:
            return _copy(self.state.queue(name).queue)

    def create_queue(self, request: pb.CreateQueueRequest) -> pb.Queue:
        queue = queues.created(request.parent, request.queue)
        with self.state.cond:
            if queue.name in self.state.queues:
                raise already_exists(f"Queue {queue.name} already exists")
            self.state.queues[queue.name] = QueueEntry.of(queue, self.clock.now())
            return _copy(queue)

    def update_queue(self, request: pb.UpdateQueueRequest) -> pb.Queue:
        name = names.queue(request.queue.name).full
        with self.state.cond:
            stored = self.state.queues.get(name)
            current = None if stored is None else stored.queue
            queue = queues.updated(current, request.queue, request.update_mask)
            if stored is None:
                self.state.queues[name] = QueueEntry.of(queue, self.clock.now())
            else:
                stored.reconfigure(queue, self.clock.now())
            self.state.cond.notify_all()
            return _copy(queue)

    def delete_queue(self, request: pb.DeleteQueueRequest) -> pb.Empty:
        name = names.queue(request.name).full
        with self.state.cond:
            entry = self.state.queue(name)
            self._end_all(entry, "deleted")
            del self.state.queues[name]
        return pb.Empty()

    def purge_queue(self, request: pb.PurgeQueueRequest) -> pb.Queue:
        name = names.queue(request.name).full
        with self.state.cond:
            entry = self.state.queue(name)
            now = self._end_all(entry, "purged")
            entry.queue.purge_time.CopyFrom(timestamp(now))
            return _copy(entry.queue)

    def pause_queue(self, request: pb.PauseQueueRequest) -> pb.Queue:
        return self._set_state(request.name, pb.STATE_PAUSED)

    def resume_queue(self, request: pb.ResumeQueueRequest) -> pb.Queue:
        return self._set_state(request.name, pb.STATE_RUNNING)

    def list_tasks(self, request: pb.ListTasksRequest) -> pb.ListTasksResponse:
        parent = names.queue(request.parent).full
        with self.state.cond:
            entry = self.state.queue(parent)
            chosen, token = page(
                sorted(entry.tasks), request.page_size, request.page_token, MAX_TASK_PAGE
            )
            found = [tasks.view(entry.tasks[n].task, request.response_view) for n in chosen]
        return pb.ListTasksResponse(tasks=found, next_page_token=token)

    def get_task(self, request: pb.GetTaskRequest) -> pb.Task:
        name = names.task(request.name).full
        with self.state.cond:
            _, entry = self.state.task(name)
            return tasks.view(entry.task, request.response_view)

    def create_task(self, request: pb.CreateTaskRequest) -> pb.Task:
        parent = names.queue(request.parent).full
        with self.state.cond:
            queue = self.state.queue(parent)
            now = self.clock.now()
            task = tasks.created(parent, request.task, queue.queue, now, self.min_dispatch_deadline)
            self.state.add_task(queue, task, bool(request.task.name), now)
            return tasks.view(task, request.response_view)

    def delete_task(self, request: pb.DeleteTaskRequest) -> pb.Empty:
        name = names.task(request.name).full
        with self.state.cond:
            queue, entry = self.state.task(name)
            self.state.remove_task(queue, entry, "deleted", self.clock.now())
        return pb.Empty()

    def run_task(self, request: pb.RunTaskRequest) -> pb.Task:
        """Dispatch now, even if paused, rate-limited or already running, as production does."""
        name = names.task(request.name).full
        with self.state.cond:
            queue, entry = self.state.task(name)
            launch = self.attempts.begin(queue, entry, self.clock.now(), "run")
            if launch is not None:
                self.dispatcher.launch(launch)
            self.state.cond.notify_all()
            return tasks.view(entry.task, request.response_view)

    def _set_state(self, name: str, state: int) -> pb.Queue:
        full = names.queue(name).full
        with self.state.cond:
            entry = self.state.queue(full)
            entry.queue.state = state
            self.state.cond.notify_all()
            return _copy(entry.queue)

    def _end_all(self, entry: QueueEntry, outcome: str) -> float:
        now = self.clock.now()
        for task in list(entry.tasks.values()):
            self.state.remove_task(entry, task, outcome, now)
        return now
