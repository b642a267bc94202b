"""Responses: a routed result becomes a ``flask.Response``, then one access line.

Header order: service-added ``Request.response_headers``, then the handler's or the error's own
headers, then the fixed security headers, then CORS, then ``X-Request-ID``, which is always ours.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import flask

from genmedia.http import cors
from genmedia.http.request import Request
from genmedia.logging import get_logger, log_access

_log = get_logger("genmedia.http")


@dataclass
class Result:
    status: int
    body: bytes | Iterable[bytes] | None  # an iterable streams (Server-Sent Events)
    content_type: str | None
    headers: dict[str, str] = field(default_factory=dict)


def _valid_header(name: str, value: str) -> bool:
    return not any(c in "\r\n\0" for c in f"{name}{value}")


def build_response(req: Request, result: Result, origins: tuple[str, ...]) -> flask.Response:
    headers: dict[str, str] = {}
    for name, value in {**req.response_headers, **result.headers}.items():
        if _valid_header(name, str(value)):
            headers[name] = str(value)
        else:
            _log.error("dropped response header %s with control characters", name)
    cors.apply_security_headers(headers)
    origin = req.header("Origin")
    if origin is not None and cors.origin_allowed(origin, origins):
        headers.update(cors.cors_headers(origin))
    # Responses differ by Origin whether or not this one was allowed; caches must know.
    cors.add_vary(headers, "Origin")
    headers["X-Request-ID"] = req.request_id
    response = flask.Response(result.body or b"", status=result.status, headers=headers)
    if result.content_type is None:
        response.headers.pop("Content-Type", None)
    else:
        response.headers["Content-Type"] = result.content_type
    return response


def _remote_ip(req: Request) -> str | None:
    # Logging only, never used for decisions: the first hop is client-supplied.
    forwarded = req.header("X-Forwarded-For")
    if forwarded:
        return forwarded.split(",")[0].strip() or None
    return req.flask.remote_addr


def access_log(req: Request, response: flask.Response, size: int, started: float) -> None:
    query = req.flask.query_string.decode("latin-1")
    log_access(
        method=req.method,
        url=req.path + (f"?{query}" if query else ""),
        status=response.status_code,
        latency_s=time.perf_counter() - started,
        user_agent=req.header("User-Agent"),
        remote_ip=_remote_ip(req),
        request_size=req.body_size,
        response_size=size,
        protocol=req.flask.environ.get("SERVER_PROTOCOL"),
    )
