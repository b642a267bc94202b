"""functions/events.json: parsing and validation shared by the local stack and Terraform."""

from __future__ import annotations

from typing import Any

import pytest

from infra.local.events import (
    EventsError,
    load_events,
    parse_events,
    push_endpoint,
    subscription_body,
)
from infra.local.routes import load_routes

VALID: dict[str, Any] = {
    "topics": {"purge-assets": {"dead_letter_topic": "purge-assets-dead"}},
    "subscriptions": {
        "purge-assets-push": {
            "topic": "purge-assets",
            "function": "purge",
            "ack_deadline_seconds": 60,
            "retry_policy": {"minimum_backoff": "10s", "maximum_backoff": "300s"},
            "dead_letter": {"topic": "purge-assets-dead", "max_delivery_attempts": 7},
        }
    },
    "schedules": {
        "nightly-purge": {
            "cron": "0 3 * * *",
            "time_zone": "Etc/UTC",
            "topic": "purge-assets",
            "payload": {"job": "purge"},
        }
    },
}


def _with(section: str, name: str, **changes: Any) -> dict[str, Any]:
    raw = {k: {n: dict(v) for n, v in s.items()} for k, s in VALID.items()}
    raw[section][name].update(changes)
    return raw


def test_every_event_function_is_subscribed_and_scheduled_from_the_committed_file() -> None:
    events = load_events()
    table = load_routes()
    event_functions = {n for n, f in table.functions.items() if f["kind"] == "event"}
    assert {s.function for s in events.subscriptions.values()} == event_functions
    scheduled = {s.topic for s in events.schedules.values()}
    assert all(s.topic in scheduled for s in events.subscriptions.values())
    # Poison messages end in a dead-letter topic instead of being retried for ever.
    assert all(s.dead_letter_topic for s in events.subscriptions.values())


def test_a_full_declaration_parses_with_dead_letter_topics_included() -> None:
    events = parse_events(VALID)
    sub = events.subscriptions["purge-assets-push"]
    assert (sub.topic, sub.function, sub.ack_deadline_seconds) == ("purge-assets", "purge", 60)
    assert (sub.dead_letter_topic, sub.max_delivery_attempts) == ("purge-assets-dead", 7)
    assert events.all_topics() == ["purge-assets", "purge-assets-dead"]
    assert events.schedules["nightly-purge"].payload == {"job": "purge"}


def test_the_rest_subscription_pushes_to_the_topic_path_with_policies() -> None:
    sub = parse_events(VALID).subscriptions["purge-assets-push"]
    endpoint = push_endpoint("http://127.0.0.1:1", "p1", sub.topic)
    assert endpoint == "http://127.0.0.1:1/projects/p1/topics/purge-assets"
    body = subscription_body("p1", sub, endpoint)
    assert body["topic"] == "projects/p1/topics/purge-assets"
    assert body["pushConfig"] == {"pushEndpoint": endpoint}
    assert body["retryPolicy"] == {"minimumBackoff": "10s", "maximumBackoff": "300s"}
    assert body["deadLetterPolicy"] == {
        "deadLetterTopic": "projects/p1/topics/purge-assets-dead",
        "maxDeliveryAttempts": 7,
    }


@pytest.mark.parametrize(
    ("section", "name", "changes", "needle"),
    [
        ("subscriptions", "purge-assets-push", {"topic": "nope-topic"}, "not declared"),
        ("subscriptions", "purge-assets-push", {"function": ""}, "event function"),
        ("subscriptions", "purge-assets-push", {"ack_deadline_seconds": 5}, "ack_deadline"),
        (
            "subscriptions",
            "purge-assets-push",
            {"retry_policy": {"minimum_backoff": "10"}},
            "Duration",
        ),
        (
            "subscriptions",
            "purge-assets-push",
            {"retry_policy": {"minimum_backoff": "30s", "maximum_backoff": "20s"}},
            "minimum",
        ),
        (
            "subscriptions",
            "purge-assets-push",
            {"dead_letter": {"topic": "purge-assets-dead", "max_delivery_attempts": 2}},
            "max_delivery_attempts",
        ),
        (
            "subscriptions",
            "purge-assets-push",
            {"dead_letter": {"topic": "purge-assets"}},
            "differ",
        ),
        ("schedules", "nightly-purge", {"topic": "other-topic"}, "not declared"),
        ("schedules", "nightly-purge", {"cron": "every day"}, "five fields"),
        ("schedules", "nightly-purge", {"payload": [1]}, "JSON object"),
    ],
)
def test_invalid_declarations_are_refused_by_name(
    section: str, name: str, changes: dict[str, Any], needle: str
) -> None:
    with pytest.raises(EventsError, match=needle) as info:
        parse_events(_with(section, name, **changes))
    assert name in str(info.value)


@pytest.mark.parametrize("topic", ["ab", "goog-topic", "1topic", "has space"])
def test_topic_names_follow_pubsub_rules(topic: str) -> None:
    with pytest.raises(EventsError, match="not a valid Pub/Sub name"):
        parse_events({"topics": {topic: {}}})
