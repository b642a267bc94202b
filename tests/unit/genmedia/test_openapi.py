"""The OpenAPI 3.1 document: structure, coverage of public routes, resolvable references."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from genmedia.http import ApiModel, Request, Router, link
from genmedia.openapi import build_openapi
from tests.unit._helpers import make_settings


class Size(ApiModel):
    width: int
    height: int


class GenerateRequest(ApiModel):
    prompt: str
    count: int = 1
    size: Size | None = None


class Asset(ApiModel):
    id: str
    size: Size


class GenerateResponse(ApiModel):
    assets: list[Asset]


class ListQuery(ApiModel):
    page_size: int = 0
    page_token: str = ""
    show_deleted: bool = False


class AssetList(ApiModel):
    assets: list[Asset]
    next_page_token: str


def handler(req: Request) -> Mapping[str, Any]:
    return {}


def build_routers() -> list[Router]:
    images = Router("images", settings=make_settings())
    images.route(
        "POST",
        "/v1/images:generate",
        request_model=GenerateRequest,
        response_model=GenerateResponse,
        summary="Generate images",
        errors=[429, 503],
        links=[link("GetAsset", "GET", "/v1/assets/{id}", id="$response.body#/assets/0/id")],
    )(generate_images)
    images.route("GET", "/v1/internal/stats", public=False)(handler)
    assets = Router("assets", settings=make_settings())
    assets.route("GET", "/v1/assets", query_model=ListQuery, response_model=AssetList)(list_assets)
    assets.route("GET", "/v1/assets/{id}", response_model=Asset, summary="Get")(get_asset)
    assets.route("POST", "/v1/assets/{id}:undelete", response_model=Asset)(undelete_asset)
    assets.route("GET", "/v1/status", auth=False, response_model=None)(status)
    assets.route("GET", "/v1/assets/{id}:watch", stream_type="text/event-stream")(watch_asset)
    assets.route("DELETE", "/v1/assets/{id}", roles=("admin", "user"), status=204)(delete_asset)
    return [images, assets]


def generate_images(req: Request) -> Mapping[str, Any]:
    return {}


def list_assets(req: Request) -> Mapping[str, Any]:
    return {}


def get_asset(req: Request) -> Mapping[str, Any]:
    return {}


def undelete_asset(req: Request) -> Mapping[str, Any]:
    return {}


def delete_asset(req: Request) -> Mapping[str, Any]:
    return {}


def watch_asset(req: Request) -> Mapping[str, Any]:
    return {}


def status(req: Request) -> Mapping[str, Any]:
    return {}


ROUTERS = build_routers()
DOC = build_openapi(ROUTERS, title="GenMedia", version="1.0.0", server_url="https://api.example")
HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "trace"}


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, op in item.items():
            assert method in HTTP_METHODS
            yield path, method, op


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_top_level_structure() -> None:
    assert DOC["openapi"] == "3.1.0"
    assert DOC["info"] == {"title": "GenMedia", "version": "1.0.0"}
    assert DOC["servers"] == [{"url": "https://api.example"}]
    scheme = DOC["components"]["securitySchemes"]["firebase"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    assert scheme["bearerFormat"] == "JWT" and "Firebase ID token" in scheme["description"]
    json.dumps(DOC)  # serializable as-is


def test_exactly_the_public_routes_are_documented() -> None:
    routed = {(r.pattern, r.method.lower()) for router in ROUTERS for r in router.public_routes()}
    documented = {(path, method) for path, method, _ in operations(DOC)}
    assert documented == routed
    assert "/v1/internal/stats" not in DOC["paths"]
    assert "/healthz" not in DOC["paths"]
    assert len(routed) == 7


def test_operation_ids_and_security() -> None:
    ops = {(p, m): op for p, m, op in operations(DOC)}
    generate = ops[("/v1/images:generate", "post")]
    assert generate["operationId"] == "images.generate_images"
    assert generate["summary"] == "Generate images"
    assert generate["security"] == [{"firebase": []}]
    assert "security" not in ops[("/v1/status", "get")]
    ids = [op["operationId"] for _, _, op in operations(DOC)]
    assert len(ids) == len(set(ids))


def test_request_and_response_schemas_reference_components() -> None:
    op = DOC["paths"]["/v1/images:generate"]["post"]
    body = op["requestBody"]["content"]["application/json"]["schema"]
    assert resolve(DOC, body["$ref"])["properties"]["prompt"]["type"] == "string"
    ok = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert "assets" in resolve(DOC, ok["$ref"])["properties"]
    schemas = DOC["components"]["schemas"]
    assert {"Size", "Asset", "Problem"} <= set(schemas)
    assert schemas["GenerateRequest"].get("additionalProperties") is False


def test_error_responses_use_problem_json() -> None:
    responses = DOC["paths"]["/v1/images:generate"]["post"]["responses"]
    for status in ("400", "401", "413", "415", "422", "429", "500", "503"):
        content = responses[status]["content"]
        assert list(content) == ["application/problem+json"]
        assert resolve(DOC, content["application/problem+json"]["schema"]["$ref"])["title"] == (
            "Problem"
        )
    assert "Retry-After" in responses["429"]["headers"]
    get_responses = DOC["paths"]["/v1/assets/{id}"]["get"]["responses"]
    assert "404" in get_responses and "415" not in get_responses


def test_server_and_role_refusals_are_documented() -> None:
    """The fuzz pass met a 414 on a long query string, undocumented: every operation can get
    one. A route limited to some roles refuses the others with a 403."""
    for _, _, op in operations(DOC):
        assert "414" in op["responses"]
        assert list(op["responses"]["414"]["content"]) == ["application/problem+json"]
    assert "403" in DOC["paths"]["/v1/assets/{id}"]["delete"]["responses"]
    assert "403" not in DOC["paths"]["/v1/assets/{id}"]["get"]["responses"]


def test_links_lead_from_a_creation_to_what_it_created() -> None:
    ok = DOC["paths"]["/v1/images:generate"]["post"]["responses"]["200"]
    assert ok["links"] == {
        "GetAsset": {
            "operationId": "assets.get_asset",
            "parameters": {"id": "$response.body#/assets/0/id"},
        }
    }
    assert "links" not in DOC["paths"]["/v1/assets/{id}"]["get"]["responses"]["200"]


def test_a_streamed_success_documents_its_media_type() -> None:
    ok = DOC["paths"]["/v1/assets/{id}:watch"]["get"]["responses"]["200"]
    assert ok["content"] == {"text/event-stream": {"schema": {"type": "string"}}}
    assert "content" not in DOC["paths"]["/v1/status"]["get"]["responses"]["200"]


def test_a_link_to_no_public_operation_is_rejected() -> None:
    images = Router("images", settings=make_settings())
    images.route("POST", "/v1/x", links=[link("Gone", "GET", "/v1/x/{id}", id="$request.path.id")])(
        handler
    )
    with pytest.raises(ValueError, match="Gone"):
        build_openapi([images], title="t", version="1")


def test_path_and_query_parameters() -> None:
    params = DOC["paths"]["/v1/assets/{id}:undelete"]["post"]["parameters"]
    assert params == [
        {
            "name": "id",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,128}$"},
        }
    ]
    query = DOC["paths"]["/v1/assets"]["get"]["parameters"]
    by_name = {p["name"]: p for p in query}
    assert set(by_name) == {"page_size", "page_token", "show_deleted"}
    assert all(p["in"] == "query" and p["required"] is False for p in query)
    assert by_name["page_size"]["schema"]["type"] == "integer"
    assert by_name["show_deleted"]["schema"]["type"] == "boolean"


def test_every_ref_resolves() -> None:
    found = list(refs(DOC))
    assert found
    for ref in found:
        assert isinstance(resolve(DOC, ref), dict)


def test_path_templates_match_declared_parameters() -> None:
    for path, _, op in operations(DOC):
        declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        assert declared == {seg.split("}")[0] for seg in path.split("{")[1:]}


def test_duplicate_route_across_functions_is_rejected() -> None:
    a = Router("a", settings=make_settings())
    b = Router("b", settings=make_settings())
    a.route("GET", "/v1/x")(get_asset)
    b.route("GET", "/v1/x")(list_assets)
    with pytest.raises(ValueError):
        build_openapi([a, b], title="t", version="1")


def test_empty_document() -> None:
    doc = build_openapi([], title="t", version="1")
    assert doc["paths"] == {} and "Problem" in doc["components"]["schemas"]
