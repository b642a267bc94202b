"""Pub/Sub topics, push subscriptions and schedules of functions/events.json.

The local stack creates them in Google's Pub/Sub emulator through its REST API (Terraform
creates the same ones in production from the same file). Plain urllib, as for the buckets:
the stack needs no Pub/Sub client library.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.local.queues import duration

EVENTS_JSON = Path(__file__).resolve().parents[2] / "functions" / "events.json"
# Pub/Sub's resource-name rule (topics and subscriptions alike).
_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9._~%+-]{2,254}$")


class EventsError(ValueError):
    """functions/events.json declares something Pub/Sub or Cloud Scheduler would refuse."""


@dataclass(frozen=True)
class Subscription:
    name: str
    topic: str
    function: str
    ack_deadline_seconds: int = 10
    minimum_backoff: str = "10s"
    maximum_backoff: str = "600s"
    dead_letter_topic: str | None = None
    max_delivery_attempts: int = 5


@dataclass(frozen=True)
class Schedule:
    name: str
    cron: str
    time_zone: str
    topic: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Events:
    topics: dict[str, str | None] = field(default_factory=dict)  # topic -> dead-letter topic
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    schedules: dict[str, Schedule] = field(default_factory=dict)

    def all_topics(self) -> list[str]:
        """Declared topics and their dead-letter topics, each once, dead letters included."""
        names = dict.fromkeys(self.topics)
        names.update(dict.fromkeys(t for t in self.topics.values() if t))
        names.update(
            dict.fromkeys(
                s.dead_letter_topic for s in self.subscriptions.values() if s.dead_letter_topic
            )
        )
        return list(names)


def _name(kind: str, name: object) -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name) or name.startswith("goog"):
        raise EventsError(f"{kind} name {name!r} is not a valid Pub/Sub name")
    return name


def _topics(raw: dict[str, Any]) -> dict[str, str | None]:
    topics: dict[str, str | None] = {}
    for name, spec in raw.items():
        dead = (spec or {}).get("dead_letter_topic")
        topics[_name("topic", name)] = None if dead is None else _name("dead-letter topic", dead)
    return topics


def _subscription(name: str, spec: dict[str, Any], topics: dict[str, str | None]) -> Subscription:
    topic = spec.get("topic")
    if topic not in topics:
        raise EventsError(f"subscription {name}: topic {topic!r} is not declared in topics")
    if not isinstance(spec.get("function"), str) or not spec["function"]:
        raise EventsError(f"subscription {name}: needs the event function it pushes to")
    retry = spec.get("retry_policy", {})
    dead = spec.get("dead_letter")
    sub = Subscription(
        name=_name("subscription", name),
        topic=topic,
        function=spec["function"],
        ack_deadline_seconds=int(spec.get("ack_deadline_seconds", 10)),
        minimum_backoff=retry.get("minimum_backoff", "10s"),
        maximum_backoff=retry.get("maximum_backoff", "600s"),
        dead_letter_topic=None if dead is None else _name("dead-letter topic", dead.get("topic")),
        max_delivery_attempts=5 if dead is None else int(dead.get("max_delivery_attempts", 5)),
    )
    _check_limits(sub)
    return sub


def _check_limits(sub: Subscription) -> None:
    """The ranges Pub/Sub accepts, so a bad value fails here rather than at `terraform apply`."""
    if not 10 <= sub.ack_deadline_seconds <= 600:
        raise EventsError(f"subscription {sub.name}: ack_deadline_seconds must be 10-600")
    try:
        low, high = duration(sub.minimum_backoff), duration(sub.maximum_backoff)
    except ValueError as exc:
        raise EventsError(f"subscription {sub.name}: {exc}") from None
    if not low.total_seconds() <= high.total_seconds() <= 600:
        raise EventsError(f"subscription {sub.name}: need minimum <= maximum_backoff <= 600s")
    if sub.dead_letter_topic == sub.topic:
        raise EventsError(f"subscription {sub.name}: dead-letter topic must differ from topic")
    if not 5 <= sub.max_delivery_attempts <= 100:
        raise EventsError(f"subscription {sub.name}: max_delivery_attempts must be 5-100")


def _schedule(name: str, spec: dict[str, Any], topics: dict[str, str | None]) -> Schedule:
    if spec.get("topic") not in topics:
        raise EventsError(f"schedule {name}: topic {spec.get('topic')!r} is not declared")
    if len(str(spec.get("cron", "")).split()) != 5:
        raise EventsError(f"schedule {name}: cron must have five fields")
    if not isinstance(spec.get("payload", {}), dict):
        raise EventsError(f"schedule {name}: payload must be a JSON object")
    return Schedule(
        name, spec["cron"], spec.get("time_zone", "Etc/UTC"), spec["topic"], spec.get("payload", {})
    )


def parse_events(raw: dict[str, Any]) -> Events:
    topics = _topics(raw.get("topics", {}))
    subs = {n: _subscription(n, s, topics) for n, s in raw.get("subscriptions", {}).items()}
    schedules = {n: _schedule(n, s, topics) for n, s in raw.get("schedules", {}).items()}
    return Events(topics, subs, schedules)


def load_events(path: Path = EVENTS_JSON) -> Events:
    return parse_events(json.loads(path.read_text()))


def push_endpoint(function_url: str, project_id: str, topic: str) -> str:
    """functions-framework takes the CloudEvent source from the path of a raw push request."""
    return f"{function_url}/projects/{project_id}/topics/{topic}"


def subscription_body(project_id: str, sub: Subscription, endpoint: str) -> dict[str, Any]:
    """The REST Subscription resource, as Terraform's google_pubsub_subscription makes it."""
    body: dict[str, Any] = {
        "topic": f"projects/{project_id}/topics/{sub.topic}",
        "ackDeadlineSeconds": sub.ack_deadline_seconds,
        "pushConfig": {"pushEndpoint": endpoint},
        "retryPolicy": {
            "minimumBackoff": sub.minimum_backoff,
            "maximumBackoff": sub.maximum_backoff,
        },
    }
    if sub.dead_letter_topic:
        body["deadLetterPolicy"] = {
            "deadLetterTopic": f"projects/{project_id}/topics/{sub.dead_letter_topic}",
            "maxDeliveryAttempts": sub.max_delivery_attempts,
        }
    return body


