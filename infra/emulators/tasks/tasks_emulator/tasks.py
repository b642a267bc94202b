"""Task resources: CreateTask's validation and defaults, and the BASIC/FULL views."""

import math
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from . import names, pb, retry
from .errors import invalid, unimplemented
from .timeutil import seconds_of, set_duration, timestamp

MAX_TASK_BYTES = 100 * 1024
MAX_URL_CHARS = 2083
MAX_HEADER_BYTES = 80 * 1024
MAX_SCHEDULE_AHEAD_S = 30 * 24 * 3600
DEFAULT_DISPATCH_DEADLINE_S = 600.0
MAX_DISPATCH_DEADLINE_S = 1800.0
BODY_METHODS = {pb.METHOD_POST, pb.METHOD_PUT, pb.METHOD_PATCH}
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def created(
    parent: str, requested: pb.Task, queue: pb.Queue, now: float, min_deadline: float
) -> pb.Task:
    """The task CreateTask stores. Output-only fields of the request are ignored."""
    task = pb.Task(name=requested.name or f"{parent}/tasks/{names.generated_task_id()}")
    if names.task(task.name).queue != parent:
        raise invalid(f"Task {task.name!r} is not in queue {parent!r}")
    kind = requested.WhichOneof("message_type")
    if kind == "app_engine_http_request":
        raise unimplemented("App Engine tasks are not supported by this emulator; use http_request")
    if kind is None:
        raise invalid("Task.http_request is required")
    task.http_request.CopyFrom(requested.http_request)
    _check_http(task.http_request)
    _schedule(task, requested, now)
    _deadline(task, requested, min_deadline)
    if requested.HasField("retry_config"):
        task.retry_config.CopyFrom(requested.retry_config)
        retry.normalize(task.retry_config, queue.retry_config)
    task.create_time.CopyFrom(timestamp(math.floor(now)))  # production: whole seconds
    if task.ByteSize() > MAX_TASK_BYTES:
        raise invalid(f"Task size exceeds the limit of {MAX_TASK_BYTES} bytes")
    return task


def _schedule(task: pb.Task, requested: pb.Task, now: float) -> None:
    when = seconds_of(requested.schedule_time) if requested.HasField("schedule_time") else now
    if when > now + MAX_SCHEDULE_AHEAD_S:
        raise invalid("Task.schedule_time must be at most 30 days in the future")
    task.schedule_time.CopyFrom(timestamp(max(when, now)))


def _deadline(task: pb.Task, requested: pb.Task, min_deadline: float) -> None:
    if not requested.HasField("dispatch_deadline"):
        set_duration(task.dispatch_deadline, DEFAULT_DISPATCH_DEADLINE_S)
        return
    seconds = round(seconds_of(requested.dispatch_deadline), 3)  # truncated to milliseconds
    if not min_deadline <= seconds <= MAX_DISPATCH_DEADLINE_S:
        raise invalid(
            f"Task.dispatch_deadline must be in [{min_deadline:g}s, {MAX_DISPATCH_DEADLINE_S:g}s]"
        )
    set_duration(task.dispatch_deadline, seconds)


def _check_http(request: pb.HttpRequest) -> None:
    url = urlsplit(request.url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise invalid("HttpRequest.url must be an absolute http:// or https:// URL")
    if len(request.url) > MAX_URL_CHARS:
        raise invalid(f"HttpRequest.url is longer than {MAX_URL_CHARS} characters")
    if not 0 <= request.http_method < len(pb.HTTP_METHODS):
        raise invalid(f"Unknown HttpRequest.http_method {request.http_method}")
    request.http_method = request.http_method or pb.METHOD_POST
    if request.body and request.http_method not in BODY_METHODS:
        raise invalid("HttpRequest.body is allowed only with POST, PUT or PATCH")
    auth = request.WhichOneof("authorization_header")
    if auth == "oauth_token":
        raise invalid(
            "HttpRequest.oauth_token is not supported by this emulator (it would need real "
            "Google credentials); use oidc_token, which the emulator signs itself"
        )
    if auth == "oidc_token" and "@" not in request.oidc_token.service_account_email:
        raise invalid("OidcToken.service_account_email must be a service account email")
    _check_headers(request.headers)


def _check_headers(headers: Mapping[str, str]) -> None:
    size = 0
    for key, value in headers.items():
        if not _TOKEN.match(key):
            raise invalid(f"Invalid HTTP header name {key!r}")
        if any(c in value for c in "\r\n\0"):
            raise invalid(f"Invalid value for HTTP header {key!r}")
        size += len(key.encode()) + len(value.encode())
    if size >= MAX_HEADER_BYTES:
        raise invalid("HttpRequest.headers must be smaller than 80KB")


def view(task: pb.Task, requested_view: int) -> pb.Task:
    """A copy of `task` in the requested view; BASIC (the default) omits the body."""
    out = pb.Task()
    out.CopyFrom(task)
    out.view = pb.VIEW_FULL if requested_view == pb.VIEW_FULL else pb.VIEW_BASIC
    if out.view == pb.VIEW_BASIC:
        out.http_request.body = b""
    return out
