"""Requests gunicorn refuses before the app runs, sent over a raw socket to a real function
process of the local stack: problem+json with our headers, and limits that let the app's own
rules decide (an 8,192-character token reaches the verifier)."""

from __future__ import annotations

import base64
import json
import socket
from typing import Any
from urllib.parse import urlsplit

import pytest


def exchange(url: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def get(url: str, *header_lines: bytes) -> tuple[int, dict[str, str], bytes]:
    host = urlsplit(url).netloc.encode()
    extra = b"".join(line + b"\r\n" for line in header_lines)
    request = (
        b"GET /v1/usage HTTP/1.1\r\nHost: " + host + b"\r\n" + extra + b"Connection: close\r\n\r\n"
    )
    return exchange(url, request)


def assert_server_problem(
    answer: tuple[int, dict[str, str], bytes], status: int, code: str
) -> dict[str, Any]:
    got, headers, body = answer
    assert got == status, body
    assert headers["Content-Type"] == "application/problem+json"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "no-store"
    problem: dict[str, Any] = json.loads(body)
    assert (problem["status"], problem["code"]) == (status, code)
    assert problem["request_id"] == headers["X-Request-ID"]
    assert b"<html" not in body
    return problem


def padded_token(length: int) -> str:
    """A JWT-shaped token of exactly ``length`` characters (its claims lack everything),
    padded in the signature segment."""
    header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    claims = base64.urlsafe_b64encode(b'{"pad":"x"}').rstrip(b"=").decode()
    filler = length - len(header) - len(claims) - 2
    return f"{header}.{claims}.{'s' * filler}"


@pytest.fixture(scope="module")
def library_url(stack_info: dict[str, Any]) -> str:
    return str(stack_info["functions"]["library"])


def test_an_oversized_header_is_431_problem_json(library_url: str) -> None:
    answer = get(library_url, b"X-Padding: " + b"a" * 20000)
    assert_server_problem(answer, 431, "HEADERS_TOO_LARGE")


def test_too_many_headers_are_431(library_url: str) -> None:
    answer = get(library_url, *(f"X-H{i}: v".encode() for i in range(150)))
    assert_server_problem(answer, 431, "HEADERS_TOO_LARGE")


def test_a_control_character_in_a_header_is_400_and_not_echoed(library_url: str) -> None:
    answer = get(library_url, b"X-Evil: a\x01<script>")
    problem = assert_server_problem(answer, 400, "INVALID_ARGUMENT")
    assert "script" not in json.dumps(problem)


def test_an_overlong_request_line_is_414(library_url: str) -> None:
    host = urlsplit(library_url).netloc.encode()
    request = b"GET /v1/usage?q=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: " + host + b"\r\n\r\n"
    assert_server_problem(exchange(library_url, request), 414, "URI_TOO_LONG")


def test_an_8192_character_token_reaches_the_app_and_a_longer_one_is_its_401(
    library_url: str,
) -> None:
    for length, detail in ((8192, "invalid"), (8193, "malformed")):
        token = padded_token(length)
        status, _, body = get(library_url, b"Authorization: Bearer " + token.encode())
        problem = json.loads(body)
        assert (status, problem["code"]) == (401, "UNAUTHENTICATED"), body
        assert detail in problem["detail"]
