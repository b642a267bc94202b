"""HTTP/1.1 admin port: the endpoints tests and the local stack use (see README.md)."""

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import grpc

from .admin import Admin
from .errors import RpcError, invalid

PREFIX = "/emulator/v1"
MAX_BODY_BYTES = 1024 * 1024
_HTTP_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
}
Query = dict[str, list[str]]


class AdminServer(ThreadingHTTPServer):
    daemon_threads = True
    # SO_REUSEADDR: a restart binds its port while the last run's closed connections sit in
    # TIME_WAIT. A port another process listens on is still refused (Linux needs
    # SO_REUSEPORT for that, which stays off), so a taken port still fails fast.
    allow_reuse_address = True

    def __init__(self, host: str, port: int, admin: Admin) -> None:
        self.admin = admin
        super().__init__((host, port), _Handler)

    def start(self) -> threading.Thread:
        # A short poll interval makes shutdown() return quickly (SIGTERM must exit within 1 s).
        thread = threading.Thread(
            target=self.serve_forever, args=(0.1,), name="tasks-http", daemon=True
        )
        thread.start()
        return thread


def _one(query: Query, key: str) -> str | None:
    values = query.get(key)
    return values[0] if values else None


def _required(query: Query, key: str) -> str:
    value = _one(query, key)
    if value is None:
        raise invalid(f"query parameter '{key}' is required")
    return value


def _parse_json(raw: bytes) -> object:
    try:
        return json.loads(raw or b"null")
    except ValueError as exc:
        raise invalid(f"request body is not JSON: {exc}") from exc


class _Handler(BaseHTTPRequestHandler):
    server: AdminServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        admin = self.server.admin
        routes: dict[str, Callable[[Query], object]] = {
            f"{PREFIX}/health": lambda q: admin.health(),
            f"{PREFIX}/attempts": lambda q: admin.history(_required(q, "task")),
            f"{PREFIX}/dropped": lambda q: admin.dropped(_one(q, "queue")),
            f"{PREFIX}/certs": lambda q: admin.certs(),
            "/oauth2/v1/certs": lambda q: admin.certs(),
        }
        url = urlsplit(self.path)
        if url.path == "/":
            self._reply(200, b"Ok", "text/plain")
            return
        self._route(routes, url.path, parse_qs(url.query))

    def do_POST(self) -> None:
        admin = self.server.admin
        try:
            raw = self._body()  # read first, so a keep-alive connection stays in step
        except RpcError as exc:
            self._json(400, {"error": exc.message})
            self.close_connection = True
            return

        def reset(q: Query) -> object:
            admin.reset()
            return {}

        routes: dict[str, Callable[[Query], object]] = {
            f"{PREFIX}/reset": reset,
            f"{PREFIX}/faults": lambda q: admin.add_fault(_parse_json(raw)),
        }
        url = urlsplit(self.path)
        self._route(routes, url.path, parse_qs(url.query))

    def _route(self, routes: dict[str, Callable[[Query], object]], path: str, q: Query) -> None:
        handler = routes.get(path)
        if handler is None:
            self._json(404, {"error": f"no such endpoint: {self.command} {path}"})
            return
        try:
            self._json(200, handler(q))
        except RpcError as exc:
            self._json(_HTTP_STATUS.get(exc.code, 500), {"error": exc.message})

    def _body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            raise invalid(f"request body must be at most {MAX_BODY_BYTES} bytes")
        return self.rfile.read(length)

    def _json(self, status: int, body: object) -> None:
        self._reply(status, json.dumps(body).encode(), "application/json")

    def _reply(self, status: int, data: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        return
