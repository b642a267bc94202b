"""A tiny threaded HTTP server for fakes of external JSON APIs.

Subclasses decide how a request path maps to a route (``route_for``); routes turn a
``RecordedRequest`` into a ``Reply``. Every request is recorded for assertions, and replies
can be delayed to exercise client timeouts without holding up shutdown.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: Any  # parsed JSON, or None when absent or not JSON
    path_params: dict[str, str] = field(default_factory=dict)

    @property
    def parameters(self) -> dict[str, Any]:
        params = self.body.get("parameters", {}) if isinstance(self.body, dict) else {}
        return dict(params)

    @property
    def instances(self) -> list[dict[str, Any]]:
        found = self.body.get("instances", []) if isinstance(self.body, dict) else []
        return list(found)


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    delay: float = 0.0


def json_reply(status: int, payload: object, delay: float = 0.0) -> Reply:
    return Reply(status, json.dumps(payload).encode(), delay=delay)


def error_reply(status: int, reason: str, message: str) -> Reply:
    """A Google API style error body."""
    return json_reply(status, {"error": {"code": status, "message": message, "status": reason}})


class Behaviour(Protocol):
    def reply(self, request: RecordedRequest) -> Reply: ...


class Route(Protocol):
    def __call__(self, request: RecordedRequest) -> Reply: ...


@dataclass(frozen=True)
class RawReply:
    status: int
    body: bytes
    content_type: str = "text/html"

    def reply(self, request: RecordedRequest) -> Reply:
        return Reply(self.status, self.body, self.content_type)


@dataclass(frozen=True)
class Slow:
    """Wait ``seconds`` before answering like ``then`` (to outlast a client timeout)."""

    seconds: float
    then: Behaviour

    def reply(self, request: RecordedRequest) -> Reply:
        inner = self.then.reply(request)
        return Reply(inner.status, inner.body, inner.content_type, delay=self.seconds)


class ScriptedRoute:
    """A route answering from a FIFO of behaviours, ``default`` once the queue is empty."""

    def __init__(self, default: Behaviour) -> None:
        self.default = default
        self._queue: deque[Behaviour] = deque()
        self._lock = threading.Lock()

    def enqueue(self, *behaviours: Behaviour) -> None:
        with self._lock:
            self._queue.extend(behaviours)

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()

    def __call__(self, request: RecordedRequest) -> Reply:
        with self._lock:
            behaviour = self._queue.popleft() if self._queue else self.default
        return behaviour.reply(request)


class FakeHttpServer:
    """Runs on 127.0.0.1 on a free port in a daemon thread; a context manager."""

    thread_name = "fake-http"

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def route_for(self, method: str, path: str) -> tuple[dict[str, str], Route | None]:
        """Path parameters and the route for a request (None: 404)."""
        return {}, self.routes.get(path)

    def check(self, request: RecordedRequest) -> Reply | None:
        """A reply that rejects the request before its route runs, or None to proceed."""
        return None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def reset(self) -> None:
        """Forget recorded requests and scripted behaviours (between tests)."""
        with self._lock:
            self._requests.clear()
        for route in self.routes.values():
            if isinstance(route, ScriptedRoute):
                route.reset()

    def start(self) -> FakeHttpServer:
        self._stopping.clear()
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name=self.thread_name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping in a delayed reply
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def handle(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Reply:
        params, route = self.route_for(method, path)
        request = RecordedRequest(method, path, headers, _parse_json(raw), params)
        with self._lock:
            self._requests.append(request)
        rejection = self.check(request)
        if rejection is not None:
            return rejection
        if route is None:
            return error_reply(404, "NOT_FOUND", f"No route for {method} {path}")
        return route(request)

    def wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def _handler_for(fake: FakeHttpServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {key.lower(): value for key, value in self.headers.items()}
            reply = fake.handle(self.command, self.path, headers, raw)
            if reply.delay:
                fake.wait(reply.delay)
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout tests); nothing left to answer

        def log_message(self, format: str, *args: object) -> None:
            return  # keep test output clean

    return Handler
