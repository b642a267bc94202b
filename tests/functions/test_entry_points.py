"""Every deployed function answers through its functions-framework entry point."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.local.routes import load_routes

FUNCTIONS = sorted(n for n, f in load_routes().functions.items() if f["kind"] == "http")
# A path each function serves, with a method it does not allow there and the Allow it answers.
WRONG_METHOD = {
    "health": ("POST", "/v1/healthz", "GET, HEAD, OPTIONS"),
    "generate_image": ("GET", "/v1/images:generate", "POST, OPTIONS"),
    "issue_signed_url": ("GET", "/v1/assets/some-id:signUrl", "POST, OPTIONS"),
    "library": ("PUT", "/v1/assets/some-id", "GET, DELETE, HEAD, OPTIONS"),
    "admin": ("PUT", "/v1/admin/users/some-uid", "GET, PATCH, DELETE, HEAD, OPTIONS"),
    "generate_video": ("GET", "/v1/videos:generate", "POST, OPTIONS"),
    "jobs": ("PUT", "/v1/jobs/some-id", "GET, HEAD, OPTIONS"),
    "webhooks": ("PUT", "/v1/webhooks", "GET, POST, HEAD, OPTIONS"),
    "video_worker": ("GET", "/tasks/video", "POST, OPTIONS"),
    "deliver_webhook": ("GET", "/tasks/webhook", "POST, OPTIONS"),
    "account": ("GET", "/v1/me", "DELETE, OPTIONS"),
    "export_worker": ("GET", "/tasks/export", "POST, OPTIONS"),
    "erasure_worker": ("GET", "/tasks/erasure", "POST, OPTIONS"),
}


def test_every_public_function_has_a_wrong_method_case() -> None:
    assert sorted(WRONG_METHOD) == FUNCTIONS


@pytest.mark.parametrize("target", FUNCTIONS)
def test_healthz_answers_ok(functions: Any, target: str) -> None:
    response = functions.client(target).get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.get_data()) == {"status": "ok", "function": target}
    assert response.headers["X-Request-ID"]


@pytest.mark.parametrize("target", FUNCTIONS)
def test_unknown_path_is_a_problem_404(functions: Any, problem: Any, target: str) -> None:
    response = functions.client(target).get("/v1/no-such-thing")
    body = problem(response, 404, "NOT_FOUND")
    assert body["request_id"] == response.headers["X-Request-ID"]


@pytest.mark.parametrize("target", FUNCTIONS)
@pytest.mark.parametrize("path", ["/v1/assets/a%0Ab:undelete", "/favicon.ico"])
def test_paths_the_framework_refuses_are_problem_404s(
    functions: Any, problem: Any, target: str, path: str
) -> None:
    """functions-framework's own routing matches no path holding a newline and serves
    /favicon.ico itself; both were werkzeug's HTML 404 page (found by the fuzz pass)."""
    response = functions.client(target).post(path, headers={"X-Request-ID": "fuzz-13"})
    body = problem(response, 404, "NOT_FOUND")
    assert body["request_id"] == "fuzz-13"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("target", FUNCTIONS)
def test_wrong_method_is_405_with_allow(functions: Any, problem: Any, target: str) -> None:
    method, path, allow = WRONG_METHOD[target]
    response = functions.client(target).open(path, method=method)
    problem(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["Allow"] == allow
