"""Local front door: routes public /v1 paths to function processes as the LB URL map will.

Reads the same routing table as Terraform (functions/routes.json). Private functions (task workers,
event handlers) have no rule, so they are unreachable here exactly as they are in production.

Every request gets an answer: what the gateway refuses itself (no route, an unknown method, a
malformed request line, header block or body, a body too large) is a problem+json shaped like
the functions' own, with their security headers, and the connection is closed after a
malformed request. ``X-Request-ID`` is kept only when it is a safe token (the functions' rule);
otherwise a fresh one is generated and forwarded. Upstream connections are kept alive and
reused while fresh (``UpstreamPool``), as the load balancer does, and never used to resend.
"""

from __future__ import annotations

import http.client
import json
import re
import secrets
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from infra.local.routes import RoutingTable, load_routes
from infra.local.webapp import WebApp

MAX_BODY = 32 * 1024 * 1024  # the LB accepts large bodies; functions enforce their own limits
# The same rules as genmedia.http (tracing.request_id_from, cors.SECURITY_HEADERS, problem_type);
# the gateway runs in the launcher, without functions/ on its path, and a test keeps them equal.
REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._-]{1,128}")
PROBLEM_TYPE_BASE = "https://genmedia.dev/problems/"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "Cache-Control": "no-store",
}
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# http.server's own refusals (send_error) -> our stable codes.
CODES = {
    400: "INVALID_ARGUMENT",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    408: "REQUEST_TIMEOUT",
    413: "PAYLOAD_TOO_LARGE",
    414: "URI_TOO_LONG",
    431: "HEADERS_TOO_LARGE",
    503: "UNAVAILABLE",
}
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}


# Upstream keep-alive: gunicorn closes an idle connection after 2 s (its keepalive), so a
# pooled connection is reused only within 1 s of its last answer. Then the server cannot have
# closed it for idleness, and a failure on it is a real failure, never resent (a resent POST
# could run a generation twice).
IDLE_REUSE_S = 1.0
POOL_SIZE = 32  # idle connections kept per function


