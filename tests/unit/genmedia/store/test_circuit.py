"""Firestore's circuit breaker (genmedia/store/circuit.py) around every RPC of the bounded
client: real UNAVAILABLE failures from an unreachable port, a fake clock for the cool-down,
and the RPCs that actually left the process counted on the channel."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.api_core import exceptions

from genmedia import errors
from genmedia.bootstrap import Deps
from genmedia.breaker import CircuitBreaker
from genmedia.http.problem import to_genmedia_error
from genmedia.store.circuit import firestore_breaker, guarded, is_outage
from genmedia.store.client import firestore_client
from genmedia.store.transactions import run_transaction
from tests.fakes.clock import FakeClock
from tests.unit._helpers import make_settings

RESET_S = 1.0


@pytest.fixture
def closed_port() -> Iterator[str]:
    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{sock.getsockname()[1]}"


class Attempts(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
):
    """Counts the RPC attempts that reach the channel (each retry is one more)."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def _seen(self) -> None:
        with self._lock:
            self.count += 1

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        self._seen()
        return continuation(details, request)

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        self._seen()
        return continuation(details, request)


def counted_client(address: str, breaker: CircuitBreaker) -> tuple[Any, Attempts]:
    client: Any = firestore_client("demo-genmedia", 0.3, address, breaker)
    attempts, plain = Attempts(), client._emulator_channel
    client._emulator_channel = lambda transport: grpc.intercept_channel(plain(transport), attempts)
    return client, attempts


def read(client: Any) -> None:
    client.collection("assets").document("a").get()


def test_once_firestore_failed_further_rpcs_are_refused_without_leaving_the_process(
    closed_port: str,
) -> None:
    clock = FakeClock()
    breaker = firestore_breaker(1, RESET_S, clock)
    client, attempts = counted_client(closed_port, breaker)
    with pytest.raises(exceptions.RetryError):
        read(client)  # a real outage: the whole budget spent retrying UNAVAILABLE
    assert breaker.state == "open" and attempts.count >= 1
    before = attempts.count

    doc = client.collection("usage").document("u")
    with pytest.raises(exceptions.ServiceUnavailable, match="circuit open"):
        read(client)
    with pytest.raises(exceptions.ServiceUnavailable, match="circuit open"):
        list(client.collection("assets").limit(1).stream())  # RunQuery
    with pytest.raises(exceptions.ServiceUnavailable, match="circuit open"):
        doc.set({"images": 1})  # Commit
    # A transaction refused at BeginTransaction reports the outage (a 503), not the
    # library's "no transaction ID" ValueError from its rollback (a 500).
    with pytest.raises(exceptions.ServiceUnavailable, match="circuit open"):
        run_transaction(client, lambda txn: doc.get(transaction=txn))
    assert attempts.count == before
    assert breaker.snapshot()["rejected_calls"] == 4


def test_after_the_cool_down_one_rpc_probes_and_a_failed_probe_reopens(closed_port: str) -> None:
    clock = FakeClock()
    breaker = firestore_breaker(1, RESET_S, clock)
    client, attempts = counted_client(closed_port, breaker)
    with pytest.raises(exceptions.RetryError):
        read(client)
    clock.advance(RESET_S)
    assert breaker.state == "half_open"
    before = attempts.count
    with pytest.raises(exceptions.RetryError):
        read(client)  # the probe goes to Firestore, which is still down
    assert attempts.count > before
    assert breaker.snapshot()["state"] == "open"
    assert breaker.snapshot()["open_remaining_s"] == RESET_S


def test_a_refusal_is_the_503_an_outage_answers_with_retry_after() -> None:
    clock = FakeClock()
    breaker = firestore_breaker(1, 3.0, clock)
    with pytest.raises(exceptions.RetryError):
        breaker.call(lambda: _raise(exceptions.RetryError("timeout", _unavailable())))
    with pytest.raises(exceptions.ServiceUnavailable) as refused:
        breaker.call(lambda: "never called")
    err, _ = to_genmedia_error(refused.value)
    assert isinstance(err, errors.Unavailable)
    assert (err.status, err.code) == (503, "UNAVAILABLE") and err.retry_after


