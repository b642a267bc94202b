"""The one problem+json assertion, for every tier: Flask test responses and HTTP responses."""

from __future__ import annotations

import json
from typing import Any

PROBLEM_CONTENT_TYPE = "application/problem+json"


def assert_problem(resp: Any, status: int, code: str) -> dict[str, Any]:
    """An RFC 9457 problem with our members, never a stack trace or an HTML page."""
    text = resp.get_data(as_text=True) if hasattr(resp, "get_data") else resp.text
    assert resp.status_code == status, text
    assert resp.headers["Content-Type"].split(";")[0].strip() == PROBLEM_CONTENT_TYPE
    body: dict[str, Any] = json.loads(text)
    assert (body["status"], body["code"]) == (status, code), body
    assert body["title"] and body["detail"] and body["type"]
    assert body["request_id"] == resp.headers["X-Request-ID"]
    assert "Traceback" not in text
    return body
