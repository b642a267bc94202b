"""Every failure becomes RFC 9457 problem+json; nothing internal leaks into a response."""

from __future__ import annotations

import importlib
import json
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import requests
from google.api_core import exceptions as api_exceptions
from werkzeug import exceptions as wz

from genmedia import config
from genmedia.errors import FieldError, InvalidArgument, QuotaExceeded, RateLimited
from genmedia.http import ApiModel, Request, Response, Router
from tests.unit._helpers import ALLOWED_ORIGIN, body_of, call, make_settings

SECRET = "sk-very-secret-internal-detail"


class Strict(ApiModel):
    n: int


def build_router() -> Router:
    router = Router("errs", settings=make_settings())

    @router.route("POST", "/v1/quota")
    def quota(req: Request) -> Mapping[str, Any]:
        req.response_headers["RateLimit"] = '"gen";r=0;t=30'
        req.response_headers["RateLimit-Policy"] = '"gen";q=10;w=60'
        raise QuotaExceeded(
            "Daily image quota used up",
            headers={"Retry-After": "30"},
            extra={"reset_time": "2026-01-01T00:00:00Z", "status": 200, "code": "HIJACK"},
        )

    @router.route("POST", "/v1/fields")
    def fields(req: Request) -> Mapping[str, Any]:
        raise InvalidArgument(errors=[FieldError("a.b", "bad")])

    @router.route("GET", "/v1/crash")
    def crash(req: Request) -> Mapping[str, Any]:
        raise RuntimeError(f"database password is {SECRET}")

    @router.route("GET", "/v1/model-bug")
    def model_bug(req: Request) -> Mapping[str, Any]:
        Strict.model_validate({"n": "not a number"})
        return {}

    @router.route("GET", "/v1/werkzeug/<code>")
    def never(req: Request) -> Mapping[str, Any]:
        return {}

    @router.route("GET", "/v1/wz/{kind}")
    def wz_error(req: Request) -> Mapping[str, Any]:
        errors = {
            "bad": wz.BadRequest(),
            "large": wz.RequestEntityTooLarge(),
            "timeout": wz.RequestTimeout(),
            "gone": wz.Gone(),
            "method": wz.MethodNotAllowed(valid_methods=["GET"]),
            "unavailable": wz.ServiceUnavailable(),
        }
        raise errors[req.path_params["kind"]]

    @router.route("GET", "/v1/unserializable")
    def unserializable(req: Request) -> Mapping[str, Any]:
        return {"x": object()}

    @router.route("GET", "/v1/bad-header")
    def bad_header(req: Request) -> Response:
        return Response({"ok": True}, headers={"X-Evil": "a\r\nSet-Cookie: x=1"})

    return router


ROUTER = build_router()
PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "request_id"}


def test_problem_shape_and_headers_merged_on_error() -> None:
    resp = call(ROUTER, "POST", "/v1/quota", headers={"X-Request-ID": "rid-1"})
    assert resp.status_code == 429
    assert resp.mimetype == "application/problem+json"
    problem = body_of(resp)
    assert set(problem) >= PROBLEM_KEYS
    assert problem["type"] == "https://genmedia.dev/problems/quota-exceeded"
    assert problem["title"] == "Quota exceeded"
    assert problem["status"] == 429 and problem["code"] == "QUOTA_EXCEEDED"
    assert problem["detail"] == "Daily image quota used up"
    assert problem["request_id"] == "rid-1" == resp.headers["X-Request-ID"]
    assert problem["reset_time"] == "2026-01-01T00:00:00Z"
    assert "errors" not in problem
    assert resp.headers["Retry-After"] == "30"
    assert resp.headers["RateLimit"] == '"gen";r=0;t=30'
    assert resp.headers["RateLimit-Policy"] == '"gen";q=10;w=60'
    assert resp.headers["Cache-Control"] == "no-store"


def test_field_errors_are_listed() -> None:
    problem = body_of(call(ROUTER, "POST", "/v1/fields"))
    assert problem["errors"] == [{"field": "a.b", "message": "bad"}]


def test_unexpected_exception_is_generic_500(caplog: pytest.LogCaptureFixture) -> None:
    resp = call(ROUTER, "GET", "/v1/crash", headers={"X-Request-ID": "crash-1"})
    assert resp.status_code == 500
    text = resp.get_data(as_text=True)
    assert SECRET not in text and "RuntimeError" not in text and "Traceback" not in text
    problem = json.loads(text)
    assert problem["code"] == "INTERNAL" and problem["request_id"] == "crash-1"
    logged = [r for r in caplog.records if r.levelname == "ERROR" and r.exc_info]
    assert logged and isinstance(logged[0].exc_info[1], RuntimeError)  # type: ignore[index]


