"""Pub/Sub through Google's emulator: declared topics and push subscriptions, and delivery to a
real functions-framework cloud_event function as Eventarc would deliver it."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.local import events
from infra.local.ports import free_port
from infra.local.scheduler import EVENT_TYPE, Job, Scheduler
from infra.local.services import pubsub_choice
from infra.local.stack import ROOT, Stack, StackError, StackOptions
from tests.support.harness import start_stack

EMULATOR_PRESENT = pubsub_choice(None)[0]
needs_emulator = pytest.mark.skipif(
    not EMULATOR_PRESENT, reason="Google's Pub/Sub emulator is not installed (Google Cloud CLI)"
)
RECORDER = ROOT / "tests" / "fakes" / "pubsub_recorder.py"


def _wait_for(check: Any, what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def recorder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A functions-framework cloud_event function process; its URL and the file it records to."""
    record = tmp_path_factory.mktemp("recorder") / "events.jsonl"
    port = free_port()
    argv = [sys.executable, "-m", "functions_framework", "--source", str(RECORDER),
            "--target", "record", "--signature-type", "cloudevent",
            "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    env = {"RECORD_FILE": str(record), "PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        _wait_for(lambda: _listening(port) or proc.poll() is not None, "the recorder to listen")
        assert proc.poll() is None, "the recorder function exited at start"
        yield f"http://127.0.0.1:{port}", record
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _recorded(record: Path, topic: str) -> list[dict[str, Any]]:
    if not record.exists():
        return []
    lines = [json.loads(line) for line in record.read_text().splitlines() if line]
    return [e for e in lines if e["attributes"]["source"].endswith(f"/topics/{topic}")]


def _subscribe_recorder(info: dict[str, Any], url: str, topic: str) -> None:
    host, project = info["pubsub_emulator"], info["project_id"]
    events.create_topic(host, project, topic)
    sub = events.Subscription(name=f"{topic}-push", topic=topic, function="record")
    events.create_subscription(host, project, sub, events.push_endpoint(url, project, topic))


@needs_emulator
def test_a_push_subscription_delivers_the_cloudevent_eventarc_would(
    stack_info: dict[str, Any], recorder: tuple[str, Path]
) -> None:
    assert stack_info["event_delivery"] == "pubsub" and stack_info["pubsub_emulator"]
    url, record = recorder
    topic, project = f"t-{uuid.uuid4().hex[:10]}", stack_info["project_id"]
    _subscribe_recorder(stack_info, url, topic)
    payload = {"job": "purge", "n": 3}
    message_id = events.publish(
        stack_info["pubsub_emulator"], project, topic, payload, {"origin": "test"}
    )
    (event,) = _wait_for(lambda: _recorded(record, topic), "the pushed event")
    assert event["attributes"]["type"] == EVENT_TYPE
    assert (
        event["attributes"]["source"]
        == f"//pubsub.googleapis.com/projects/{project}/topics/{topic}"
    )
    message = event["data"]["message"]
    assert json.loads(base64.b64decode(message["data"])) == payload
    assert message["data"] == base64.b64encode(json.dumps(payload).encode()).decode()
    assert message["attributes"] == {"origin": "test"}
    assert message["messageId"] == message_id


@needs_emulator
def test_the_scheduler_publishes_schedules_through_pubsub(
    stack_info: dict[str, Any], recorder: tuple[str, Path]
) -> None:
    url, record = recorder
    topic, project = f"s-{uuid.uuid4().hex[:10]}", stack_info["project_id"]
    _subscribe_recorder(stack_info, url, topic)
    scheduler = Scheduler(
        project, [Job(topic, {"job": "nightly"})], 60, stack_info["pubsub_emulator"]
    )
    assert scheduler.deliver(scheduler.jobs[0]).startswith("message ")
    (event,) = _wait_for(lambda: _recorded(record, topic), "the scheduled event")
    assert json.loads(base64.b64decode(event["data"]["message"]["data"])) == {"job": "nightly"}


EVENTS_DECLARATION = {
    "topics": {"purge-assets": {"dead_letter_topic": "purge-assets-dead"}},
    "subscriptions": {
        "purge-assets-push": {
            "topic": "purge-assets",
            "function": "library",
            "ack_deadline_seconds": 30,
            "retry_policy": {"minimum_backoff": "5s", "maximum_backoff": "120s"},
            "dead_letter": {"topic": "purge-assets-dead", "max_delivery_attempts": 6},
        }
    },
    "schedules": {
        "nightly": {"cron": "0 3 * * *", "time_zone": "Etc/UTC", "topic": "purge-assets",
                    "payload": {"job": "purge"}},
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def declared_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The one private stack of this module: started with a test events file."""
    state = tmp_path_factory.mktemp("pubsub-stack")
    events_file = state / "events.json"
    events_file.write_text(json.dumps(EVENTS_DECLARATION))
    stack = start_stack(state, events_file=events_file)
    try:
        yield stack
    finally:
        stack.stop()


@needs_emulator
def test_declared_topics_and_push_subscriptions_are_created(declared_stack: Stack) -> None:
    info = declared_stack.info()
    assert info["event_delivery"] == "pubsub"
    host, project = str(info["pubsub_emulator"]), str(info["project_id"])
    sub = events.get_subscription(host, project, "purge-assets-push")
    assert sub["topic"] == f"projects/{project}/topics/purge-assets"
    assert sub["pushConfig"]["pushEndpoint"] == (
        declared_stack.function_url("library") + f"/projects/{project}/topics/purge-assets"
    )
    assert sub["ackDeadlineSeconds"] == 30
    assert sub["retryPolicy"] == {"minimumBackoff": "5s", "maximumBackoff": "120s"}
    assert sub["deadLetterPolicy"] == {
        "deadLetterTopic": f"projects/{project}/topics/purge-assets-dead",
        "maxDeliveryAttempts": 6,
    }
    # Seeding again (a restart against a live emulator) finds everything already there.
    events.seed_events(host, project, declared_stack.events, declared_stack.function_url)
    saved = json.loads((declared_stack.options.state_dir / "stack.json").read_text())
    assert saved["pubsub_emulator"] == host and saved["event_delivery"] == "pubsub"


def test_a_stack_without_pubsub_reports_direct_delivery(tmp_path: Path) -> None:
    stack = Stack(StackOptions(state_dir=tmp_path, free_ports=True, pubsub=False))
    stack.plan()  # what start() decides before any process runs
    info = stack.info()
    assert info["event_delivery"] == "direct" and info["pubsub_emulator"] is None
    assert "pubsub" not in stack._wanted() and "pubsub" not in stack.ports
    assert "PUBSUB_EMULATOR_HOST" not in stack.function_env("library")


def test_a_subscription_to_a_function_the_stack_lacks_fails_at_start(tmp_path: Path) -> None:
    declaration = {
        "topics": {"orphan-topic": {}},
        "subscriptions": {"orphan-push": {"topic": "orphan-topic", "function": "no_such_fn"}},
    }
    events_file = tmp_path / "events.json"
    events_file.write_text(json.dumps(declaration))
    stack = Stack(StackOptions(state_dir=tmp_path, free_ports=True, events_file=events_file))
    with pytest.raises(StackError, match="orphan-push -> no_such_fn"):
        stack.start()
    assert stack.children == {}
