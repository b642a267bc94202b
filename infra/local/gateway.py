"""Local front door: routes public /v1 paths to function processes as the LB URL map will.

Reads the same routing table as Terraform (functions/routes.json). Private functions (task workers,
event handlers) have no rule, so they are unreachable here exactly as they are in production.
"""

from __future__ import annotations

import http.client
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from infra.local.routes import RoutingTable, load_routes

MAX_BODY = 32 * 1024 * 1024  # the LB accepts large bodies; functions enforce their own limits
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


class Gateway(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # socketserver's default backlog of 5 resets bursts of clients

    def __init__(self, addr: tuple[str, int], table: RoutingTable, upstreams: dict[str, str]):
        super().__init__(addr, _Handler)
        self.table = table
        self.upstreams = {name: urlsplit(url) for name, url in upstreams.items()}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; with Nagle on, the body waits ~40 ms for an ACK.
    disable_nagle_algorithm = True
    server: Gateway

    def log_message(self, format: str, *args: object) -> None:
        """Silence per-request stderr lines: the functions log every request themselves."""

    def _handle(self) -> None:
        path = urlsplit(self.path).path
        function = self.server.table.resolve(path)
        if function is None or function not in self.server.upstreams:
            self._problem(404, "NOT_FOUND", "Not found", f"No route for {path}")
            return
        body = self._read_body()
        if body is None:
            return
        try:
            status, headers, payload = self._forward(function, body)
        except OSError:
            self._problem(503, "UNAVAILABLE", "Service unavailable", f"{function} is not answering")
            return
        self.send_response_only(status)  # upstream's Date and Server stand, as behind the LB
        for name, value in headers:
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _handle

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._problem(
                413, "PAYLOAD_TOO_LARGE", "Payload too large", "Body exceeds the front door limit"
            )
            self.close_connection = True
            return None
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes | None:
        chunks: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY:
                self._problem(
                    413,
                    "PAYLOAD_TOO_LARGE",
                    "Payload too large",
                    "Body exceeds the front door limit",
                )
                self.close_connection = True
                return None
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _forward(self, function: str, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["Content-Length"] = str(len(body))
        forwarded = self.headers.get("X-Forwarded-For")
        client = self.client_address[0]
        headers["X-Forwarded-For"] = f"{forwarded}, {client}" if forwarded else client
        headers["X-Forwarded-Proto"] = "http"
        # A fresh upstream connection per request: reusing keep-alive connections would need a
        # resend after an idle close, and resending a POST could run a generation twice.
        target = self.server.upstreams[function]
        assert target.hostname is not None  # upstreams are the stack's own http://host:port URLs
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=600)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def _problem(self, status: int, code: str, title: str, detail: str) -> None:
        request_id = self.headers.get("X-Request-ID") or uuid.uuid4().hex
        body = json.dumps(
            {
                "type": "about:blank",
                "title": title,
                "status": status,
                "detail": detail,
                "code": code,
                "request_id": request_id,
            }
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("X-Request-ID", request_id)
        self.send_header("Content-Length", str(len(body)))
        if status == 503:
            self.send_header("Retry-After", "1")
        self.end_headers()
        self.wfile.write(body)


def serve(host: str, port: int, upstreams: dict[str, str]) -> Gateway:
    """Start the gateway in a background thread and return it (``shutdown()`` stops it)."""
    gateway = Gateway((host, port), load_routes(), upstreams)
    threading.Thread(target=gateway.serve_forever, name="gateway", daemon=True).start()
    return gateway
