"""The local gateway under malformed and hostile requests, over raw sockets: every request gets
a problem+json answer shaped like the functions' own (with their security headers), malformed
ones close the connection, and request ids are only echoed when they are safe."""

from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import urlsplit

import pytest

from genmedia.http.cors import SECURITY_HEADERS
from genmedia.http.problem import problem_type
from infra.local import gateway as gateway_module


def send(base: str, raw: bytes, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), headers, body


def request(method: str, path: str, *headers: str, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: gateway", *headers, "", ""]
    return "\r\n".join(lines).encode() + body


def problem_of(answer: tuple[int, dict[str, str], bytes], status: int, code: str) -> Any:
    got, headers, body = answer
    assert got == status, body
    assert headers["Content-Type"] == "application/problem+json"
    for name, value in SECURITY_HEADERS.items():
        assert headers[name] == value, name
    problem = json.loads(body)
    assert (problem["status"], problem["code"]) == (status, code)
    assert problem["type"] == problem_type(code)
    assert problem["request_id"] == headers["X-Request-ID"]
    return problem


@pytest.fixture(scope="module")
def base(stack_info: dict[str, Any]) -> str:
    return str(stack_info["gateway"])


BAD_BODIES = {
    "non-numeric Content-Length": request(
        "POST", "/v1/images:generate", "Content-Length: ten", body=b"{}"
    ),
    "negative Content-Length": request(
        "POST", "/v1/images:generate", "Content-Length: -1", body=b"{}"
    ),
    "bad chunk size": request(
        "POST", "/v1/images:generate", "Transfer-Encoding: chunked", body=b"zz\r\n{}\r\n0\r\n\r\n"
    ),
    "chunk without its CRLF": request(
        "POST", "/v1/images:generate", "Transfer-Encoding: chunked", body=b"2\r\n{}XX0\r\n\r\n"
    ),
    "truncated chunked body": request(
        "POST", "/v1/images:generate", "Transfer-Encoding: chunked", body=b"10\r\n{}"
    ),
    "both framings (smuggling)": request(
        "POST",
        "/v1/images:generate",
        "Content-Length: 2",
        "Transfer-Encoding: chunked",
        body=b"2\r\n{}\r\n0\r\n\r\n",
    ),
    "short body": request("POST", "/v1/images:generate", "Content-Length: 50", body=b"{}"),
}


@pytest.mark.parametrize("raw", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_malformed_bodies_are_400_and_close(base: str, raw: bytes) -> None:
    answer = send(base, raw)
    problem_of(answer, 400, "INVALID_ARGUMENT")
    assert answer[1]["Connection"] == "close"


def test_a_garbage_request_line_is_400(base: str) -> None:
    problem_of(send(base, b"NOT HTTP AT ALL\r\n\r\n"), 400, "INVALID_ARGUMENT")


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "BREW"])
def test_unknown_methods_are_405_with_allow(base: str, method: str) -> None:
    answer = send(base, request(method, "/v1/healthz"))
    problem_of(answer, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in answer[1]["Allow"] and method not in answer[1]["Allow"]


def test_an_unrouted_path_is_404_with_security_headers(base: str) -> None:
    problem_of(send(base, request("GET", "/nowhere")), 404, "NOT_FOUND")


def test_a_body_over_the_limit_is_413(base: str) -> None:
    too_big = f"Content-Length: {gateway_module.MAX_BODY + 1}"
    problem_of(
        send(base, request("POST", "/v1/images:generate", too_big)), 413, "PAYLOAD_TOO_LARGE"
    )


def test_too_many_headers_are_431(base: str) -> None:
    raw = request("GET", "/v1/healthz", *(f"X-H{i}: v" for i in range(120)))
    problem_of(send(base, raw), 431, "HEADERS_TOO_LARGE")


@pytest.mark.parametrize("given", ["<img src=x>", "a" * 129, "spaces are bad", "ok\u00e9"])
def test_unsafe_request_ids_are_replaced_here_and_upstream(base: str, given: str) -> None:
    status, headers, _ = send(base, request("GET", "/v1/healthz", f"X-Request-ID: {given}"))
    assert status == 200 and headers["X-Request-ID"] != given
    assert gateway_module.REQUEST_ID_RE.fullmatch(headers["X-Request-ID"])
    missing = send(base, request("GET", "/nowhere", f"X-Request-ID: {given}"))
    assert missing[1]["X-Request-ID"] != given and given.encode() not in missing[2]


def test_a_safe_request_id_is_kept_end_to_end(base: str) -> None:
    status, headers, _ = send(base, request("GET", "/v1/healthz", "X-Request-ID: trace-me.1_2-3"))
    assert status == 200 and headers["X-Request-ID"] == "trace-me.1_2-3"


def test_the_gateway_rules_match_the_functions() -> None:
    """The gateway keeps copies (it runs without functions/ on its path): they must agree."""
    from genmedia.http import tracing

    assert gateway_module.SECURITY_HEADERS == {**SECURITY_HEADERS, "Cache-Control": "no-store"}
    assert gateway_module.REQUEST_ID_RE.pattern == tracing._REQUEST_ID_RE.pattern
    assert problem_type("NOT_FOUND") == gateway_module.PROBLEM_TYPE_BASE + "not-found"


def test_a_request_body_to_an_unrouted_path_is_not_read_as_the_next_request(
    stack_info: dict[str, Any],
) -> None:
    # Keep-alive: a POST with a body the gateway answers without reading, then a GET.
    body = b'{"job_id": "x", "step": 0}'
    unrouted = request("POST", "/tasks/video", f"Content-Length: {len(body)}", body=body)
    status, headers, answer = send(stack_info["gateway"], unrouted + request("GET", "/v1/healthz"))
    assert status == 404 and headers.get("Connection") == "close"
    # One answer only: the body was never taken for a request line (which answered 400).
    assert answer.count(b"HTTP/1.1") == 0 and b'"status": 400' not in answer
