"""Shared helpers for unit tests: settings from a small environment, requests to a router."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import flask

from genmedia.config import Settings, load_settings
from genmedia.http import Router

BASE_ENV: dict[str, str] = {
    "GOOGLE_CLOUD_PROJECT": "demo-genmedia",
    "GENMEDIA_MEDIA_BUCKET": "demo-genmedia-media",
    "GENMEDIA_PAGE_TOKEN_KEY": "unit-test-page-token-key-0123456789",
}
ALLOWED_ORIGIN = "https://app.example.com"

_app = flask.Flask(__name__)


def make_settings(**env: str) -> Settings:
    return load_settings({**BASE_ENV, "GENMEDIA_CORS_ORIGINS": ALLOWED_ORIGIN, **env})


def call(
    router: Router,
    method: str,
    path: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    json_body: Any = None,
    content_type: str | None = None,
    query_string: str | None = None,
    chunked: bool = False,
) -> flask.Response:
    """Run ``router.dispatch`` on a request built like the WSGI server would build it."""
    data = json.dumps(json_body).encode() if json_body is not None else body
    if json_body is not None and content_type is None:
        content_type = "application/json"
    kwargs: dict[str, Any] = {"method": method, "headers": dict(headers or {})}
    if query_string is not None:
        kwargs["query_string"] = query_string
    if content_type is not None:
        kwargs["content_type"] = content_type
    if chunked:
        # No Content-Length; a server that de-chunks (gunicorn) marks the stream terminated.
        kwargs["input_stream"] = io.BytesIO(data or b"")
        kwargs["headers"]["Transfer-Encoding"] = "chunked"
        kwargs["environ_overrides"] = {"wsgi.input_terminated": True}
    elif data is not None:
        kwargs["data"] = data
    with _app.test_request_context(path, **kwargs):
        return router.dispatch(flask.request)


def body_of(response: flask.Response) -> Any:
    return json.loads(response.get_data())


def modules_after(code: str, env: Mapping[str, str], cwd: Path | None = None) -> list[str]:
    """``sys.modules`` after ``code`` runs in a fresh interpreter with ``env``."""
    script = f"import json, sys; {code}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    loaded: list[str] = json.loads(out)
    return loaded
