"""One webhook delivery attempt: re-vet the URL, POST to the vetted address, report.

The standard library (``http.client`` + ``ssl``) makes the connection because the address we
connect to must be the one :func:`~genmedia.webhooks.ssrf.check_url` vetted: a second lookup
between check and connect is exactly the window DNS rebinding uses. ``http.client`` lets us
open the socket ourselves (to the IP) while the Host header, TLS SNI and certificate check use
the original name; requests/urllib3 resolve the name themselves and only offer pinning through
transport-adapter internals. It also never follows redirects, which we must not.

``http.client`` timeouts apply per socket operation, so a server dripping a byte every few
seconds could hold an attempt for minutes; a watchdog shuts the socket down at the deadline
to make ``timeout`` the total.

The retry schedule, storage of the attempt and disabling endpoints belong to the caller;
``DeliveryResult`` says what happened and whether another attempt can help.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from genmedia.webhooks.ssrf import Resolver, Target, UnsafeWebhookUrl, check_url

TIMEOUT_S = 15.0
MAX_RESPONSE_BYTES = 4096  # enough of the body for the "last attempt" record


@dataclass(frozen=True)
class DeliveryResult:
    status: int | None  # None when no HTTP response arrived
    ok: bool  # 2xx
    gone: bool  # 410: the receiver asks us to stop (disable the endpoint)
    retry: bool  # another attempt may succeed
    error: str | None  # short, safe to show the endpoint's owner
    duration_ms: int
    response_body: str = ""  # at most MAX_RESPONSE_BYTES, decoded leniently


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Host header from ``host``; the TCP connection to ``address`` and nowhere else."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    def __init__(
        self, host: str, port: int, *, address: str, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, address=address, timeout=timeout)
        self._context = context

    def connect(self) -> None:
        super().connect()
        # SNI and certificate verification against the name the user registered, not the IP.
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.host)


class _Watchdog:
    """Shuts the connection's socket down when the total deadline passes."""

    def __init__(self, conn: http.client.HTTPConnection, seconds: float) -> None:
        self.fired = False
        self._conn = conn
        self._timer = threading.Timer(max(seconds, 0.0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        sock = self._conn.sock
        if sock is not None:
            # The plain-socket method, also for an SSLSocket: unblocks the reader without
            # touching TLS state another thread is using.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


def deliver(
    target_url: str,
    *,
    body: bytes,
    headers: Mapping[str, str],
    resolver: Resolver,
    allow_loopback_http: bool,
    timeout: float = TIMEOUT_S,
    ssl_context: ssl.SSLContext | None = None,
) -> DeliveryResult:
    """POST ``body`` to ``target_url`` once. Never raises for anything the receiver or the
    network does; ``ssl_context`` is for tests (a private CA) and defaults to the system's."""
    started = time.monotonic()
    try:
        target = check_url(target_url, allow_loopback_http=allow_loopback_http, resolver=resolver)
    except UnsafeWebhookUrl as exc:
        # Unresolvable may be transient; a refused address is refused again next time.
        return _failure(started, str(exc.detail), retry=exc.reason == "unresolvable")
    context = ssl_context or _default_context()
    try:
        status, excerpt = _post(target, body, headers, started + timeout, context)
    except _DeliveryError as exc:
        return _failure(started, str(exc), retry=True)
    return _result(started, status, excerpt)


@functools.cache
def _default_context() -> ssl.SSLContext:
    # Loading the CA store costs milliseconds; one context serves every thread.
    return ssl.create_default_context()


class _DeliveryError(Exception):
    """No HTTP response; the message is safe to store and show."""


def _post(
    target: Target,
    body: bytes,
    headers: Mapping[str, str],
    deadline: float,
    context: ssl.SSLContext,
) -> tuple[int, bytes]:
    last: _DeliveryError | None = None
    for address in target.addresses:  # in resolver order; the next one if one cannot connect
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        conn = _connection(target, address, remaining, context)
        watchdog = _Watchdog(conn, remaining)
        try:
            conn.connect()
        except (OSError, http.client.HTTPException) as exc:
            last = _describe(exc, watchdog.fired)
            watchdog.cancel()
            conn.close()
            continue
        try:
            return _exchange(conn, target, body, headers, watchdog)
        finally:
            watchdog.cancel()
            conn.close()
    raise last or _DeliveryError("timeout")


def _connection(
    target: Target, address: str, timeout: float, context: ssl.SSLContext
) -> http.client.HTTPConnection:
    if target.scheme == "https":
        return _PinnedHTTPSConnection(
            target.host, target.port, address=address, timeout=timeout, context=context
        )
    return _PinnedHTTPConnection(target.host, target.port, address=address, timeout=timeout)


def _exchange(
    conn: http.client.HTTPConnection,
    target: Target,
    body: bytes,
    headers: Mapping[str, str],
    watchdog: _Watchdog,
) -> tuple[int, bytes]:
    try:
        conn.request("POST", target.path, body=body, headers=dict(headers))
        response = conn.getresponse()
        excerpt = response.read(MAX_RESPONSE_BYTES)
    except (OSError, http.client.HTTPException) as exc:
        raise _describe(exc, watchdog.fired) from None
    return response.status, excerpt


def _describe(exc: BaseException, deadline_passed: bool) -> _DeliveryError:
    # Messages name the failure, never an address: the record is shown to the endpoint owner.
    if deadline_passed or isinstance(exc, TimeoutError):
        return _DeliveryError("timeout")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _DeliveryError(f"tls certificate not accepted: {exc.verify_message}")
    if isinstance(exc, ssl.SSLError):
        return _DeliveryError(f"tls handshake failed: {exc.reason or type(exc).__name__}")
    if isinstance(exc, ConnectionRefusedError):
        return _DeliveryError("connection refused")
    if isinstance(exc, http.client.HTTPException | ConnectionError):
        return _DeliveryError(f"connection failed: {type(exc).__name__}")
    return _DeliveryError(f"network error: {type(exc).__name__}")


def _result(started: float, status: int, excerpt: bytes) -> DeliveryResult:
    ok = 200 <= status < 300
    gone = status == 410
    if ok:
        error = None
    elif 300 <= status < 400:
        error = f"HTTP {status}: redirects are not followed"
    else:
        error = f"HTTP {status}"
    return DeliveryResult(
        status=status,
        ok=ok,
        gone=gone,
        retry=not ok and not gone,
        error=error,
        duration_ms=_elapsed_ms(started),
        response_body=excerpt.decode("utf-8", "replace"),
    )


def _failure(started: float, error: str, *, retry: bool) -> DeliveryResult:
    return DeliveryResult(
        status=None,
        ok=False,
        gone=False,
        retry=retry,
        error=error,
        duration_ms=_elapsed_ms(started),
    )


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
