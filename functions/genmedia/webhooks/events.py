"""Webhook event payloads and the headers of one delivery attempt.

The body and the ``webhook-id`` are fixed when the event is created and identical on every
retry (receivers deduplicate on the id); ``webhook-timestamp`` and the signatures are made
per attempt, because receivers refuse timestamps older than a few minutes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from genmedia.formats import rfc3339
from genmedia.webhooks.signing import sign_all

EVENT_TYPES = frozenset({"job.succeeded", "job.failed", "job.cancelled"})
USER_AGENT = "GenMedia-Webhooks/1"


def event_body(
    event_type: str, job: Mapping[str, Any], *, event_id: str, timestamp: datetime
) -> bytes:
    """``{"type", "timestamp", "data"}`` as compact JSON; ``job`` is the public job view.

    ``event_id`` is the ``webhook-id`` of the deliveries; it travels in that header only, as
    Standard Webhooks and our conventions define the body, and is checked here so a body is
    never built for an event that could not be sent.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    if not event_id:
        raise ValueError("webhook event id is required")
    if timestamp.tzinfo is None:
        raise ValueError("webhook event timestamp must be timezone-aware")
    payload = {"type": event_type, "timestamp": rfc3339(timestamp), "data": dict(job)}
    return json.dumps(
        payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_json_default
    ).encode("utf-8")


def _json_default(value: object) -> str:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return rfc3339(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable in a webhook body")


def delivery_headers(
    secrets: Iterable[str], msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The headers of one attempt; ``timestamp`` is the attempt's time in unix seconds."""
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign_all(secrets, msg_id, timestamp, body),
    }
