"""The URL issuer's HTTP session reads its proxy settings once and never a netrc password."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from genmedia.url_issuer import HttpUrlIssuer


class Recorder(BaseHTTPRequestHandler):
    seen: list[tuple[str, str | None]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Recorder.seen.append((self.path, self.headers.get("Authorization")))
        body = json.dumps({"urls": {"a1": {"url": "u", "expire_time": "t"}}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Recorder.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_netrc_entry_for_the_host_never_replaces_the_callers_token(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login someone password secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    urls = HttpUrlIssuer(f"http://{server}").asset_urls("tok", "r1", ["a1"], ("original",))
    assert urls == {"a1": {"original": {"url": "u", "expire_time": "t"}}}
    assert Recorder.seen == [("/v1/assets:batchSignUrls", "Bearer tok")]


def test_a_proxy_from_the_environment_is_still_used(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The recorder stands in for the proxy: it receives the absolute URL of the real target.
    monkeypatch.setenv("HTTP_PROXY", f"http://{server}")
    for name in ("NO_PROXY", "no_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    target = "http://issuer.invalid"
    urls = HttpUrlIssuer(target).asset_urls("tok", "r1", ["a1"], ("original",))
    assert urls == {"a1": {"original": {"url": "u", "expire_time": "t"}}}
    assert Recorder.seen == [(f"{target}/v1/assets:batchSignUrls", "Bearer tok")]
