"""Delivery against real local servers on 127.0.0.1 (plain and TLS with a CA made here). Every
resolver is a fake, so no packet leaves 127.0.0.0/8; the URLs use public-looking names to show
that the connection goes to the vetted address and the name is only used for Host/SNI/cert."""

from __future__ import annotations

import datetime as dt
import http.server
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from standardwebhooks import Webhook

from genmedia.webhooks.delivery import MAX_RESPONSE_BYTES, DeliveryResult, deliver
from genmedia.webhooks.events import delivery_headers, event_body
from genmedia.webhooks.signing import new_secret
from genmedia.webhooks.ssrf import check_url

NAME = "hooks.example.com"
PUBLIC = "93.184.216.34"  # only ever an answer of a fake resolver, never connected to


class SequenceResolver:
    """Answers with the next list on every call (the last one repeats); counts calls."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.calls = 0

    def resolve(self, host: str, port: int) -> list[str]:
        self.calls += 1
        return self.answers[min(self.calls, len(self.answers)) - 1]


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Server:
    port: int
    hits: list[Hit] = field(default_factory=list)
    sni: list[str | None] = field(default_factory=list)
    redirect_to: str = ""


class Handler(http.server.BaseHTTPRequestHandler):
    server: _HTTPServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.record.hits.append(Hit(self.path, dict(self.headers.items()), body))
        action = self.path.strip("/").split("?")[0]
        if action == "slow":
            time.sleep(1.5)
        if action == "drip":
            return self._drip()
        status = {"fail": 500, "gone": 410, "redirect": 302, "bad": 400}.get(action, 200)
        payload = b"x" * (100 * 1024) if action == "big" else b"thanks"
        self.send_response(status)
        if action == "redirect":
            self.send_header("Location", self.server.record.redirect_to)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _drip(self) -> None:
        # Headers one byte at a time, each well within any per-read timeout.
        with_headers = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 40
        for byte in with_headers:
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(0.05)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _HTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    record: Server


def serve(context: ssl.SSLContext | None = None) -> Iterator[Server]:
    httpd = _HTTPServer(("127.0.0.1", 0), Handler)
    httpd.record = Server(httpd.server_address[1])
    if context is not None:
        context.sni_callback = lambda _sock, name, _ctx: httpd.record.sni.append(name)
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield httpd.record
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def server() -> Iterator[Server]:
    yield from serve()


@pytest.fixture
def other_server() -> Iterator[Server]:
    yield from serve()


@dataclass(frozen=True)
class Pki:
    ca_file: Path
    cert_file: Path
    key_file: Path

    def client(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))


def _builder(subject: str, issuer: str, key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
    )


def make_pki(directory: Path, server_name: str) -> Pki:
    """A CA and a leaf certificate for ``server_name`` signed by it."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    ca_usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
    ca = (
        _builder("GenMedia test CA", "GenMedia test CA", ca_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(ca_usage, critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        _builder(server_name, "GenMedia test CA", leaf_key)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(server_name)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pki = Pki(directory / "ca.pem", directory / "leaf.pem", directory / "leaf.key")
    pki.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pki.cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    pem = serialization.PrivateFormat.PKCS8
    pki.key_file.write_bytes(
        leaf_key.private_bytes(serialization.Encoding.PEM, pem, serialization.NoEncryption())
    )
    return pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"), NAME)


def tls_server(pki: Pki) -> Iterator[Server]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.cert_file, pki.key_file)
    yield from serve(context)


@pytest.fixture
def https_server(pki: Pki) -> Iterator[Server]:
    yield from tls_server(pki)


def post(
    url: str,
    resolver: SequenceResolver,
    *,
    loopback: bool = True,
    timeout: float = 5.0,
    context: ssl.SSLContext | None = None,
    body: bytes = b"{}",
    headers: dict[str, str] | None = None,
) -> DeliveryResult:
    return deliver(
        url,
        body=body,
        headers=headers or {"content-type": "application/json"},
        resolver=resolver,
        allow_loopback_http=loopback,
        timeout=timeout,
        ssl_context=context,
    )


def loopback() -> SequenceResolver:
    return SequenceResolver(["127.0.0.1"])


def test_2xx_is_ok_and_the_request_verifies_end_to_end(server: Server) -> None:
    secret = new_secret()
    body = event_body(
        "job.succeeded", {"id": "job_1"}, event_id="evt_1", timestamp=dt.datetime.now(dt.UTC)
    )
    headers = delivery_headers([secret], "evt_1", int(time.time()), body)
    result = post(f"http://{NAME}:{server.port}/ok?x=1", loopback(), body=body, headers=headers)
    assert (result.status, result.ok, result.gone, result.retry, result.error) == (
        200, True, False, False, None,
    )  # fmt: skip
    assert result.response_body == "thanks" and result.duration_ms >= 0
    [hit] = server.hits
    assert hit.path == "/ok?x=1" and hit.body == body
    assert hit.headers["Host"] == f"{NAME}:{server.port}"
    assert hit.headers["user-agent"] == "GenMedia-Webhooks/1"
    assert Webhook(secret).verify(hit.body, hit.headers)["data"] == {"id": "job_1"}


@pytest.mark.parametrize(
    ("path", "status", "gone", "retry"),
    [("fail", 500, False, True), ("bad", 400, False, True), ("gone", 410, True, False)],
)
def test_failures_say_whether_to_retry(
    server: Server, path: str, status: int, gone: bool, retry: bool
) -> None:
    result = post(f"http://{NAME}:{server.port}/{path}", loopback())
    assert (result.status, result.ok, result.gone, result.retry) == (status, False, gone, retry)
    assert result.error == f"HTTP {status}"


def test_redirects_are_not_followed(server: Server, other_server: Server) -> None:
    server.redirect_to = f"http://127.0.0.1:{other_server.port}/ok"
    result = post(f"http://{NAME}:{server.port}/redirect", loopback())
    assert (result.status, result.ok, result.retry) == (302, False, True)
    assert result.error == "HTTP 302: redirects are not followed"
    assert len(server.hits) == 1 and other_server.hits == []


def test_only_a_bounded_part_of_the_response_is_read(server: Server) -> None:
    result = post(f"http://{NAME}:{server.port}/big", loopback())
    assert result.ok and len(result.response_body) == MAX_RESPONSE_BYTES


def test_a_slow_server_times_out_and_is_retried(server: Server) -> None:
    result = post(f"http://{NAME}:{server.port}/slow", loopback(), timeout=0.3)
    assert (result.status, result.ok, result.retry, result.error) == (None, False, True, "timeout")
    assert result.duration_ms < 1000


def test_the_timeout_is_total_even_when_bytes_keep_trickling(server: Server) -> None:
    started = time.monotonic()
    result = post(f"http://{NAME}:{server.port}/drip", loopback(), timeout=0.5)
    assert (result.status, result.retry, result.error) == (None, True, "timeout")
    assert time.monotonic() - started < 1.2  # the drip alone would take about 2 s


def test_connection_refused_is_retried() -> None:
    port = _free_port()
    result = post(f"http://{NAME}:{port}/ok", loopback())
    assert (result.status, result.retry, result.error) == (None, True, "connection refused")


def test_the_next_vetted_address_is_tried_when_one_does_not_connect(server: Server) -> None:
    # Nothing listens on 127.0.0.2 (the server is bound to 127.0.0.1 only).
    resolver = SequenceResolver(["127.0.0.2", "127.0.0.1"])
    assert post(f"http://{NAME}:{server.port}/ok", resolver).ok
    assert len(server.hits) == 1


def test_a_name_rebound_to_loopback_after_registration_is_refused(
    https_server: Server, pki: Pki
) -> None:
    url = f"https://{NAME}:{https_server.port}/ok"
    resolver = SequenceResolver([PUBLIC], ["127.0.0.1"])
    check_url(url, allow_loopback_http=False, resolver=resolver)  # registration: public, fine
    result = post(url, resolver, loopback=False, context=pki.client())
    assert (result.status, result.ok, result.retry) == (None, False, False)
    assert result.error == "webhook URL host resolves to a non-public address"
    assert https_server.hits == [] and https_server.sni == []


def test_unresolvable_at_delivery_is_retried() -> None:
    result = post(f"https://{NAME}/ok", SequenceResolver([]), loopback=False)
    assert (result.status, result.retry) == (None, True)
    assert result.error == "webhook URL host could not be resolved"


def test_the_connection_goes_to_the_vetted_address_without_a_second_lookup(server: Server) -> None:
    # A second lookup would get 127.0.0.2, where nothing listens: the hit proves the pin.
    resolver = SequenceResolver(["127.0.0.1"], ["127.0.0.2"])
    assert post(f"http://{NAME}:{server.port}/ok", resolver).ok
    assert resolver.calls == 1 and len(server.hits) == 1


def test_https_connects_to_the_ip_with_sni_and_certificate_of_the_name(
    https_server: Server, pki: Pki
) -> None:
    resolver = SequenceResolver(["127.0.0.1"], ["127.0.0.2"])
    result = post(f"https://{NAME}:{https_server.port}/ok", resolver, context=pki.client())
    assert result.ok, result.error
    assert resolver.calls == 1 and https_server.sni == [NAME]
    assert https_server.hits[0].headers["Host"] == f"{NAME}:{https_server.port}"


def test_https_refuses_a_certificate_for_another_name(https_server: Server, pki: Pki) -> None:
    url = f"https://other.example.com:{https_server.port}/ok"
    result = post(url, loopback(), context=pki.client())
    assert (result.status, result.retry) == (None, True)
    assert result.error is not None and result.error.startswith("tls certificate not accepted")
    assert "mismatch" in result.error and https_server.hits == []


def test_https_uses_the_system_trust_store_by_default(https_server: Server) -> None:
    result = post(f"https://{NAME}:{https_server.port}/ok", loopback())
    assert result.error is not None and result.error.startswith("tls certificate not accepted")
    assert https_server.hits == []


def test_plain_http_is_refused_in_production_before_any_connection(server: Server) -> None:
    result = post(f"http://{NAME}:{server.port}/ok", loopback(), loopback=False)
    assert (result.ok, result.retry, result.status) == (False, False, None)
    assert result.error == "webhook URL must use https" and server.hits == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
