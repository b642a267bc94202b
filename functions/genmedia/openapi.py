"""OpenAPI 3.1 document generated from the routers and the same pydantic models they validate.

Only routes registered with ``public=True`` appear; per-function ``/healthz`` never does.
Request bodies use the models' validation schemas and responses their serialization schemas,
so the document describes exactly what the code accepts and emits.
"""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from genmedia.http.problem import PROBLEM_CONTENT_TYPE
from genmedia.http.router import PARAM_VALUE_RE, Link, Route, Router

REF_PREFIX = "#/components/schemas/"
_REF_TEMPLATE = REF_PREFIX + "{model}"
_ModelKey = tuple[type[BaseModel], Literal["validation", "serialization"]]

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details.",
    "type": "object",
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "Stable machine-readable UPPER_SNAKE code."},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                "required": ["field", "message"],
            },
        },
    },
    "required": ["type", "title", "status", "detail", "code", "request_id"],
    "additionalProperties": True,
}
SECURITY_SCHEMES = {
    "firebase": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "Firebase ID token: `Authorization: Bearer <Firebase ID token>`.",
    }
}
_RETRY_AFTER = {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}


def _model_keys(routes: list[Route]) -> list[_ModelKey]:
    keys: dict[_ModelKey, None] = {}
    for route in routes:
        for model, mode in (
            (route.request_model, "validation"),
            (route.query_model, "validation"),
            (route.response_model, "serialization"),
        ):
            if model is not None:
                keys[(model, mode)] = None  # type: ignore[index]
    return list(keys)


def _error_statuses(route: Route) -> list[int]:
    # Any request line over the server's limit (server.MAX_REQUEST_LINE) is refused with a 414
    # before routing, whatever the operation: a long query string is enough.
    implied = {414, 500}
    if route.auth:
        implied.add(401)
    if route.roles:
        implied.add(403)
    if route.param_names:
        implied.add(404)
    if route.request_model is not None:
        implied |= {400, 413, 415, 422}
    if route.query_model is not None:
        implied.add(422)
    return sorted(implied | set(route.errors))


def _problem_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": HTTPStatus(status).phrase,
        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": REF_PREFIX + "Problem"}}},
    }
    if status in (429, 503):
        response["headers"] = {"Retry-After": _RETRY_AFTER}
    return response


def _parameters(route: Route, query_schema: dict[str, Any] | None) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": f"^{PARAM_VALUE_RE.pattern}$"},
        }
        for name in route.param_names
    ]
    if query_schema is not None:
        required = set(query_schema.get("required", []))
        for name, schema in query_schema.get("properties", {}).items():
            param = {"name": name, "in": "query", "required": name in required, "schema": schema}
            if "description" in schema:
                param["description"] = schema["description"]
            params.append(param)
    return params


class _Builder:
    def __init__(self, routes: list[Route]) -> None:
        self.operation_ids = {(r.method, r.pattern): r.operation_id for r in routes}
        keys = _model_keys(routes)
        modes: list[tuple[type[BaseModel], JsonSchemaMode]] = list(keys)
        refs, defs = models_json_schema(modes, ref_template=_REF_TEMPLATE) if keys else ({}, {})
        self.refs: dict[_ModelKey, dict[str, Any]] = dict(refs)  # type: ignore[arg-type]
        self.schemas: dict[str, Any] = dict(defs.get("$defs", {}))
        self.schemas["Problem"] = PROBLEM_SCHEMA

    def ref(self, model: type[BaseModel], mode: Literal["validation", "serialization"]) -> Any:
        return self.refs[(model, mode)]

    def resolve(self, ref: dict[str, Any]) -> dict[str, Any]:
        name = str(ref["$ref"]).removeprefix(REF_PREFIX)
        schema: dict[str, Any] = self.schemas[name]
        return schema

    def operation(self, route: Route) -> dict[str, Any]:
        query = None
        if route.query_model is not None:
            query = self.resolve(self.ref(route.query_model, "validation"))
        op: dict[str, Any] = {"operationId": route.operation_id}
        if route.summary:
            op["summary"] = route.summary
        if route.description:
            op["description"] = route.description
        if params := _parameters(route, query):
            op["parameters"] = params
        if route.request_model is not None:
            schema = self.ref(route.request_model, "validation")
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": schema}},
            }
        op["responses"] = self._responses(route)
        if route.auth:
            op["security"] = [{"firebase": []}]
        return op

    def _link(self, link: Link) -> dict[str, Any]:
        target = self.operation_ids.get((link.method, link.pattern))
        if target is None:
            raise ValueError(f"link {link.name} leads to no public {link.method} {link.pattern}")
        return {"operationId": target, "parameters": dict(link.parameters)}

    def _responses(self, route: Route) -> dict[str, Any]:
        success: dict[str, Any] = {"description": HTTPStatus(route.status).phrase}
        if route.response_model is not None and route.status != 204:
            schema = self.ref(route.response_model, "serialization")
            success["content"] = {"application/json": {"schema": schema}}
        elif route.stream_type is not None:
            success["content"] = {route.stream_type: {"schema": {"type": "string"}}}
        if route.links:
            success["links"] = {link.name: self._link(link) for link in route.links}
        responses = {str(route.status): success}
        for status in _error_statuses(route):
            responses[str(status)] = _problem_response(status)
        return responses


def build_openapi(
    routers: Iterable[Router],
    *,
    title: str,
    version: str,
    server_url: str | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document for every public route of ``routers``."""
    routes = [route for router in routers for route in router.public_routes()]
    seen_ids: set[str] = set()
    for route in routes:
        if route.operation_id in seen_ids:
            raise ValueError(f"duplicate operationId {route.operation_id}")
        seen_ids.add(route.operation_id)
    builder = _Builder(routes)
    paths: dict[str, dict[str, Any]] = {}
    for route in sorted(routes, key=lambda r: (r.pattern, r.method)):
        item = paths.setdefault(route.pattern, {})
        if route.method.lower() in item:
            raise ValueError(f"{route.method} {route.pattern} is routed by two functions")
        item[route.method.lower()] = builder.operation(route)
    info: dict[str, Any] = {"title": title, "version": version}
    if description:
        info["description"] = description
    doc: dict[str, Any] = {"openapi": "3.1.0", "info": info}
    if server_url:
        doc["servers"] = [{"url": server_url}]
    doc["paths"] = paths
    doc["components"] = {
        "schemas": dict(sorted(builder.schemas.items())),
        "securitySchemes": SECURITY_SCHEMES,
    }
    return doc
