"""The gateway's upstream keep-alive: connections are reused while fresh, never to resend."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from infra.local import gateway as gateway_module


class Upstream:
    """A function stand-in on 127.0.0.1 that counts the connections it accepts."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests = 0
        self.fail = False
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                upstream.connections += 1

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                upstream.requests += 1
                if upstream.fail:  # dies mid-request: no answer at all
                    self.close_connection = True
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def setup() -> Iterator[tuple[Upstream, str]]:
    upstream = Upstream()
    gateway = gateway_module.serve("127.0.0.1", 0, {"generate_image": upstream.url})
    yield upstream, f"http://127.0.0.1:{gateway.server_address[1]}"
    gateway.shutdown()
    upstream.server.shutdown()


def test_back_to_back_requests_share_one_upstream_connection(
    setup: tuple[Upstream, str],
) -> None:
    upstream, base = setup
    for _ in range(5):
        resp = requests.post(f"{base}/v1/images:generate", json={}, timeout=10)
        assert resp.status_code == 200
    assert (upstream.requests, upstream.connections) == (5, 1)


def test_a_request_that_fails_upstream_is_answered_503_and_never_resent(
    setup: tuple[Upstream, str],
) -> None:
    upstream, base = setup
    assert requests.post(f"{base}/v1/images:generate", json={}, timeout=10).status_code == 200
    upstream.fail = True
    resp = requests.post(f"{base}/v1/images:generate", json={}, timeout=10)
    assert resp.status_code == 503 and resp.json()["code"] == "UNAVAILABLE"
    assert upstream.requests == 2  # the failed POST reached the function once, not twice
    upstream.fail = False
    assert requests.post(f"{base}/v1/images:generate", json={}, timeout=10).status_code == 200
