"""What every event function does with a CloudEvent (a Pub/Sub message pushed to it).

A payload that is not a JSON object is logged and acknowledged: retrying it cannot help, and
an unacknowledged poison message would be redelivered until it is dead-lettered anyway. Any
failure of the work itself propagates, so functions-framework answers 500 and Pub/Sub retries
with the subscription's backoff (the dead-letter topic catches what never succeeds).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from genmedia.bootstrap import deps
from genmedia.logging import LogContext, bound_context, get_logger

if TYPE_CHECKING:
    from cloudevents.http import CloudEvent

    from genmedia.bootstrap import Deps

_log = get_logger("genmedia.events")


def payload_of(data: object) -> dict[str, Any] | None:
    """The JSON object a Pub/Sub CloudEvent carries, or None when it carries none."""
    message = data.get("message") if isinstance(data, Mapping) else None
    raw = message.get("data") if isinstance(message, Mapping) else None
    if not isinstance(raw, str):
        return None
    try:
        decoded = json.loads(base64.b64decode(raw, validate=True))
    except (binascii.Error, ValueError):
        return None
    return decoded if isinstance(decoded, dict) else None


def run(function: str, event: CloudEvent, work: Callable[[Deps, dict[str, Any]], object]) -> None:
    event_id = str(event["id"]) if "id" in event else "unknown"
    with bound_context(LogContext(request_id=event_id, function=function)):
        payload = payload_of(event.get_data())
        if payload is None:
            _log.warning("event without a JSON payload acknowledged", extra={
                "json_fields": {"event_id": event_id, "type": event["type"]}})  # fmt: skip
            return
        work(deps(), payload)
