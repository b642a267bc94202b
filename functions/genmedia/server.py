"""The HTTP server under functions-framework (gunicorn): its limits, and its own refusals.

Some requests never reach the app: gunicorn refuses a request line, header or header block it
cannot accept before Flask runs, with an HTML page and none of our headers. ``configure()``
(called when ``main.py`` is imported, before functions-framework builds its server) sets the
limits deliberately and makes those refusals problem+json with the security headers:

- a header line may be up to ``MAX_HEADER_FIELD_BYTES``, so the app's own 8,192-character ID
  token limit (``http/auth.py``) is what a long token meets, not the server's 8,190 bytes;
- at most ``MAX_HEADER_FIELDS`` headers, and a request line of at most ``MAX_REQUEST_LINE``
  bytes (functions-framework turns gunicorn's limit off; the load balancer and Cloud Run
  accept far less than unlimited anyway).

Both hooks are gunicorn's module-level names, patched once per process; under the Flask test
client or any other server they are simply unused. This module stays outside ``genmedia.http``
and imports it only to write a refusal: ``main.py`` imports it in the gunicorn master at start,
where the HTTP package (pydantic, Flask) would add ~0.1 s to every cold start.
"""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import flask
    from werkzeug.exceptions import HTTPException

MAX_HEADER_FIELD_BYTES = 16384
MAX_HEADER_FIELDS = 100
MAX_REQUEST_LINE = 8190
LIMITS = {
    "limit_request_field_size": MAX_HEADER_FIELD_BYTES,
    "limit_request_fields": MAX_HEADER_FIELDS,
    "limit_request_line": MAX_REQUEST_LINE,
}
# gunicorn's status for a refusal -> our stable code.
CODES = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    414: "URI_TOO_LONG",
    417: "EXPECTATION_FAILED",
    431: "HEADERS_TOO_LARGE",
    501: "NOT_IMPLEMENTED",
}
_configured = False


def problem_response(status: int, reason: str) -> bytes:
    """A complete HTTP/1.1 problem+json response for a request the app never saw.

    gunicorn's own message can quote the offending input, so only the status text is used.
    """
    from genmedia.http.cors import apply_security_headers
    from genmedia.http.problem import PROBLEM_CONTENT_TYPE, problem_type

    request_id = secrets.token_hex(16)
    code = CODES.get(status, "INTERNAL")
    body = json.dumps(
        {
            "type": problem_type(code),
            "title": reason,
            "status": status,
            "detail": f"The server refused the request: {reason.lower()}",
            "code": code,
            "request_id": request_id,
        },
        separators=(",", ":"),
    ).encode()
    headers = {"Content-Type": PROBLEM_CONTENT_TYPE, "Content-Length": str(len(body))}
    apply_security_headers(headers)
    headers.update({"X-Request-ID": request_id, "Connection": "close"})
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (head + "\r\n").encode("latin-1") + body


def framework_refusal(exc: HTTPException) -> flask.Response:
    """A request functions-framework's Flask app refuses before our router runs: its
    ``/<path:path>`` rule matches no path holding a newline (the fuzz pass sent
    ``/v1/assets/a%0Ab:undelete``) and ``/favicon.ico`` is its own 404. Answered like any other
    refusal: problem+json with the security headers and a request id, not werkzeug's HTML page.
    """
    import flask
    import pydantic_core

    from genmedia.http.cors import apply_security_headers
    from genmedia.http.headers import error_headers
    from genmedia.http.problem import PROBLEM_CONTENT_TYPE, problem_body, to_genmedia_error
    from genmedia.http.tracing import request_id_from

    err, _ = to_genmedia_error(exc)
    request_id = request_id_from(flask.request.headers.get("X-Request-ID"))
    headers = error_headers(err)
    apply_security_headers(headers)
    headers["X-Request-ID"] = request_id
    body = pydantic_core.to_json(problem_body(err, request_id), fallback=str)
    return flask.Response(body, err.status, headers, content_type=PROBLEM_CONTENT_TYPE)


def configure() -> None:
    """Install the limits and the problem+json refusals (idempotent)."""
    global _configured
    if _configured:
        return
    import gunicorn.util
    from functions_framework._http import gunicorn as ff_gunicorn

    def write_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
        gunicorn.util.write_nonblock(sock, problem_response(status_int, reason))

    application = ff_gunicorn.GunicornApplication
    load_config = application.load_config

    def load_config_with_limits(self: Any) -> None:
        load_config(self)  # type: ignore[no-untyped-call]
        for name, value in LIMITS.items():
            self.cfg.set(name, value)

    gunicorn.util.write_error = write_error
    application.load_config = load_config_with_limits  # type: ignore[method-assign]
    _configured = True