@pytest.mark.parametrize(
    "failure",
    [
        # What google-api-core raises once its retry deadline passes with Firestore down.
        lambda: api_exceptions.RetryError(
            "Timeout of 60.0s exceeded", api_exceptions.ServiceUnavailable("connect failed")
        ),
        lambda: api_exceptions.ServiceUnavailable("failed to connect to all addresses"),
        lambda: api_exceptions.DeadlineExceeded("Deadline Exceeded"),
        lambda: requests.ConnectionError("storage emulator refused the connection"),
    ],
    ids=["retry-error", "service-unavailable", "deadline-exceeded", "connection-error"],
)
def test_an_unreachable_dependency_is_a_503_to_retry_not_a_500(
    failure: Callable[[], Exception], caplog: pytest.LogCaptureFixture
) -> None:
    router = Router("dep", settings=make_settings())

    @router.route("GET", "/v1/usage")
    def usage(req: Request) -> Mapping[str, Any]:
        raise failure()

    resp = call(router, "GET", "/v1/usage")
    problem = body_of(resp)
    assert resp.status_code == 503 and problem["code"] == "UNAVAILABLE"
    assert int(resp.headers["Retry-After"]) >= 1
    assert "connect" not in json.dumps(problem)  # the cause stays in the log
    assert [r for r in caplog.records if r.levelname == "ERROR" and r.exc_info]


def test_validation_error_escaping_handler_is_422() -> None:
    problem = body_of(call(ROUTER, "GET", "/v1/model-bug"))
    assert problem["status"] == 422 and problem["code"] == "INVALID_ARGUMENT"
    assert problem["errors"][0]["field"] == "n"


def test_flask_style_pattern_is_literal_not_a_parameter() -> None:
    assert call(ROUTER, "GET", "/v1/werkzeug/x").status_code == 404


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("bad", 400, "INVALID_ARGUMENT"),
        ("large", 413, "PAYLOAD_TOO_LARGE"),
        ("timeout", 408, "REQUEST_TIMEOUT"),
        ("gone", 410, "GONE"),
        ("method", 405, "METHOD_NOT_ALLOWED"),
        ("unavailable", 503, "UNAVAILABLE"),
    ],
)
def test_werkzeug_errors_become_problem_json(kind: str, status: int, code: str) -> None:
    resp = call(ROUTER, "GET", f"/v1/wz/{kind}")
    assert resp.status_code == status
    assert resp.mimetype == "application/problem+json"
    text = resp.get_data(as_text=True)
    assert "<html" not in text.lower() and "<!doctype" not in text.lower()
    assert json.loads(text)["code"] == code
    if kind == "method":
        assert resp.headers["Allow"] == "GET"


def test_unserializable_result_is_500_problem() -> None:
    resp = call(ROUTER, "GET", "/v1/unserializable")
    assert resp.status_code == 500 and body_of(resp)["code"] == "INTERNAL"


def test_header_injection_is_dropped() -> None:
    resp = call(ROUTER, "GET", "/v1/bad-header")
    assert resp.status_code == 200
    assert "X-Evil" not in resp.headers and "Set-Cookie" not in resp.headers


def test_cors_headers_on_error_responses() -> None:
    resp = call(ROUTER, "GET", "/v1/crash", headers={"Origin": ALLOWED_ORIGIN})
    assert resp.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN


def test_broken_configuration_is_a_500_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    monkeypatch.delenv("GCLOUD_PROJECT", raising=False)
    monkeypatch.delenv("GENMEDIA_MEDIA_BUCKET", raising=False)
    router = Router("nocfg", settings=config.from_environment)  # read at dispatch
    router.route("GET", "/v1/x")(lambda req: {})
    resp = call(router, "GET", "/v1/x")
    assert resp.status_code == 500 and body_of(resp)["code"] == "INTERNAL"
    assert "GENMEDIA_MEDIA_BUCKET" not in resp.get_data(as_text=True)


def test_rate_limited_from_service_keeps_its_retry_after() -> None:
    router = Router("rl", settings=make_settings())

    @router.route("POST", "/v1/go")
    def go(req: Request) -> Mapping[str, Any]:
        raise RateLimited("Slow down", retry_after=7)

    resp = call(router, "POST", "/v1/go")
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "7"


FUNCTION_SOURCE = """
import flask
import functions_framework

from genmedia.http import Request, Response, Router
from tests.unit._helpers import make_settings

router = Router("wsgi", settings=make_settings(GENMEDIA_MAX_BODY_BYTES="64"))


@router.route("GET", "/v1/assets/{id}")
def get_asset(req: Request) -> dict:
    return {"id": req.path_params["id"]}


@router.route("POST", "/v1/echo")
def echo(req: Request) -> dict:
    return {"size": len(req.body_bytes())}


@functions_framework.http
def entry(request: flask.Request) -> flask.Response:
    return router.dispatch(request)
"""


def test_through_functions_framework(tmp_path: Path) -> None:
    functions_framework = importlib.import_module("functions_framework")
    source = tmp_path / "main.py"
    source.write_text(textwrap.dedent(FUNCTION_SOURCE))
    client = functions_framework.create_app("entry", str(source)).test_client()
    resp = client.get("/v1/assets/abc")
    assert resp.status_code == 200 and resp.get_json() == {"id": "abc"}
    head = client.head("/v1/assets/abc")
    assert head.status_code == 200 and head.get_data() == b""
    missing = client.get("/v1/assets/abc:nope")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    big = client.post("/v1/echo", data=b"x" * 65)
    assert big.status_code == 413
    assert client.post("/v1/echo", data=b"x" * 64).get_json() == {"size": 64}
