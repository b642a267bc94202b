"""The Firestore client's bounded budgets (genmedia/store/client.py). These tests also fail if
the semi-private library hooks that module relies on change shape."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from google.api_core import exceptions

from genmedia.store.client import MAX_RECONNECT_BACKOFF_MS, firestore_client


@pytest.fixture
def closed_port() -> Iterator[str]:
    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{sock.getsockname()[1]}"


RPCS = ("get_document", "batch_get_documents", "run_query", "begin_transaction", "commit")


def _wrapped(client: Any) -> dict[str, Any]:
    """The library's per-call defaults of the RPCs the store uses, by name."""
    transport = client._firestore_api._transport
    methods: dict[Any, Any] = transport._wrapped_methods
    assert len(methods) > len(RPCS)
    return {"*": methods.values()} | {name: methods[getattr(transport, name)] for name in RPCS}


def test_every_rpc_is_capped_at_the_budget_and_keeps_its_predicate(closed_port: str) -> None:
    client = firestore_client("demo-genmedia", 2.0, closed_port)
    wrapped = _wrapped(client)
    for method in wrapped["*"]:
        assert method._timeout == 2.0
        assert method._retry is None or method._retry.timeout == 2.0
    assert wrapped["get_document"]._retry._predicate(exceptions.ServiceUnavailable("down"))
    commit = wrapped["commit"]._retry
    assert commit._predicate(exceptions.ServiceUnavailable("down"))
    # Contention is retried by firestore.transactional (a new attempt), never by the RPC.
    assert not commit._predicate(exceptions.Aborted("contention"))


def test_the_channel_reconnects_with_bounded_backoff(
    monkeypatch: pytest.MonkeyPatch, closed_port: str
) -> None:
    import grpc

    seen: list[list[tuple[str, int]]] = []
    real = grpc.insecure_channel

    def recording(target: str, options: list[tuple[str, int]]) -> grpc.Channel:
        seen.append(options)
        return real(target, options=options)

    monkeypatch.setattr(grpc, "insecure_channel", recording)
    firestore_client("demo-genmedia", 2.0, closed_port)._firestore_api  # noqa: B018
    [options] = seen
    assert ("grpc.max_reconnect_backoff_ms", MAX_RECONNECT_BACKOFF_MS) in options
    assert dict(options)["grpc.max_reconnect_backoff_ms"] <= 5000


def test_a_read_against_an_unreachable_firestore_gives_up(closed_port: str) -> None:
    client = firestore_client("demo-genmedia", 0.5, closed_port)
    with pytest.raises((exceptions.RetryError, exceptions.ServiceUnavailable)):
        client.collection("assets").document("a").get()
    with pytest.raises((exceptions.RetryError, exceptions.ServiceUnavailable)):
        list(client.collection("assets").limit(1).stream())


def test_hooks_exist_in_the_installed_library() -> None:
    from google.cloud import firestore
    from google.cloud.firestore_v1.services.firestore.transports.grpc import (
        FirestoreGrpcTransport,
    )

    assert callable(FirestoreGrpcTransport._prep_wrapped_messages)
    assert isinstance(firestore.Client.__dict__["_firestore_api"], property)
    assert firestore.Client._firestore_api_internal is None  # the lazy slot we fill


def test_a_transaction_that_cannot_begin_reports_the_outage(closed_port: str) -> None:
    from genmedia.store.transactions import run_transaction

    client = firestore_client("demo-genmedia", 0.5, closed_port)
    doc = client.collection("usage").document("u")
    # Not the library's "no transaction ID" ValueError from its rollback: that would be a 500.
    with pytest.raises(exceptions.RetryError):
        run_transaction(client, lambda txn: doc.get(transaction=txn))


def test_streamed_reads_run_on_the_calling_thread(closed_port: str) -> None:
    import grpc.experimental

    from genmedia.store.client import CHANNEL_OPTIONS

    # The option's name is what gRPC matches; without it every query and batch get starts a
    # channel spin thread (twice the CPU of a library page).
    assert (grpc.experimental.ChannelOptions.SingleThreadedUnaryStream, 1) in CHANNEL_OPTIONS
    channel = firestore_client("demo-genmedia", 2.0, closed_port)._firestore_api._transport
    assert channel.grpc_channel._single_threaded_unary_stream is True


def test_concurrent_first_requests_share_one_channel(closed_port: str) -> None:
    # A cold instance's first requests arrive together. A second channel would replace the
    # first while its streamed reads are in flight, and those run on the calling thread
    # without keeping their channel alive: "Stream removed (Channel deallocated!)", a 500.
    import sys
    import threading

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible while they race
    apis: list[object] = []
    try:
        for _ in range(5):
            client = firestore_client("demo-genmedia", 2.0, closed_port)
            start = threading.Barrier(8)

            def first_request(c: Any = client, b: threading.Barrier = start) -> None:
                b.wait()
                apis.append(c._firestore_api)

            threads = [threading.Thread(target=first_request) for _ in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert len({id(api) for api in apis}) == 1
            apis.clear()
    finally:
        sys.setswitchinterval(interval)
