"""One attempt's life: dispatch (counters, headers, token), then its outcome.

An outcome is a 2xx (the task is done), any other status, no answer within the dispatch
deadline, or no connection; all but the first are failures, retried per the RetryConfig.
"""

from dataclasses import dataclass

import grpc

from . import pb, retry
from .faults import Fault
from .headers import dispatch_request, retry_reason
from .history import AttemptRecord, Request
from .oidc import TokenSigner
from .state import LiveAttempt, QueueEntry, State, TaskEntry
from .timeutil import seconds_of, timestamp

DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED: no response within the dispatch deadline"
_HTTP_TO_RPC = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    409: grpc.StatusCode.ABORTED,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
    499: grpc.StatusCode.CANCELLED,
    501: grpc.StatusCode.UNIMPLEMENTED,
    503: grpc.StatusCode.UNAVAILABLE,
    504: grpc.StatusCode.DEADLINE_EXCEEDED,
}


@dataclass(frozen=True)
class Result:
    status: int | None  # the HTTP status, if a response arrived
    error: str | None = None  # why none did

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class Launch:
    """A request to send. `live` is None for an injected duplicate, which changes nothing."""

    request: Request
    timeout: float
    record: AttemptRecord
    live: LiveAttempt | None


def rpc_status(result: Result) -> pb.Status:
    """Attempt.response_status: the HTTP status as a google.rpc.Status."""
    if result.status is None:
        code = grpc.StatusCode.DEADLINE_EXCEEDED
        if result.error != DEADLINE_EXCEEDED:
            code = grpc.StatusCode.UNAVAILABLE
        return pb.Status(code=code.value[0], message=result.error or "")
    if result.ok:
        return pb.Status(code=grpc.StatusCode.OK.value[0], message=f"HTTP {result.status}")
    fallback = grpc.StatusCode.INTERNAL if result.status >= 500 else grpc.StatusCode.UNKNOWN
    code = _HTTP_TO_RPC.get(result.status, fallback)
    return pb.Status(code=code.value[0], message=f"HTTP {result.status}")


class Attempts:
    def __init__(self, state: State, signer: TokenSigner) -> None:
        self.state = state
        self.signer = signer

    def begin(self, queue: QueueEntry, entry: TaskEntry, now: float, kind: str) -> Launch | None:
        """Dispatch the next attempt of `entry`; None if an injected fault answered it."""
        task = entry.task
        request = dispatch_request(entry, self._token(task, now))
        task.dispatch_count += 1
        if entry.first_dispatch is None:
            entry.first_dispatch = now
            task.first_attempt.dispatch_time.CopyFrom(timestamp(now))
        task.ClearField("last_attempt")
        task.last_attempt.schedule_time.CopyFrom(task.schedule_time)
        task.last_attempt.dispatch_time.CopyFrom(timestamp(now))
        deadline = seconds_of(task.dispatch_deadline)
        record = AttemptRecord(kind, seconds_of(task.schedule_time), now, deadline, request)
        self._history(task.name, record)
        fault = queue.faults[0] if queue.faults else None
        if fault is not None:
            fault.remaining -= 1
            if fault.remaining <= 0:
                queue.faults.popleft()
            record.injected, record.delivered = fault.describe(), fault.deliver
        live = LiveAttempt(
            self.state.next_attempt_id(), queue, entry, record, now + deadline, None, fault
        )
        if kind == "run":
            live.retry_base = now
        self.state.live[live.attempt_id] = live
        entry.live.add(live.attempt_id)
        queue.in_flight += 1
        launch = Launch(request, deadline, record, live)
        if fault is not None and (fault.kind == "timeout" or not fault.deliver):
            self.conclude(live, _injected(fault), now)
            return launch if fault.deliver else None
        return launch

    def conclude(self, live: LiveAttempt, result: Result, now: float) -> Launch | None:
        """Apply an attempt's outcome; returns an injected duplicate delivery to send, if any."""
        if self.state.live.pop(live.attempt_id, None) is None:
            return None  # already concluded (deadline passed), or the emulator was reset
        _fill(live.record, result, now)
        live.queue.in_flight -= 1
        queue, entry = live.queue, live.entry
        entry.live.discard(live.attempt_id)
        current = self.state.queues.get(queue.queue.name) is queue
        if not current or queue.tasks.get(entry.task.name) is not entry:
            return None  # deleted, purged or reset while the attempt ran
        task = entry.task
        task.last_attempt.response_time.CopyFrom(timestamp(now))
        task.last_attempt.response_status.CopyFrom(rpc_status(result))
        if result.status is not None:
            task.response_count += 1
        if result.ok:
            self.state.remove_task(queue, entry, "succeeded", now)
            return self.duplicate(task.name, live.record, now) if entry.duplicate_pending else None
        self._retry_or_drop(queue, entry, result, live.retry_base or now, now)
        return None

    def late(self, live: LiveAttempt, result: Result) -> None:
        """A response after the attempt was concluded: recorded, but it changes nothing."""
        if result.status is not None:
            live.record.late_status = result.status

    def duplicate(self, task_name: str, original: AttemptRecord, now: float) -> Launch:
        record = AttemptRecord(
            "duplicate", original.schedule_time, now, original.deadline, original.request
        )
        self._history(task_name, record)
        return Launch(original.request, original.deadline, record, None)

    def _retry_or_drop(
        self, queue: QueueEntry, entry: TaskEntry, result: Result, base: float, now: float
    ) -> None:
        if result.status is not None and result.status < 500:
            entry.execution_count += 1  # production leaves 5xx out of the execution count
        entry.previous_status = result.status
        entry.retry_reason = retry_reason(result.status, result.error)
        task = entry.task
        config = task.retry_config if task.HasField("retry_config") else queue.queue.retry_config
        policy = retry.policy(config)
        since_first = now - (entry.first_dispatch or now)
        if policy.gives_up(task.dispatch_count, since_first):
            self.state.remove_task(queue, entry, "dropped", now)
            return
        entry.due = base + policy.backoff(task.dispatch_count - 1)
        task.schedule_time.CopyFrom(timestamp(entry.due))

    def _token(self, task: pb.Task, now: float) -> str | None:
        http = task.http_request
        if not http.HasField("oidc_token"):
            return None
        audience = http.oidc_token.audience or http.url
        return self.signer.token(http.oidc_token.service_account_email, audience, now)

    def _history(self, task_name: str, record: AttemptRecord) -> None:
        history = self.state.history.get(task_name)
        if history is not None:
            history.attempts.append(record)


def _injected(fault: Fault) -> Result:
    if fault.kind == "timeout":
        return Result(None, DEADLINE_EXCEEDED)
    return Result(fault.status)


def _fill(record: AttemptRecord, result: Result, now: float) -> None:
    record.response_time = now if result.status is not None else None
    record.status = result.status
    record.error = result.error
