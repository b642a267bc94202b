"""Resource names: projects/P/locations/L[/queues/Q[/tasks/T]], checked as production does."""

import re
import secrets
from dataclasses import dataclass

from .errors import invalid

_PROJECT = r"[A-Za-z0-9:.\-]+"
_LOCATION = r"[A-Za-z0-9\-]+"
LOCATION_RE = re.compile(rf"^projects/({_PROJECT})/locations/({_LOCATION})$")
QUEUE_RE = re.compile(
    rf"^(projects/{_PROJECT}/locations/{_LOCATION})/queues/([A-Za-z0-9\-]{{1,100}})$"
)
TASK_RE = re.compile(r"^(.+/queues/[^/]+)/tasks/([A-Za-z0-9_\-]{1,500})$")


@dataclass(frozen=True)
class QueueName:
    full: str
    location: str
    queue_id: str


@dataclass(frozen=True)
class TaskName:
    full: str
    queue: str
    task_id: str


def location(name: str) -> str:
    if not LOCATION_RE.match(name):
        raise invalid(f"Invalid location name {name!r}: expected projects/PROJECT/locations/LOC")
    return name


def queue(name: str) -> QueueName:
    match = QUEUE_RE.match(name)
    if match is None:
        raise invalid(
            f"Invalid queue name {name!r}: expected projects/PROJECT/locations/LOC/queues/QUEUE, "
            "QUEUE being 1-100 letters, digits or hyphens"
        )
    return QueueName(name, match.group(1), match.group(2))


def task(name: str) -> TaskName:
    match = TASK_RE.match(name)
    if match is None:
        raise invalid(
            f"Invalid task name {name!r}: expected .../queues/QUEUE/tasks/TASK, "
            "TASK being 1-500 letters, digits, hyphens or underscores"
        )
    queue(match.group(1))
    return TaskName(name, match.group(1), match.group(2))


def short(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def generated_task_id() -> str:
    # Production's generated ids are long decimal numbers; callers must not rely on more.
    return str(secrets.randbits(63) + 10**18)
