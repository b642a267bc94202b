"""functions/queues.json: what Terraform and the local stack both read."""

from __future__ import annotations

from datetime import timedelta

import pytest

from infra.local.queues import duration, load_queues, queue_message


def test_every_queue_declares_rates_and_retries_with_durations() -> None:
    queues = load_queues()
    assert "video-jobs" in queues
    for spec in queues.values():
        retry = spec["retry_config"]
        assert {"max_attempts", "min_backoff", "max_backoff", "max_doublings"} <= set(retry)
        assert duration(retry["min_backoff"]) <= duration(retry["max_backoff"])
        assert {"max_dispatches_per_second", "max_concurrent_dispatches"} <= set(
            spec["rate_limits"]
        )


def test_queue_messages_carry_the_full_name_and_durations() -> None:
    spec = {"retry_config": {"min_backoff": "0.5s", "max_attempts": 3}, "rate_limits": {}}
    message = queue_message("p", "q", spec)
    assert message["name"] == "projects/p/locations/us-central1/queues/q"
    assert message["retry_config"] == {"min_backoff": timedelta(seconds=0.5), "max_attempts": 3}


def test_durations_must_be_protobuf_strings() -> None:
    with pytest.raises(ValueError):
        duration("10")