def _unavailable() -> exceptions.ServiceUnavailable:
    return exceptions.ServiceUnavailable("down")


def _raise(exc: Exception) -> Any:
    raise exc


ANSWERS = (
    exceptions.NotFound("no such document"),
    exceptions.AlreadyExists("create-only"),
    exceptions.Aborted("contention"),
    exceptions.FailedPrecondition("stale update_time"),
    exceptions.InvalidArgument("bad query"),
)


@pytest.mark.parametrize("answer", ANSWERS, ids=lambda e: type(e).__name__)
def test_firestore_answering_an_error_is_not_an_outage(answer: Exception) -> None:
    breaker = firestore_breaker(2, RESET_S, FakeClock())
    with pytest.raises(exceptions.RetryError):
        breaker.call(lambda: _raise(exceptions.RetryError("timeout", _unavailable())))
    for _ in range(3):
        with pytest.raises(type(answer)):
            breaker.call(lambda: _raise(answer))
    # An answer proves Firestore is up: the streak starts again.
    assert breaker.snapshot()["consecutive_failures"] == 0
    assert not is_outage(answer)
    assert not is_outage(exceptions.RetryError("gave up", answer))


def test_what_counts_as_an_outage() -> None:
    assert is_outage(_unavailable())
    assert is_outage(exceptions.DeadlineExceeded("slow"))
    assert is_outage(exceptions.RetryError("timeout", exceptions.DeadlineExceeded("slow")))
    assert not is_outage(exceptions.RetryError("timeout", None))
    assert not is_outage(ValueError("a bug"))


class FakeStream:
    """A server stream cut after its first response (what api_core hands back)."""

    def __init__(self, cut: Exception) -> None:
        self._items = iter(["first"])
        self._cut = cut
        self.cancelled = False

    def __iter__(self) -> FakeStream:
        return self

    def __next__(self) -> str:
        for item in self._items:
            return item
        raise self._cut

    def cancel(self) -> None:
        self.cancelled = True


def test_a_stream_cut_while_being_read_counts_as_a_failure() -> None:
    breaker = firestore_breaker(1, RESET_S, FakeClock())
    stream = FakeStream(_unavailable())
    responses = guarded(lambda **_: stream, breaker)(request="q")
    assert next(responses) == "first"
    assert breaker.state == "closed"  # the call itself succeeded
    with pytest.raises(exceptions.ServiceUnavailable):
        next(responses)
    assert breaker.state == "open"
    responses.cancel()  # the call's own methods stay reachable
    assert stream.cancelled


def test_a_stream_answering_an_error_while_read_does_not_count() -> None:
    breaker = firestore_breaker(1, RESET_S, FakeClock())
    responses = guarded(lambda: FakeStream(exceptions.InvalidArgument("bad")), breaker)()
    assert next(iter(responses)) == "first"
    with pytest.raises(exceptions.InvalidArgument):
        next(responses)
    assert breaker.state == "closed"


def test_a_guarded_method_keeps_the_budget_it_wraps(closed_port: str) -> None:
    breaker = firestore_breaker(1, RESET_S, FakeClock())
    client: Any = firestore_client("demo-genmedia", 2.0, closed_port, breaker)
    transport = client._firestore_api._transport
    for method in transport._wrapped_methods.values():
        assert method._timeout == 2.0
        assert method._retry is None or method._retry.timeout == 2.0


def test_the_instance_wires_its_breaker_from_settings_and_reports_it(closed_port: str) -> None:
    settings = make_settings(
        FIRESTORE_EMULATOR_HOST=closed_port,
        GENMEDIA_BACKEND_DEADLINE_SECONDS="0.3",
        GENMEDIA_FIRESTORE_BREAKER_FAILURE_THRESHOLD="2",
        GENMEDIA_FIRESTORE_BREAKER_RESET_SECONDS="7",
    )
    deps = Deps(settings, clock=FakeClock())
    assert deps.breakers.states()["firestore"]["state"] == "closed"
    for _ in range(2):
        with pytest.raises(exceptions.RetryError):
            deps.database.users.get("u")
    report = deps.breakers.states()["firestore"]
    assert report["state"] == "open" and report["open_remaining_s"] == 7.0
