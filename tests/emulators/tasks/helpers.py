"""Test-side tools for the Cloud Tasks suite: a scripted HTTP receiver standing in for the
worker, polling with deadlines, and a small client for the emulator's admin port."""

from __future__ import annotations

import datetime
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

T = TypeVar("T")


def wait_until(
    probe: Callable[[], T], timeout: float = 10.0, interval: float = 0.02, what: str = ""
) -> T:
    """Poll `probe` until it returns something truthy; fail with its last value otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}: last {value!r}")
        time.sleep(interval)


def from_now(seconds: float) -> datetime.datetime:
    """A schedule_time `seconds` from now (negative: in the past)."""
    return datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(seconds=seconds)


@dataclass(frozen=True)
class Reply:
    status: int = 200
    delay: float = 0.0  # seconds the handler takes before it answers


@dataclass
class Hit:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    wall: float  # time.time() on arrival, comparable to task timestamps
    mono: float  # time.monotonic() on arrival, for gaps
    others_running: int  # requests to the same path still being handled at arrival
    done: threading.Event = field(default_factory=threading.Event)

    def header(self, name: str) -> str | None:
        lowered = {k.lower(): v for k, v in self.headers.items()}
        return lowered.get(name.lower())


class Receiver:
    """A threaded HTTP server on 127.0.0.1 that records requests and answers as scripted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: dict[str, list[Reply]] = {}
        self._hits: dict[str, list[Hit]] = {}
        self._running: dict[str, int] = {}
        self.max_running: dict[str, int] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def new_path(self, *replies: Reply | int) -> str:
        """A fresh path that answers `replies` in order, then 200."""
        path = f"/work/{uuid.uuid4().hex}"
        self._scripts[path] = [r if isinstance(r, Reply) else Reply(r) for r in replies]
        return path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def hits(self, path: str) -> list[Hit]:
        with self._lock:
            return list(self._hits.get(path, []))

    def wait_hits(self, path: str, count: int, timeout: float = 10.0) -> list[Hit]:
        return wait_until(
            lambda: len(self.hits(path)) >= count and self.hits(path),
            timeout,
            what=f"{count} requests to {path}",
        )

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _arrive(self, path: str, hit_args: dict[str, Any]) -> tuple[Hit, Reply]:
        with self._lock:
            others = self._running.get(path, 0)
            hit = Hit(**hit_args, others_running=others)
            self._hits.setdefault(path, []).append(hit)
            self._running[path] = others + 1
            self.max_running[path] = max(self.max_running.get(path, 0), others + 1)
            script = self._scripts.get(path, [])
            reply = script.pop(0) if script else Reply()
        return hit, reply

    def _leave(self, path: str) -> None:
        with self._lock:
            self._running[path] -= 1


def _handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = self.path.split("?", 1)[0]
            hit, reply = receiver._arrive(
                path,
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": dict(self.headers.items()),
                    "body": body,
                    "wall": time.time(),
                    "mono": time.monotonic(),
                },
            )
            time.sleep(reply.delay)
            # No longer running once the answer goes out: the emulator may dispatch the next
            # task the moment it reads it, before this thread would get to count it as done.
            receiver._leave(path)
            try:
                self.send_response(reply.status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass  # the emulator stopped listening (deadline): production does that too
            finally:
                hit.done.set()

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


class Admin:
    """JSON calls to the emulator's admin port."""

    def __init__(self, http_port: int) -> None:
        self.base = f"http://127.0.0.1:{http_port}"

    def call(self, method: str, path: str, body: object = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")

    def history(self, task: str) -> dict[str, Any]:
        status, body = self.call("GET", f"/emulator/v1/attempts?task={task}")
        assert status == 200, body
        return dict(body)

    def fault(self, **spec: object) -> None:
        status, body = self.call("POST", "/emulator/v1/faults", spec)
        assert status == 200, body

    def wait_outcome(self, task: str, outcome: str, timeout: float = 10.0) -> dict[str, Any]:
        return wait_until(
            lambda: (h := self.history(task))["outcome"] == outcome and h,
            timeout,
            what=f"{task} to be {outcome}",
        )
