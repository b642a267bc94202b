"""`make dev`'s scheduler jobs: one publish per schedule through Pub/Sub, or one direct post
per subscribed function without it."""

from __future__ import annotations

from pathlib import Path

from infra.local.__main__ import _scheduled_jobs
from infra.local.events import parse_events
from infra.local.scheduler import Job
from infra.local.stack import Stack, StackOptions

DECLARATION = {
    "topics": {"purge-assets": {}},
    "subscriptions": {"purge-push": {"topic": "purge-assets", "function": "library"}},
    "schedules": {"nightly": {"cron": "0 3 * * *", "topic": "purge-assets", "payload": {"a": 1}}},
}


def _stack(tmp_path: Path, pubsub: bool) -> Stack:
    stack = Stack(StackOptions(state_dir=tmp_path))
    stack.events, stack.pubsub = parse_events(DECLARATION), pubsub
    stack.ports = {"fn_library": 8101, "pubsub": 8085}
    return stack


def test_with_pubsub_each_schedule_is_published_to_its_topic(tmp_path: Path) -> None:
    assert _scheduled_jobs(_stack(tmp_path, pubsub=True)) == [Job("purge-assets", {"a": 1})]


def test_without_pubsub_each_subscribed_function_gets_a_direct_post(tmp_path: Path) -> None:
    jobs = _scheduled_jobs(_stack(tmp_path, pubsub=False))
    assert jobs == [Job("purge-assets", {"a": 1}, "http://127.0.0.1:8101")]