def _call(method: str, url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    req = urllib.request.Request(
        url,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        answer: dict[str, Any] = json.loads(resp.read() or b"{}")
        return answer


def _put(url: str, body: dict[str, Any]) -> None:
    try:
        _call("PUT", url, body)
    except urllib.error.HTTPError as exc:
        if exc.code != 409:  # ALREADY_EXISTS: fine on a restart against a live emulator
            raise


def create_topic(host: str, project_id: str, topic: str) -> None:
    _put(f"http://{host}/v1/projects/{project_id}/topics/{topic}", {})


def create_subscription(host: str, project_id: str, sub: Subscription, endpoint: str) -> None:
    url = f"http://{host}/v1/projects/{project_id}/subscriptions/{sub.name}"
    _put(url, subscription_body(project_id, sub, endpoint))


def get_subscription(host: str, project_id: str, name: str) -> dict[str, Any]:
    return _call("GET", f"http://{host}/v1/projects/{project_id}/subscriptions/{name}")


def seed_events(
    host: str, project_id: str, events: Events, function_url: Callable[[str], str]
) -> None:
    """Create every topic (dead-letter ones first: subscriptions refer to them) and every
    push subscription, pushing to the function ``function_url`` resolves."""
    for topic in events.all_topics():
        create_topic(host, project_id, topic)
    for sub in events.subscriptions.values():
        endpoint = push_endpoint(function_url(sub.function), project_id, sub.topic)
        create_subscription(host, project_id, sub, endpoint)


def publish(
    host: str,
    project_id: str,
    topic: str,
    payload: dict[str, Any],
    attributes: dict[str, str] | None = None,
) -> str:
    """Publish one JSON message, as Cloud Scheduler's pubsub_target does; its message id."""
    message: dict[str, Any] = {"data": base64.b64encode(json.dumps(payload).encode()).decode()}
    if attributes:
        message["attributes"] = attributes
    url = f"http://{host}/v1/projects/{project_id}/topics/{topic}:publish"
    answer = _call("POST", url, {"messages": [message]})
    return str(answer["messageIds"][0])
