"""The local scheduler delivers Pub/Sub messages as Eventarc does: binary-mode CloudEvents."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cloudevents.http import from_http

from infra.local.scheduler import EVENT_TYPE, Scheduler


class _Sink(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.arrived = threading.Event()


class _Handler(BaseHTTPRequestHandler):
    server: _Sink

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((dict(self.headers.items()), body))
        self.server.arrived.set()
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def sink() -> Iterator[_Sink]:
    server = _Sink()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_scheduled_events_are_pubsub_cloudevents(sink: _Sink) -> None:
    url = f"http://127.0.0.1:{sink.server_address[1]}/"
    scheduler = Scheduler("demo-project", [(url, "purge-assets")], interval=0.05)
    scheduler.start()
    try:
        assert sink.arrived.wait(5), "no event delivered"
    finally:
        scheduler.stop()
    headers, body = sink.received[0]
    event = from_http(headers, body)  # the CloudEvents SDK functions-framework uses
    assert event["type"] == EVENT_TYPE
    assert event["source"] == "//pubsub.googleapis.com/projects/demo-project/topics/purge-assets"
    message = event.data["message"]
    assert json.loads(base64.b64decode(message["data"])) == {"trigger": "local-scheduler"}
    assert message["messageId"] == event["id"]


def test_a_stopped_scheduler_posts_nothing_more(sink: _Sink) -> None:
    url = f"http://127.0.0.1:{sink.server_address[1]}/"
    scheduler = Scheduler("demo-project", [(url, "t")], interval=0.05)
    scheduler.start()
    assert sink.arrived.wait(5)
    scheduler.stop()
    count = len(sink.received)
    sink.arrived.clear()
    assert not sink.arrived.wait(0.3)
    assert len(sink.received) == count
