"""Routing, ids, tracing, CORS and security headers of genmedia.http."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest

from genmedia.errors import Unauthenticated
from genmedia.http import ApiModel, Request, Response, Router
from genmedia.http.router import compile_pattern
from genmedia.http.tracing import parse_cloud_trace_context, parse_traceparent
from genmedia.idempotency import IdempotencyGuard
from genmedia.principal import Principal
from tests.fakes.clock import FakeClock
from tests.fakes.store import InMemoryDatabase
from tests.unit._helpers import ALLOWED_ORIGIN, body_of, call, make_settings


def build_router() -> Router:
    router = Router("assets", settings=make_settings())

    @router.route("GET", "/v1/assets/{id}")
    def get_asset(req: Request) -> Mapping[str, Any]:
        return {"op": "get", "id": req.path_params["id"]}

    @router.route("DELETE", "/v1/assets/{id}")
    def delete_asset(req: Request) -> Mapping[str, Any]:
        return {"op": "delete", "id": req.path_params["id"]}

    @router.route("POST", "/v1/assets/{id}:undelete")
    def undelete_asset(req: Request) -> Mapping[str, Any]:
        return {"op": "undelete", "id": req.path_params["id"]}

    @router.route("GET", "/v1/assets/search")
    def search(req: Request) -> Mapping[str, Any]:
        return {"op": "search"}

    @router.route("POST", "/v1/images:generate", status=202)
    def generate(req: Request) -> Mapping[str, Any]:
        return {"op": "generate", "trace": req.trace and req.trace.trace_id}

    @router.route("POST", "/v1/things/{a}/parts/{b}")
    def part(req: Request) -> Response:
        return Response(None, status=204, headers={"Location": "/x"})

    @router.route("GET", "/v1/cached", auth=False)
    def cached(req: Request) -> Response:
        return Response({"ok": True}, headers={"Cache-Control": "public, max-age=60"})

    return router


ROUTER = build_router()


def test_colon_verbs_and_params_do_not_shadow() -> None:
    assert body_of(call(ROUTER, "GET", "/v1/assets/abc")) == {"op": "get", "id": "abc"}
    resp = call(ROUTER, "POST", "/v1/assets/abc:undelete")
    assert body_of(resp) == {"op": "undelete", "id": "abc"}
    assert body_of(call(ROUTER, "DELETE", "/v1/assets/a_b-9")) == {"op": "delete", "id": "a_b-9"}


def test_literal_segment_beats_parameter() -> None:
    assert body_of(call(ROUTER, "GET", "/v1/assets/search")) == {"op": "search"}


def test_mapping_result_uses_route_status() -> None:
    resp = call(ROUTER, "POST", "/v1/images:generate")
    assert resp.status_code == 202 and resp.mimetype == "application/json"


def test_multiple_params_and_204_without_body() -> None:
    resp = call(ROUTER, "POST", "/v1/things/t1/parts/p2")
    assert resp.status_code == 204
    assert resp.get_data() == b""
    assert "Content-Type" not in resp.headers
    assert resp.headers["Location"] == "/x"


@pytest.mark.parametrize(
    "path",
    [
        "/v1/assets/abc:cancel",  # unknown colon verb must not reach GET {id}
        "/v1/assets/a:b",
        "/v1/assets/a/b",
        "/v1/assets/",
        "/v1/assets/abc/",
        "/v1/assets/" + "a" * 129,
        "/v1/assets/a.b",
        "/v1/assets/a%20b",
        "/v1/assets/%2e%2e",
        "/v1/nothing",
        "/",
    ],
)
def test_unknown_or_invalid_paths_are_404(path: str) -> None:
    resp = call(ROUTER, "GET", path)
    assert resp.status_code == 404
    problem = body_of(resp)
    assert problem["code"] == "NOT_FOUND"
    assert resp.mimetype == "application/problem+json"


def test_param_of_128_chars_is_accepted() -> None:
    assert call(ROUTER, "GET", "/v1/assets/" + "a" * 128).status_code == 200


def test_wrong_method_is_405_with_allow() -> None:
    resp = call(ROUTER, "PUT", "/v1/assets/abc")
    assert resp.status_code == 405
    assert resp.headers["Allow"] == "GET, DELETE, HEAD, OPTIONS"
    assert body_of(resp)["code"] == "METHOD_NOT_ALLOWED"
    resp = call(ROUTER, "GET", "/v1/assets/abc:undelete")
    assert resp.status_code == 405 and resp.headers["Allow"] == "POST, OPTIONS"


def test_head_is_answered_like_get_without_body() -> None:
    resp = call(ROUTER, "HEAD", "/v1/assets/abc")
    assert resp.status_code == 200


def test_healthz_is_built_in_and_overridable() -> None:
    resp = call(ROUTER, "GET", "/healthz")
    assert resp.status_code == 200
    assert body_of(resp) == {"status": "ok", "function": ROUTER.function_name}
    assert call(ROUTER, "POST", "/healthz").headers["Allow"] == "GET, HEAD, OPTIONS"
    router = Router("x", settings=make_settings())

    @router.route("GET", "/healthz", public=False, auth=False)
    def health(req: Request) -> Mapping[str, Any]:
        return {"status": "custom"}

    assert body_of(call(router, "GET", "/healthz")) == {"status": "custom"}


def test_plain_options_lists_allowed_methods() -> None:
    resp = call(ROUTER, "OPTIONS", "/v1/assets/abc")
    assert resp.status_code == 204
    assert resp.headers["Allow"] == "GET, DELETE, HEAD, OPTIONS"


def test_route_registration_rejects_mistakes() -> None:
    router = Router("x", settings=make_settings())
    with pytest.raises(ValueError):
        router.route("TRACE", "/v1/x")
    with pytest.raises(ValueError):
        router.route("GET", "v1/x")
    with pytest.raises(ValueError):
        router.route("GET", "/v1/{a}/{a}")
    with pytest.raises(ValueError):
        router.route("GET", "/v1/{bad")
    router.route("GET", "/v1/x")(lambda req: {})
    with pytest.raises(ValueError):
        router.route("GET", "/v1/x")


def test_compiled_pattern_never_spans_colon_or_slash() -> None:
    regex, names = compile_pattern("/v1/jobs/{id}:cancel")
    assert names == ("id",)
    assert regex.fullmatch("/v1/jobs/j1:cancel")
    assert not regex.fullmatch("/v1/jobs/a:b:cancel")
    assert not regex.fullmatch("/v1/jobs/a/b:cancel")


# --- request id and trace -------------------------------------------------------------------


def test_safe_request_id_is_echoed() -> None:
    resp = call(ROUTER, "GET", "/v1/assets/abc", headers={"X-Request-ID": "req-1.2_3"})
    assert resp.headers["X-Request-ID"] == "req-1.2_3"


@pytest.mark.parametrize("bad", ["has space", "a" * 129, "x<script>", "é", ""])
def test_unsafe_request_id_is_replaced(bad: str) -> None:
    resp = call(ROUTER, "GET", "/v1/nowhere", headers={"X-Request-ID": bad})
    rid = resp.headers["X-Request-ID"]
    assert rid != bad and len(rid) == 32
    assert body_of(resp)["request_id"] == rid


def test_fresh_request_ids_differ() -> None:
    a = call(ROUTER, "GET", "/v1/assets/a").headers["X-Request-ID"]
    b = call(ROUTER, "GET", "/v1/assets/a").headers["X-Request-ID"]
    assert a != b


TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def test_traceparent_parsing() -> None:
    t = parse_traceparent(f"00-{TRACE}-00f067aa0ba902b7-01")
    assert t is not None and (t.trace_id, t.span_id, t.sampled) == (TRACE, "00f067aa0ba902b7", True)
    t = parse_traceparent(f"00-{TRACE}-00f067aa0ba902b7-00")
    assert t is not None and not t.sampled
    future = parse_traceparent(f"01-{TRACE}-00f067aa0ba902b7-01-extra")
    assert future is not None and future.trace_id == TRACE


@pytest.mark.parametrize(
    "value",
    [
        f"00-{'0' * 32}-00f067aa0ba902b7-01",
        f"00-{TRACE}-{'0' * 16}-01",
        f"ff-{TRACE}-00f067aa0ba902b7-01",
        f"00-{TRACE.upper()}-00f067aa0ba902b7-01",
        f"00-{TRACE[:-1]}-00f067aa0ba902b7-01",
        f"00-{TRACE}-00f067aa0ba902b7-01-extra",
        f"00-{TRACE}-00f067aa0ba902bz-01",
        "garbage",
    ],
)
def test_invalid_traceparent_is_ignored(value: str) -> None:
    assert parse_traceparent(value) is None


def test_cloud_trace_context_parsing() -> None:
    t = parse_cloud_trace_context(f"{TRACE.upper()}/12345;o=1")
    assert t is not None
    assert (t.trace_id, t.span_id, t.sampled) == (TRACE, f"{12345:016x}", True)
    t = parse_cloud_trace_context(TRACE)
    assert t is not None and t.span_id is None and not t.sampled
    assert parse_cloud_trace_context(f"{TRACE}/{2**64}") is None
    assert parse_cloud_trace_context(f"{'0' * 32}/1;o=1") is None
    assert parse_cloud_trace_context("nope/1") is None


def test_traceparent_wins_and_cloud_trace_is_fallback() -> None:
    other = "a" * 32
    both = {
        "traceparent": f"00-{TRACE}-00f067aa0ba902b7-01",
        "X-Cloud-Trace-Context": f"{other}/1;o=1",
    }
    assert body_of(call(ROUTER, "POST", "/v1/images:generate", headers=both))["trace"] == TRACE
    fallback = {"traceparent": "bad", "X-Cloud-Trace-Context": f"{other}/1;o=1"}
    assert body_of(call(ROUTER, "POST", "/v1/images:generate", headers=fallback))["trace"] == other


# --- security headers and CORS --------------------------------------------------------------

SECURITY = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/assets/a"), ("GET", "/nope"), ("PUT", "/v1/assets/a"), ("OPTIONS", "/healthz")],
)
def test_security_headers_on_every_response(method: str, path: str) -> None:
    resp = call(ROUTER, method, path)
    for name, value in SECURITY.items():
        assert resp.headers[name] == value
    assert resp.headers["Cache-Control"] == "no-store"
    assert "X-Request-ID" in resp.headers


def test_handler_cache_control_is_kept() -> None:
    assert call(ROUTER, "GET", "/v1/cached").headers["Cache-Control"] == "public, max-age=60"


def test_allowed_origin_gets_cors_headers_on_success_and_error() -> None:
    for path in ("/v1/assets/a", "/v1/missing"):
        resp = call(ROUTER, "GET", path, headers={"Origin": ALLOWED_ORIGIN})
        assert resp.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
        assert "Origin" in resp.headers["Vary"]
        exposed = {h.strip() for h in resp.headers["Access-Control-Expose-Headers"].split(",")}
        assert exposed == {
            "X-Request-ID", "RateLimit", "RateLimit-Policy", "Retry-After",
            "Idempotent-Replayed", "Location",
        }  # fmt: skip
        assert "Access-Control-Allow-Credentials" not in resp.headers


@pytest.mark.parametrize(
    "origin", ["https://evil.example.com", "https://app.example.com.evil.com", "null"]
)
def test_disallowed_origin_gets_no_cors_headers(origin: str) -> None:
    resp = call(ROUTER, "GET", "/v1/assets/a", headers={"Origin": origin})
    assert resp.status_code == 200
    assert not any(h.startswith("Access-Control-") for h, _ in resp.headers.items())


def test_preflight_from_allowed_origin() -> None:
    headers = {
        "Origin": ALLOWED_ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    resp = call(ROUTER, "OPTIONS", "/v1/assets/abc:undelete", headers=headers)
    assert resp.status_code == 204 and resp.get_data() == b""
    assert resp.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert resp.headers["Access-Control-Allow-Methods"] == "POST, OPTIONS"
    allowed = {h.strip().lower() for h in resp.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key", "x-request-id"} <= allowed
    assert "traceparent" in allowed
    assert resp.headers["Access-Control-Max-Age"] == "600"
    assert "Origin" in resp.headers["Vary"]


def test_preflight_from_disallowed_origin_is_403_without_cors() -> None:
    headers = {"Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST"}
    resp = call(ROUTER, "OPTIONS", "/v1/images:generate", headers=headers)
    assert resp.status_code == 403
    assert body_of(resp)["code"] == "PERMISSION_DENIED"
    assert not any(h.startswith("Access-Control-") for h, _ in resp.headers.items())


def test_preflight_for_unknown_path_is_404() -> None:
    headers = {"Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "GET"}
    assert call(ROUTER, "OPTIONS", "/v1/unknown", headers=headers).status_code == 404


# --- authenticator --------------------------------------------------------------------------


def test_authenticator_runs_only_for_auth_routes() -> None:
    seen: list[str] = []

    def authenticate(req: Request, *, fresh: bool) -> object:
        seen.append(req.path)
        if req.header("Authorization") != "Bearer good":
            raise Unauthenticated("Missing or invalid ID token")
        return {"uid": "u1"}

    router = Router("x", settings=make_settings(), authenticator=authenticate)

    @router.route("GET", "/v1/me")
    def me(req: Request) -> Mapping[str, Any]:
        return {"principal": req.principal}

    @router.route("GET", "/v1/open", auth=False)
    def open_route(req: Request) -> Mapping[str, Any]:
        return {"principal": req.principal}

    denied = call(router, "GET", "/v1/me")
    assert denied.status_code == 401
    assert denied.headers["WWW-Authenticate"].startswith("Bearer")
    ok = call(router, "GET", "/v1/me", headers={"Authorization": "Bearer good"})
    assert body_of(ok) == {"principal": {"uid": "u1"}}
    assert body_of(call(router, "GET", "/v1/open")) == {"principal": None}
    assert seen == ["/v1/me", "/v1/me"]


# --- declared roles and idempotency ---------------------------------------------------------


class Thing(ApiModel):
    name: str
    size: int = 1


def guarded_router() -> tuple[Router, list[str], Any]:
    db, clock, calls = InMemoryDatabase(), FakeClock(), []

    def authenticate(req: Request, *, fresh: bool) -> Principal:
        role = req.header("X-Role") or "user"
        if req.header("X-Revoked") and fresh:
            raise Unauthenticated("The ID token has been revoked")
        return Principal("u1", role)  # type: ignore[arg-type]

    guard = IdempotencyGuard(db.idempotency, clock, timedelta(hours=1))
    router = Router(
        "things", settings=make_settings(), authenticator=authenticate, idempotency=lambda: guard
    )

    @router.route("POST", "/v1/things", request_model=Thing, roles=("user",), idempotent=True)
    def create(req: Request) -> Response:
        calls.append(req.json(Thing).name)
        body = {"n": len(calls), "name": req.json(Thing).name}
        return Response(body, status=201, headers={"RateLimit": "r=1", "Location": "/v1/t/1"})

    return router, calls, db


def test_a_role_outside_the_route_is_refused_before_anything_runs() -> None:
    router, calls, db = guarded_router()
    resp = call(
        router, "POST", "/v1/things", json_body={"name": "a"},
        headers={"X-Role": "viewer", "Idempotency-Key": "k"},
    )  # fmt: skip
    assert resp.status_code == 403 and calls == [] and db.state.idempotency == {}


def test_an_idempotent_route_replays_the_exact_first_response() -> None:
    router, calls, _ = guarded_router()
    send = {"json_body": {"name": "a"}, "headers": {"Idempotency-Key": "k"}}
    first = call(router, "POST", "/v1/things", **send)  # type: ignore[arg-type]
    # The same request with a default written out is the same request.
    again = call(
        router, "POST", "/v1/things", json_body={"name": "a", "size": 1},
        headers={"Idempotency-Key": "k"},
    )  # fmt: skip
    assert calls == ["a"]
    assert first.status_code == again.status_code == 201
    assert again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Location"] == "/v1/t/1" and "RateLimit" not in again.headers
    other = call(
        router, "POST", "/v1/things", json_body={"name": "b"}, headers={"Idempotency-Key": "k"}
    )
    assert other.status_code == 422 and body_of(other)["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_a_replay_needs_no_fresh_revocation_check_but_a_run_does() -> None:
    router, calls, db = guarded_router()
    send = {"json_body": {"name": "a"}, "headers": {"Idempotency-Key": "k"}}
    first = call(router, "POST", "/v1/things", **send)  # type: ignore[arg-type]
    # Revoked since: the replay returns what the caller already had and spends nothing...
    revoked = {"Idempotency-Key": "k", "X-Revoked": "1"}
    again = call(router, "POST", "/v1/things", json_body={"name": "a"}, headers=revoked)
    assert again.status_code == 201 and again.get_data() == first.get_data()
    # ...but a new key would run the handler: refused, and the key is not kept.
    new = {"Idempotency-Key": "k2", "X-Revoked": "1"}
    refused = call(router, "POST", "/v1/things", json_body={"name": "a"}, headers=new)
    assert refused.status_code == 401 and calls == ["a"] and len(db.state.idempotency) == 1
    unkeyed = call(
        router, "POST", "/v1/things", json_body={"name": "a"}, headers={"X-Revoked": "1"}
    )
    assert unkeyed.status_code == 401 and calls == ["a"]


def test_only_read_only_routes_authenticate_with_a_cached_revocation_state() -> None:
    fresh_by_path: dict[str, bool] = {}

    def authenticate(req: Request, *, fresh: bool) -> object:
        fresh_by_path[f"{req.method} {req.path}"] = fresh
        return {"uid": "u1"}

    router = Router("x", settings=make_settings(), authenticator=authenticate)
    for method, path, read_only in [
        ("GET", "/v1/a", None), ("POST", "/v1/b", None), ("POST", "/v1/c", True),
        ("DELETE", "/v1/d", None), ("GET", "/v1/e", False),
    ]:  # fmt: skip
        router.route(method, path, read_only=read_only)(lambda _: {})
    for method, path in [("GET", "/v1/a"), ("POST", "/v1/b"), ("POST", "/v1/c"),
                         ("DELETE", "/v1/d"), ("GET", "/v1/e"), ("HEAD", "/v1/a")]:  # fmt: skip
        assert call(router, method, path).status_code == 200
    assert fresh_by_path == {
        "GET /v1/a": False, "POST /v1/b": True, "POST /v1/c": False,
        "DELETE /v1/d": True, "GET /v1/e": True, "HEAD /v1/a": False,
    }  # fmt: skip


def test_without_a_key_an_idempotent_route_runs_every_time() -> None:
    router, calls, db = guarded_router()
    for _ in range(2):
        assert call(router, "POST", "/v1/things", json_body={"name": "a"}).status_code == 201
    assert calls == ["a", "a"] and db.state.idempotency == {}


def test_an_idempotent_route_needs_a_model_and_a_guard() -> None:
    with pytest.raises(ValueError, match="idempotent"):
        Router("x", settings=make_settings()).route("POST", "/v1/x", idempotent=True)
