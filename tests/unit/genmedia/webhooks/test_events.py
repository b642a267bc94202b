"""Event bodies are the compact Standard Webhooks payload; headers verify with the reference
implementation, and the body is byte-identical across attempts while the timestamp moves."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from standardwebhooks import Webhook

from genmedia.webhooks.events import USER_AGENT, delivery_headers, event_body
from genmedia.webhooks.signing import new_secret

WHEN = datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC)
JOB = {"id": "job_1", "type": "video", "state": "SUCCEEDED", "prompt": "a café at dawn"}


def test_body_is_compact_json_with_type_timestamp_and_data() -> None:
    body = event_body("job.succeeded", JOB, event_id="evt_1", timestamp=WHEN)
    assert json.loads(body) == {
        "type": "job.succeeded",
        "timestamp": "2026-03-01T12:30:05.123Z",
        "data": JOB,
    }
    assert b": " not in body and b", " not in body
    assert "café".encode() in body  # UTF-8, not \u escapes


def test_body_is_stable_for_retries_and_converts_aware_datetimes() -> None:
    job = {**JOB, "end_time": datetime(2026, 3, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))}
    first = event_body("job.failed", job, event_id="evt_1", timestamp=WHEN)
    assert first == event_body("job.failed", job, event_id="evt_1", timestamp=WHEN)
    assert json.loads(first)["data"]["end_time"] == "2026-03-01T12:00:00.000Z"


@pytest.mark.parametrize(
    ("event_type", "job", "event_id", "when"),
    [
        ("job.started", JOB, "evt_1", WHEN),
        ("job.cancelled", JOB, "", WHEN),
        ("job.cancelled", JOB, "evt_1", WHEN.replace(tzinfo=None)),
        ("job.cancelled", {"x": datetime(2026, 1, 1)}, "evt_1", WHEN),  # naive inside data
        ("job.cancelled", {"x": float("nan")}, "evt_1", WHEN),
        ("job.cancelled", {"x": object()}, "evt_1", WHEN),
    ],
)
def test_bad_events_are_refused(
    event_type: str, job: dict[str, object], event_id: str, when: datetime
) -> None:
    with pytest.raises((ValueError, TypeError)):
        event_body(event_type, job, event_id=event_id, timestamp=when)


def test_headers_verify_with_the_reference_implementation() -> None:
    old, new = new_secret(), new_secret()
    body = event_body("job.cancelled", JOB, event_id="evt_1", timestamp=WHEN)
    now = int(time.time())
    headers = delivery_headers([old, new], "evt_1", now, body)
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == USER_AGENT == "GenMedia-Webhooks/1"
    assert headers["webhook-id"] == "evt_1"
    assert headers["webhook-timestamp"] == str(now)
    for secret in (old, new):
        assert Webhook(secret).verify(body, headers)["type"] == "job.cancelled"


def test_a_retry_keeps_the_id_and_body_and_re_signs_the_new_timestamp() -> None:
    secret = new_secret()
    body = event_body("job.succeeded", JOB, event_id="evt_1", timestamp=WHEN)
    now = int(time.time())
    first = delivery_headers([secret], "evt_1", now - 60, body)
    retry = delivery_headers([secret], "evt_1", now, body)
    assert first["webhook-id"] == retry["webhook-id"]
    assert first["webhook-signature"] != retry["webhook-signature"]
    Webhook(secret).verify(body, retry)
