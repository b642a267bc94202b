"""Fault injection requested over the admin port (POST /emulator/v1/faults)."""

from dataclasses import dataclass

from . import names
from .errors import invalid

KINDS = ("status", "timeout", "duplicate")


@dataclass
class Fault:
    """The next `remaining` dispatches of a queue fail this way."""

    kind: str  # "status" or "timeout"
    remaining: int
    status: int = 0
    deliver: bool = False  # also send the request, then report the injected outcome anyway

    def describe(self) -> str:
        return f"status {self.status}" if self.kind == "status" else "timeout"


@dataclass(frozen=True)
class FaultRequest:
    kind: str
    target: str  # a queue name, or a task name for "duplicate"
    fault: Fault | None


def parse(body: object) -> FaultRequest:
    if not isinstance(body, dict) or body.get("kind") not in KINDS:
        raise invalid(f"expected a JSON object whose 'kind' is one of {', '.join(KINDS)}")
    kind = str(body["kind"])
    if kind == "duplicate":
        return FaultRequest(kind, names.task(_text(body, "task")).full, None)
    queue = names.queue(_text(body, "queue")).full
    count = body.get("count", 1)
    if type(count) is not int or count < 1:
        raise invalid("'count' must be a positive integer")
    deliver = body.get("deliver", False)
    if type(deliver) is not bool:
        raise invalid("'deliver' must be true or false")
    status = 0
    if kind == "status":
        status = body.get("status", 0)
        if type(status) is not int or not 100 <= status <= 599 or 200 <= status <= 299:
            raise invalid("'status' must be an HTTP status outside 2xx (a failure)")
    return FaultRequest(kind, queue, Fault(kind, count, status, deliver))


def _text(body: dict[str, object], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise invalid(f"'{key}' must be a resource name")
    return value