class UpstreamPool:
    def __init__(self, upstreams: dict[str, str]) -> None:
        self.targets = {name: urlsplit(url) for name, url in upstreams.items()}
        self._idle: dict[str, list[tuple[float, http.client.HTTPConnection]]] = {}
        self._lock = threading.Lock()

    def take(self, function: str) -> http.client.HTTPConnection:
        now = time.monotonic()
        with self._lock:
            idle = self._idle.setdefault(function, [])
            while idle:
                since, conn = idle.pop()
                if now - since < IDLE_REUSE_S:
                    return conn
                conn.close()
        target = self.targets[function]
        assert target.hostname is not None  # upstreams are the stack's own http://host:port URLs
        return http.client.HTTPConnection(target.hostname, target.port, timeout=600)

    def give_back(self, function: str, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(function, [])
            if len(idle) < POOL_SIZE:
                idle.append((time.monotonic(), conn))
                return
        conn.close()


class Gateway(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # socketserver's default backlog of 5 resets bursts of clients

    def __init__(
        self,
        addr: tuple[str, int],
        table: RoutingTable,
        upstreams: dict[str, str],
        web: WebApp | None = None,
    ):
        super().__init__(addr, _Handler)
        self.table = table
        self.web = web
        self.pool = UpstreamPool(upstreams)
        self.upstreams = self.pool.targets


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class BadRequest(Exception):
    """The request cannot be read as HTTP/1.1: answered 400 and the connection closed."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; with Nagle on, the body waits ~40 ms for an ACK.
    disable_nagle_algorithm = True
    timeout = 120  # a client that stops sending mid-request does not hold a thread forever
    server: Gateway
    request_id = ""

    def log_message(self, format: str, *args: object) -> None:
        """Silence per-request stderr lines: the functions log every request themselves."""

    def parse_request(self) -> bool:
        ok = super().parse_request()
        if ok:
            given = self.headers.get("X-Request-ID")
            valid = given is not None and REQUEST_ID_RE.fullmatch(given)
            self.request_id = given if valid and given else secrets.token_hex(16)
        return ok

    def __getattr__(self, name: str) -> object:
        # http.server looks up do_<METHOD>; every method is answered, unknown ones with a 405.
        if name.startswith("do_"):
            return self._handle if name[3:] in METHODS else self._not_allowed
        raise AttributeError(name)

    def _not_allowed(self) -> None:
        self.close_connection = True
        self._problem(405, f"{self.command} is not supported", {"Allow": ", ".join(METHODS)})

    def _handle(self) -> None:
        path = urlsplit(self.path).path
        function = self.server.table.resolve(path)
        if function is None and self._serve_web(path):
            return
        if function is None or function not in self.server.upstreams:
            # The body is not read: left on the connection, it would be parsed as the next
            # request, so the connection ends with this answer.
            self.close_connection = True
            self._problem(404, f"No route for {path}")
            return
        try:
            body = self._read_body()
        except BadRequest as exc:
            self.close_connection = True
            self._problem(400, str(exc))
            return
        if body is None:
            return
        conn, reusable = self.server.pool.take(function), False
        try:
            try:
                resp = self._forward(conn, body)
                streaming = resp.getheader("Content-Type", "").startswith("text/event-stream")
                # An event stream is passed on as it arrives, as the load balancer does;
                # anything else is read whole and sent with its length.
                payload = None if streaming else resp.read()
            except (OSError, http.client.HTTPException):
                self._problem(503, f"{function} is not answering", {"Retry-After": "1"})
                return
            reusable = payload is not None and not resp.will_close
            self._relay(resp, payload)
        finally:
            if reusable:
                self.server.pool.give_back(function, conn)
            else:
                conn.close()

    def _serve_web(self, path: str) -> bool:
        """The web studio's files (GET/HEAD without a body, outside /v1); False: not one."""
        web = self.server.web
        bodiless = self.headers.get("Content-Length", "0") == "0" and not self.headers.get(
            "Transfer-Encoding"
        )
        if web is None or self.command not in ("GET", "HEAD") or path.startswith("/v1/"):
            return False
        static = web.find(path) if bodiless else None
        if static is None:
            return False
        self.send_response(200)
        for name, value in web.headers(static).items():
            self.send_header(name, value)
        self.send_header("X-Request-ID", self.request_id)
        self.send_header("Content-Length", str(len(static.body)))
        self.end_headers()
        if self.command == "GET":
            self.wfile.write(static.body)
        return True

    def _relay(self, resp: http.client.HTTPResponse, payload: bytes | None) -> None:
        """Send the upstream's answer: ``payload``, or the stream as it arrives (None)."""
        self.send_response_only(resp.status)  # upstream's Date and Server stand, as behind the LB
        for name, value in resp.getheaders():
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        if payload is None:  # the connection closes with the stream
            self.close_connection = True
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                while chunk := resp.read1(65536):
                    self.wfile.write(chunk)
                    self.wfile.flush()
            except OSError:
                pass  # either side went away: the stream simply ends
            return
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _read_body(self) -> bytes | None:
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        declared = self.headers.get("Content-Length")
        if chunked and declared is not None:
            raise BadRequest("Content-Length and Transfer-Encoding: chunked together")
        if chunked:
            return self._read_chunked()
        if declared is not None and not declared.strip().isdigit():
            raise BadRequest("Content-Length must be a non-negative integer")
        length = int(declared or 0)
        if length > MAX_BODY:
            self._too_large()
            return None
        body = self.rfile.read(length) if length else b""
        if len(body) != length:
            raise BadRequest("The body ended before Content-Length bytes")
        return body

    def _read_chunked(self) -> bytes | None:
        chunks: list[bytes] = []
        total = 0
        while (size := self._chunk_size()) > 0:
            total += size
            if total > MAX_BODY:
                self._too_large()
                return None
            chunk = self.rfile.read(size)
            if len(chunk) != size or self.rfile.readline() not in (b"\r\n", b"\n"):
                raise BadRequest("Malformed chunked body")
            chunks.append(chunk)
        while (line := self.rfile.readline()) not in (b"\r\n", b"\n"):
            if not line:
                raise BadRequest("Malformed chunked body: no final CRLF")
        return b"".join(chunks)

    def _chunk_size(self) -> int:
        line = self.rfile.readline(1024)
        digits = line.split(b";")[0].strip()
        if not line.endswith(b"\n") or not digits or not re.fullmatch(rb"[0-9A-Fa-f]{1,8}", digits):
            raise BadRequest("Malformed chunked body: bad chunk size")
        return int(digits, 16)

    def _too_large(self) -> None:
        self.close_connection = True
        self._problem(413, "Body exceeds the front door limit")

    def _forward(self, conn: http.client.HTTPConnection, body: bytes) -> http.client.HTTPResponse:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["Content-Length"] = str(len(body))
        headers["X-Request-ID"] = self.request_id
        forwarded = self.headers.get("X-Forwarded-For")
        client = self.client_address[0]
        headers["X-Forwarded-For"] = f"{forwarded}, {client}" if forwarded else client
        headers["X-Forwarded-Proto"] = "http"
        conn.request(self.command, self.path, body=body, headers=headers)
        return conn.getresponse()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (bad request line, header block too large...)."""
        self.close_connection = True
        if not self.request_id:
            self.request_id = secrets.token_hex(16)
        # An unparsable request line leaves http.server at HTTP/0.9, which has no status line.
        self.request_version = self.protocol_version
        status = 405 if code == HTTPStatus.NOT_IMPLEMENTED else code
        # http.server's messages can quote the offending input: only the status text is sent.
        self._problem(status, f"The gateway refused the request: {_phrase(status).lower()}")

    def _problem(self, status: int, detail: str, extra: dict[str, str] | None = None) -> None:
        code = CODES.get(status, "INTERNAL")
        request_id = self.request_id or secrets.token_hex(16)
        title = _phrase(status)
        body = json.dumps(
            {
                "type": PROBLEM_TYPE_BASE + code.lower().replace("_", "-"),
                "title": title,
                "status": status,
                "detail": detail,
                "code": code,
                "request_id": request_id,
            }
        ).encode()
        self.send_response_only(status)
        for name, value in {
            "Content-Type": "application/problem+json",
            **SECURITY_HEADERS,
            **(extra or {}),
            "X-Request-ID": request_id,
            "Content-Length": str(len(body)),
        }.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def serve(host: str, port: int, upstreams: dict[str, str], web: WebApp | None = None) -> Gateway:
    """Start the gateway in a background thread and return it (``shutdown()`` stops it)."""
    gateway = Gateway((host, port), load_routes(), upstreams, web)
    threading.Thread(target=gateway.serve_forever, name="gateway", daemon=True).start()
    return gateway
