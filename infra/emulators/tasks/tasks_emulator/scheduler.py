"""What is due now, and when to look again. Pure functions of the state and a time.

A task is dispatched when its queue is RUNNING, its schedule_time has come, no attempt of
it is outstanding, the queue is below max_concurrent_dispatches, and the queue's token
bucket (max_dispatches_per_second) has a token. Due tasks go in schedule_time order.
"""

from . import queues
from .attempts import DEADLINE_EXCEEDED, Attempts, Launch, Result
from .state import QueueEntry, State

IDLE_WAKE_S = 1.0


def due_launches(state: State, attempts: Attempts, now: float) -> list[Launch]:
    for live in [a for a in state.live.values() if a.deadline_at <= now]:
        # The worker may still be running; production also stops listening at the deadline.
        attempts.conclude(live, Result(None, DEADLINE_EXCEEDED), now)
    launches: list[Launch] = []
    for queue in list(state.queues.values()):
        if not queues.is_paused(queue.queue):
            launches += _queue_launches(queue, attempts, now)
    return launches


def _queue_launches(queue: QueueEntry, attempts: Attempts, now: float) -> list[Launch]:
    limit = queue.queue.rate_limits.max_concurrent_dispatches
    due = sorted(
        (e for e in queue.tasks.values() if not e.live and e.due <= now), key=lambda e: e.due
    )
    launches = []
    for entry in due:
        if queue.in_flight >= limit or not queue.bucket.try_take(now):
            break
        launch = attempts.begin(queue, entry, now, "dispatch")
        if launch is not None:
            launches.append(launch)
    return launches


def next_wake(state: State, now: float) -> float:
    """The earliest time something can become due: a deadline, a task, or a token."""
    times = [a.deadline_at for a in state.live.values()]
    for queue in state.queues.values():
        if queues.is_paused(queue.queue):
            continue
        pending = [e.due for e in queue.tasks.values() if not e.live]
        # A queue at its concurrency limit waits for an attempt to end, which notifies.
        if pending and queue.in_flight < queue.queue.rate_limits.max_concurrent_dispatches:
            times.append(max(min(pending), queue.bucket.next_token_at(now)))
    return min(times, default=now + IDLE_WAKE_S)
