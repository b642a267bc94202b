"""Terraform builds every deployed piece from the one declaration of it (parsed, not grepped).

functions/routes.json names each function and its kind, functions/events.json the topics,
subscriptions and schedules, functions/queues.json the queues; main.py has one entry point per
function. Here Terraform's own files are parsed (python-hcl2) to check that they read those
files and create their resources by iterating over them, so that a function, a trigger or a
queue declared once is deployed, and one deleted is undeployed, with no list kept by hand.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import hcl2
import pytest

from infra.local.events import load_events
from infra.local.queues import load_queues
from infra.local.routes import load_routes

ROOT = Path(__file__).resolve().parents[3]
TERRAFORM = ROOT / "terraform"


def _unquote(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip('"')
    if isinstance(value, list):
        return [_unquote(v) for v in value]
    if isinstance(value, dict):
        return {_unquote(k): _unquote(v) for k, v in value.items()}
    return value


def _parsed(name: str) -> dict[str, Any]:
    with (TERRAFORM / name).open() as f:
        return _unquote(hcl2.load(f))  # type: ignore[no-any-return]


def _resources(name: str) -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for block in _parsed(name).get("resource", []):
        for kind, by_name in block.items():
            for label, body in by_name.items():
                found[(kind, label)] = body
    return found


def _locals(name: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for block in _parsed(name).get("locals", []):
        merged.update(block)
    return merged


def _entry_points() -> dict[str, str]:
    """main.py: function name -> its functions_framework decorator (http / cloud_event)."""
    tree = ast.parse((ROOT / "functions" / "main.py").read_text())
    points = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            for deco in node.decorator_list:
                framework = isinstance(deco, ast.Attribute) and isinstance(deco.value, ast.Name)
                if framework and deco.value.id == "functions_framework":  # type: ignore[attr-defined]
                    points[node.name] = deco.attr  # type: ignore[attr-defined]
    return points


def test_every_declared_function_has_its_entry_point_and_a_terraform_spec() -> None:
    table = load_routes()
    specs = _locals("functions.tf")["function_specs"]
    kinds = {name: str(spec["kind"]) for name, spec in table.functions.items()}
    assert set(specs) == set(kinds)
    decorators = {"http": "http", "event": "cloud_event"}
    assert _entry_points() == {name: decorators[kind] for name, kind in kinds.items()}
    fn = _resources("functions.tf")[("google_cloudfunctions2_function", "fn")]
    assert fn["for_each"] == "${local.functions}"


def test_event_functions_are_triggered_from_the_events_declaration_alone() -> None:
    events_tf = _locals("events.tf")
    assert "functions/events.json" in events_tf["events"]
    resources = _resources("events.tf")
    assert resources[("google_pubsub_topic", "topic")]["for_each"] == "${local.event_topics}"
    push = resources[("google_pubsub_subscription", "push")]
    assert push["for_each"] == "${local.events.subscriptions}"
    (config,) = push["push_config"]
    assert "fn[each.value.function]" in config["push_endpoint"]
    assert "/topics/${each.value.topic}" in config["push_endpoint"]
    schedule = resources[("google_cloud_scheduler_job", "schedule")]
    assert schedule["for_each"] == "${local.events.schedules}"
    (target,) = schedule["pubsub_target"]
    assert "topic[each.value.topic]" in target["topic_name"]


@pytest.mark.parametrize(
    "function", sorted(n for n, f in load_routes().functions.items() if f["kind"] == "event")
)
def test_each_event_function_has_a_topic_a_schedule_and_a_dead_letter(function: str) -> None:
    events = load_events()
    subscriptions = [s for s in events.subscriptions.values() if s.function == function]
    assert subscriptions, f"{function} has no subscription in functions/events.json"
    for sub in subscriptions:
        assert sub.topic in events.topics
        assert any(s.topic == sub.topic for s in events.schedules.values())
        assert sub.dead_letter_topic is not None
    assert function not in load_routes().public_functions


def test_queues_are_created_from_the_queues_declaration_alone() -> None:
    queue = _resources("tasks.tf")[("google_cloud_tasks_queue", "queue")]
    assert queue["for_each"] == "${local.queues}"
    assert "functions/queues.json" in str(_locals("tasks.tf"))
    assert load_queues()  # and there is something to create
