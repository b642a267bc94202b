"""Ports of the local stack: never handed out twice, and a port answered by another
function's process never passes as this function being up."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from infra.local import services
from infra.local.ports import HOST, free_port
from infra.local.stack import Stack, StackOptions


def test_free_ports_are_never_handed_out_twice() -> None:
    # The kernel repeats numbers for unheld sockets (500 draws from its ~14k bind ports
    # almost surely repeat one); two services of one stack must still get different ports.
    ports = [free_port() for _ in range(500)]
    assert len(set(ports)) == len(ports)


class _Health(BaseHTTPRequestHandler):
    function = "library"

    def do_GET(self) -> None:
        body = json.dumps({"status": "ok", "function": self.function}).encode()
        self.send_response(200 if self.path == "/healthz" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def library_process() -> Iterator[int]:
    server = ThreadingHTTPServer((HOST, 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def test_a_function_is_up_only_when_its_own_process_answers(library_process: int) -> None:
    stack = Stack(StackOptions(free_ports=True))
    stack.ports = {"fn_issue_signed_url": library_process, "fn_library": library_process}
    assert services.healthy(stack, "fn_library")
    assert not services.healthy(stack, "fn_issue_signed_url")
