"""functions/routes.json agrees with the entry points in main.py and the routers they serve."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from genmedia.handlers import public_routers
from genmedia.http import Router
from infra.local.routes import Route as Rule
from infra.local.routes import load_routes

MAIN = Path(__file__).resolve().parents[4] / "functions" / "main.py"
TABLE = load_routes()
_PARAM = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


DECORATORS = {"http": "functions_framework.http", "event": "functions_framework.cloud_event"}


def entry_points() -> dict[str, str]:
    """Entry point name -> module whose ``router`` (or, for an event function, ``handle``) it
    serves, read without importing main.py (which validates settings at import):
    ``@functions_framework.http def name(request)`` (``cloud_event`` for the event functions
    of routes.json) importing ``from genmedia.handlers import name as handlers``."""
    found: dict[str, str] = {}
    for node in ast.parse(MAIN.read_text()).body:
        if not isinstance(node, ast.FunctionDef):
            continue
        decorators = [ast.unparse(d) for d in node.decorator_list]
        kind = TABLE.functions.get(node.name, {}).get("kind", "http")
        assert decorators == [DECORATORS[kind]], node.name
        imports = [n for n in node.body if isinstance(n, ast.ImportFrom)]
        assert len(imports) == 1 and imports[0].module == "genmedia.handlers", node.name
        (alias,) = imports[0].names
        assert alias.name == node.name, "the handler module is named as the deployed function"
        found[node.name] = f"genmedia.handlers.{alias.name}"
    return found


ENTRY_POINTS = entry_points()
ROUTERS = {router.function_name: router for router in public_routers()}


def sample_path(pattern: str) -> str:
    return _PARAM.sub("Sample_id-1", pattern)


def test_functions_in_routes_json_are_exactly_the_entry_points() -> None:
    assert sorted(TABLE.functions) == sorted(ENTRY_POINTS)


HTTP_ENTRY_POINTS = sorted(n for n in ENTRY_POINTS if TABLE.functions[n]["kind"] == "http")
EVENT_ENTRY_POINTS = sorted(n for n in ENTRY_POINTS if TABLE.functions[n]["kind"] == "event")


@pytest.mark.parametrize("name", EVENT_ENTRY_POINTS)
def test_each_event_function_has_a_handler_and_no_route(name: str) -> None:
    assert callable(importlib.import_module(ENTRY_POINTS[name]).handle)
    assert name not in TABLE.public_functions and name not in ROUTERS


@pytest.mark.parametrize("name", HTTP_ENTRY_POINTS)
def test_each_entry_point_dispatches_to_the_router_of_its_function(name: str) -> None:
    router = importlib.import_module(ENTRY_POINTS[name]).router
    assert isinstance(router, Router)
    assert router.function_name == name
    if name in TABLE.public_functions:
        assert ROUTERS[name] is router
    else:  # a private worker: nothing of it is in the public API or its OpenAPI document
        assert name not in ROUTERS and router.public_routes() == []


def test_the_public_routers_are_exactly_the_routed_functions() -> None:
    assert TABLE.public_functions == set(ROUTERS)


PUBLIC_ROUTES = [
    (router.function_name, route.method, route.pattern)
    for router in public_routers()
    for route in router.public_routes()
]


@pytest.mark.parametrize(("function", "method", "pattern"), PUBLIC_ROUTES)
def test_every_public_route_reaches_the_function_that_serves_it(
    function: str, method: str, pattern: str
) -> None:
    assert TABLE.resolve(sample_path(pattern)) == function


@pytest.mark.parametrize("rule", TABLE.routes, ids=lambda r: f"{r.match}:{r.path}")
def test_every_rule_serves_a_public_route_of_its_function(rule: Rule) -> None:
    served = [sample_path(r.pattern) for r in ROUTERS[rule.function].public_routes()]
    assert any(rule.matches(path) for path in served)
