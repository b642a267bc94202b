"""GET /v1/openapi.json: every routed public path is documented, and nothing else is."""

from __future__ import annotations

import re
from typing import Any

import requests

from genmedia.handlers import public_routers
from infra.local.routes import load_routes
from tests.support.harness import Gateway

METHODS = {"get", "post", "put", "patch", "delete"}


def sample_path(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "abc123", template)


def test_spec_documents_exactly_the_routed_public_endpoints(gateway: Gateway) -> None:
    resp = gateway.get("/v1/openapi.json")
    assert resp.status_code == 200
    spec: dict[str, Any] = resp.json()
    assert spec["openapi"].startswith("3.1")
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops if m in METHODS}
    served = {(r.method, r.pattern) for router in public_routers() for r in router.public_routes()}
    assert documented == served
    table = load_routes()
    owners = {
        r.pattern: router.function_name
        for router in public_routers()
        for r in router.public_routes()
    }
    for path in spec["paths"]:
        assert table.resolve(sample_path(path)) == owners[path], path
    for rule in table.routes:  # no rule routes to nothing documented
        assert any(table.resolve(sample_path(p)) == rule.function for p in spec["paths"])


def test_spec_declares_errors_and_firebase_auth(gateway: Gateway) -> None:
    spec = gateway.get("/v1/openapi.json").json()
    scheme = spec["components"]["securitySchemes"]["firebase"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    generate = spec["paths"]["/v1/images:generate"]["post"]
    assert generate["security"] == [{"firebase": []}]
    assert "application/problem+json" in generate["responses"]["422"]["content"]
    assert "application/json" in generate["requestBody"]["content"]
    assert spec["paths"]["/v1/healthz"]["get"].get("security", []) == []


def test_cors_preflight_through_the_gateway(gateway: Gateway) -> None:
    allowed = requests.options(
        gateway.base_url + "/v1/images:generate",
        headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization, content-type"},
        timeout=10,
    )  # fmt: skip
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    denied = requests.options(
        gateway.base_url + "/v1/images:generate",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert denied.status_code == 403
    assert "Access-Control-Allow-Origin" not in denied.headers
