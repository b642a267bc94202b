"""The HTTP request an attempt sends: the task's own headers plus the X-CloudTasks-* ones."""

from . import names, pb
from .history import Request
from .state import TaskEntry
from .timeutil import seconds_of

USER_AGENT = "Google-Cloud-Tasks"
# Production computes or reserves these; a task's own values for them are dropped.
_REPLACED = {"host", "content-length", "user-agent", "authorization"}
_RESERVED_PREFIXES = ("x-google-", "x-appengine-", "x-cloudtasks-")


def _kept(name: str, has_token: bool) -> bool:
    lowered = name.lower()
    if lowered == "authorization":
        return not has_token
    return lowered not in _REPLACED and not lowered.startswith(_RESERVED_PREFIXES)


def dispatch_request(entry: TaskEntry, token: str | None) -> Request:
    """The request for the next attempt of `entry`, from its counters before that attempt."""
    task = entry.task
    http = task.http_request
    headers = {k: v for k, v in http.headers.items() if _kept(k, token is not None)}
    headers["User-Agent"] = USER_AGENT
    headers["X-CloudTasks-QueueName"] = names.short(task.name.rsplit("/tasks/", 1)[0])
    headers["X-CloudTasks-TaskName"] = names.short(task.name)
    headers["X-CloudTasks-TaskRetryCount"] = str(task.dispatch_count)
    headers["X-CloudTasks-TaskExecutionCount"] = str(entry.execution_count)
    headers["X-CloudTasks-TaskETA"] = f"{seconds_of(task.schedule_time):.6f}"
    if entry.previous_status is not None:
        headers["X-CloudTasks-TaskPreviousResponse"] = str(entry.previous_status)
    if entry.retry_reason is not None:
        headers["X-CloudTasks-TaskRetryReason"] = entry.retry_reason
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return Request(http.url, pb.HTTP_METHODS[http.http_method], headers, http.body)


def retry_reason(status: int | None, error: str | None) -> str:
    """X-CloudTasks-TaskRetryReason. Production does not document its values; these say
    what went wrong in the previous attempt."""
    if status is not None:
        return f"HTTP status {status}"
    return error or "unknown"
