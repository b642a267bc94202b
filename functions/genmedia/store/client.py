"""The Firestore client with bounded retries and reconnects: an outage answers 503 in seconds.

google-cloud-firestore wraps every RPC with its own default retry (60 s for writes and
commits, 300 s for queries) and builds its gRPC channel without reconnect-backoff options
(gRPC's backoff then grows to 120 s, so functions stayed cut off ~20 s after a long outage
ended). The library has no public setting for either, so this module, and only this one,
uses its semi-private hooks; tests/unit/test_store_client.py fails if they change:

- ``FirestoreGrpcTransport._prep_wrapped_messages`` builds the per-method defaults; the
  subclass keeps each method's retry predicate and backoff (commit still never retries
  ABORTED: contention is retried by ``firestore.transactional``, not here) and caps its
  total time (``Retry.with_timeout``) and per-call timeout at the budget;
- ``Client._firestore_api`` is the lazy GAPIC client; the subclass builds it on a channel
  made here, with the library's own channel options plus bounded reconnect backoff.

Given the instance's Firestore breaker, every wrapped method also goes through it, around the
retry (store/circuit.py): during an outage further RPCs fail at once instead of each waiting
out the budget.

For a streamed query the timeout bounds the whole stream: every query in genmedia/store is a
page (``limit``), read in milliseconds, so a stream cut at the budget means an outage.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from google.cloud import firestore

    from genmedia.breaker import CircuitBreaker

# After a dependency comes back, a channel reconnects within this (gRPC's default is 120 s).
INITIAL_RECONNECT_BACKOFF_MS = 250
MAX_RECONNECT_BACKOFF_MS = 2000
CHANNEL_OPTIONS: tuple[tuple[str, int], ...] = (
    ("grpc.initial_reconnect_backoff_ms", INITIAL_RECONNECT_BACKOFF_MS),
    ("grpc.min_reconnect_backoff_ms", INITIAL_RECONNECT_BACKOFF_MS),
    ("grpc.max_reconnect_backoff_ms", MAX_RECONNECT_BACKOFF_MS),
    ("grpc.keepalive_time_ms", 30000),  # the library's own: idle connections stay usable
    ("grpc.max_send_message_length", -1),
    ("grpc.max_receive_message_length", -1),
    # Queries (server-streaming RunQuery) read their responses on the calling thread rather
    # than starting a channel spin thread per call: 0.3 ms less CPU per library page.
    ("SingleThreadedUnaryStream", 1),
)


def firestore_client(
    project_id: str,
    deadline_s: float,
    emulator_host: str | None,
    breaker: CircuitBreaker | None = None,
) -> firestore.Client:
    """A Firestore client whose every RPC gives up after ``deadline_s`` (retries included)
    and, given ``breaker``, is refused at once while it is open."""
    import grpc
    from google.api_core import gapic_v1
    from google.cloud import firestore
    from google.cloud.firestore_v1.services.firestore import FirestoreClient
    from google.cloud.firestore_v1.services.firestore.transports.grpc import (
        FirestoreGrpcTransport,
    )

    from genmedia.store.circuit import guarded

    wrap_method: Any = gapic_v1.method.wrap_method
    api_lock = threading.Lock()

    class BoundedTransport(FirestoreGrpcTransport):
        def _prep_wrapped_messages(self, client_info: Any) -> None:
            library_defaults: Any = super()._prep_wrapped_messages
            library_defaults(client_info)
            self._wrapped_methods = {
                method: guarded(
                    wrap_method(
                        method,
                        default_retry=_bounded(getattr(wrapped, "_retry", None), deadline_s),
                        default_timeout=deadline_s,
                        client_info=client_info,
                    ),
                    breaker,
                )
                for method, wrapped in self._wrapped_methods.items()
            }

    class BoundedClient(firestore.Client):
        def _emulator_channel(self, transport: Any) -> Any:
            # The library's hook for the emulator's channel (benchmarks wrap it to count RPCs).
            return grpc.insecure_channel(emulator_host, options=list(CHANNEL_OPTIONS))

        @property
        def _firestore_api(self) -> Any:
            if self._firestore_api_internal is None:
                with api_lock:
                    self._make_api()
            return self._firestore_api_internal

        def _make_api(self) -> None:
            # Once: a second channel made by a concurrent first request would replace the
            # first while its calls are in flight, and a streamed read on the calling thread
            # does not keep its channel alive ("Stream removed (Channel deallocated!)").
            if self._firestore_api_internal is None:
                if emulator_host is not None:
                    channel = self._emulator_channel(BoundedTransport)
                else:
                    channel = BoundedTransport.create_channel(
                        self._target, credentials=self._credentials, options=list(CHANNEL_OPTIONS)
                    )
                self._transport = BoundedTransport(
                    host=self._target, channel=channel, client_info=self._client_info
                )
                self._firestore_api_internal = FirestoreClient(
                    transport=self._transport, client_options=self._client_options
                )

    if emulator_host is None:
        return BoundedClient(project=project_id)
    from google.auth.credentials import AnonymousCredentials

    anonymous: Any = AnonymousCredentials
    return BoundedClient(project=project_id, credentials=anonymous())


def _bounded(retry: Any, deadline_s: float) -> Any:
    """``retry`` with its total time capped at ``deadline_s`` (None stays None)."""
    if retry is None:
        return None
    return retry.with_timeout(min(deadline_s, retry.timeout or deadline_s))
