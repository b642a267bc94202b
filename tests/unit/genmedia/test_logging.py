"""Structured Cloud Logging lines on stdout: shape, correlation, redaction, access line."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from genmedia import logging as gm_logging
from genmedia.http import Request, Router
from genmedia.logging import LogContext, bound_context, configure_logging, get_logger, redact
from tests.unit._helpers import call, make_settings

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
JWT = (
    "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ"
    ".eyJzdWIiOiJ1c2VyLTEiLCJhdWQiOiJkZW1vIn0"
    ".c2lnbmF0dXJlLWJ5dGVzLWhlcmU"
)
SIGNED_URL = (
    "https://storage.googleapis.com/b/o.png?X-Goog-Algorithm=GOOG4-RSA-SHA256"
    "&X-Goog-Credential=sa%40p.iam.gserviceaccount.com%2F20260101%2Fauto"
    "&X-Goog-Date=20260101T000000Z&X-Goog-Expires=900&X-Goog-SignedHeaders=host"
    "&X-Goog-Signature=abcdef0123456789"
)


@pytest.fixture
def lines(capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    previous = logging.getLogger().level
    configure_logging("images", "demo-genmedia", "DEBUG")

    def read() -> list[dict[str, Any]]:
        out = capsys.readouterr().out
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    yield read
    logging.getLogger().setLevel(previous)


def test_every_line_is_json_with_core_fields(lines: Any) -> None:
    log = get_logger("genmedia.test")
    log.info("hello %s", "world")
    log.warning("careful", extra={"json_fields": {"asset_id": "a1", "count": 2}})
    records = lines()
    assert len(records) == 2
    first, second = records
    assert first["severity"] == "INFO" and first["message"] == "hello world"
    assert datetime.fromisoformat(first["time"].replace("Z", "+00:00")).tzinfo is not None
    assert first["time"].endswith("Z")
    assert first["logging.googleapis.com/labels"] == {"function": "images"}
    source = first["logging.googleapis.com/sourceLocation"]
    assert source["file"].endswith("test_logging.py") and source["function"]
    assert int(source["line"]) > 0
    assert "logging.googleapis.com/trace" not in first
    assert second["severity"] == "WARNING"
    assert second["asset_id"] == "a1" and second["count"] == 2


def test_request_context_adds_trace_and_labels(lines: Any) -> None:
    ctx = LogContext("rid-9", TRACE, "00f067aa0ba902b7", True, function="assets")
    with bound_context(ctx):
        get_logger("x").info("inside")
    get_logger("x").info("outside")
    inside, outside = lines()
    assert inside["logging.googleapis.com/trace"] == f"projects/demo-genmedia/traces/{TRACE}"
    assert inside["logging.googleapis.com/spanId"] == "00f067aa0ba902b7"
    assert inside["logging.googleapis.com/trace_sampled"] is True
    assert inside["logging.googleapis.com/labels"] == {"function": "assets", "request_id": "rid-9"}
    assert "logging.googleapis.com/trace" not in outside
    assert outside["logging.googleapis.com/labels"] == {"function": "images"}


def test_json_fields_cannot_forge_envelope(lines: Any) -> None:
    fields = {"severity": "DEBUG", "logging.googleapis.com/trace": "projects/x/traces/forged"}
    get_logger("x").error("real", extra={"json_fields": fields})
    (record,) = lines()
    assert record["severity"] == "ERROR"
    assert "logging.googleapis.com/trace" not in record


def test_configure_is_idempotent(lines: Any) -> None:
    configure_logging("images", "demo-genmedia", "DEBUG")
    configure_logging("images", "demo-genmedia", "DEBUG")
    get_logger("x").info("once")
    assert len(lines()) == 1


def test_level_is_applied(lines: Any) -> None:
    configure_logging("images", "demo-genmedia", "WARNING")
    get_logger("x").info("dropped")
    get_logger("x").warning("kept")
    assert [r["message"] for r in lines()] == ["kept"]


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer ya29.a0AfH6SMBxyz-_.~+/=", "ya29.a0AfH6SMBxyz"),
        (f"token={JWT}", "c2lnbmF0dXJlLWJ5dGVzLWhlcmU"),
        ("unsigned emulator token eyJhbGciOiJub25lIn0.eyJ1aWQiOiJ1MSJ9.", "eyJ1aWQiOiJ1MSJ9"),
        (SIGNED_URL, "abcdef0123456789"),
        (SIGNED_URL, "sa%40p.iam.gserviceaccount.com"),
        ("v2 url ?GoogleAccessId=sa@p&Expires=1&Signature=c2ln%2B", "c2ln%2B"),
    ],
)
def test_redact_masks_secrets(text: str, secret: str) -> None:
    masked = redact(text)
    assert secret not in masked and "[REDACTED]" in masked


def test_redact_keeps_ordinary_text() -> None:
    text = "generated 2 images for www.example.com in 1.2.3 seconds"
    assert redact(text) == text


def test_redaction_in_message_fields_and_traceback(lines: Any) -> None:
    log = get_logger("x")
    log.info("call with Bearer %s", JWT, extra={"json_fields": {"url": SIGNED_URL, "n": [JWT]}})
    try:
        raise ValueError(f"upstream rejected {JWT}")
    except ValueError:
        log.exception("failed")
    first, second = lines()
    raw = json.dumps([first, second])
    assert JWT not in raw and "abcdef0123456789" not in raw
    assert first["url"].endswith("X-Goog-Signature=[REDACTED]")
    assert second["severity"] == "ERROR"
    assert "ValueError" in second["stack_trace"] and "Traceback" in second["stack_trace"]


def test_access_line_from_router(lines: Any) -> None:
    router = Router("assets", settings=make_settings())

    @router.route("POST", "/v1/assets/{id}:undelete")
    def undelete(req: Request) -> Mapping[str, Any]:
        req.body_bytes()
        get_logger("handler").info("working")
        return {"ok": True}

    prompt = "a secret prompt about my cat"
    headers = {
        "X-Request-ID": "rid-42",
        "traceparent": f"00-{TRACE}-00f067aa0ba902b7-01",
        "User-Agent": "pytest-agent",
        "X-Forwarded-For": "203.0.113.9, 10.0.0.1",
    }
    resp = call(
        router,
        "POST",
        "/v1/assets/abc:undelete",
        headers=headers,
        json_body={"prompt": prompt},
        query_string="X-Goog-Signature=deadbeef&page=2",
    )
    assert resp.status_code == 200
    records = lines()
    assert prompt not in json.dumps(records)
    handler_line, access = records
    assert handler_line["logging.googleapis.com/labels"] == {
        "function": "assets",
        "request_id": "rid-42",
    }
    assert access["logging.googleapis.com/trace"] == f"projects/demo-genmedia/traces/{TRACE}"
    assert access["logging.googleapis.com/labels"]["request_id"] == "rid-42"
    http = access["httpRequest"]
    assert http["requestMethod"] == "POST"
    assert http["requestUrl"] == "/v1/assets/abc:undelete?X-Goog-Signature=[REDACTED]&page=2"
    assert http["status"] == 200
    assert http["latency"].endswith("s") and float(http["latency"][:-1]) >= 0
    assert http["userAgent"] == "pytest-agent"
    assert http["remoteIp"] == "203.0.113.9"
    assert http["requestSize"] == str(len(json.dumps({"prompt": prompt})))
    assert http["responseSize"] == str(len(resp.get_data()))
    assert access["severity"] == "INFO"


def test_failed_request_logs_error_with_stack_then_access_line(lines: Any) -> None:
    router = Router("assets", settings=make_settings())

    @router.route("GET", "/v1/boom")
    def boom(req: Request) -> Mapping[str, Any]:
        raise KeyError("internal-key")

    call(router, "GET", "/v1/boom", headers={"X-Request-ID": "rid-boom"})
    error, access = lines()
    assert error["severity"] == "ERROR" and "KeyError" in error["stack_trace"]
    assert error["logging.googleapis.com/labels"]["request_id"] == "rid-boom"
    assert access["severity"] == "ERROR" and access["httpRequest"]["status"] == 500


def test_platform_modules_import_no_heavy_clients() -> None:
    code = (
        "import sys, genmedia.config, genmedia.logging, genmedia.retry, genmedia.breaker,"
        " genmedia.http, genmedia.bootstrap, genmedia.handlers;"
        "heavy = ('google.cloud.', 'google.api_core', 'grpc', 'requests', 'httpx',"
        " 'firebase_admin');"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))"
    )
    functions_dir = Path(gm_logging.__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(functions_dir)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == "[]"


def test_bad_format_arguments_do_not_raise(lines: Any) -> None:
    get_logger("x").info("two %s %s", "only-one")
    (record,) = lines()
    assert "two %s %s" in record["message"]


def test_router_configures_logging_on_first_request(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = logging.getLogger()
    previous = root.level
    monkeypatch.setattr(
        root, "handlers", [h for h in root.handlers if h is not gm_logging._handler]
    )
    assert not gm_logging.is_configured()
    router = Router("fresh", settings=make_settings(GENMEDIA_LOG_LEVEL="INFO"))
    try:
        call(router, "GET", "/healthz")
        assert gm_logging.is_configured()
    finally:
        root.setLevel(previous)
    access = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert access["httpRequest"]["requestUrl"] == "/healthz"
