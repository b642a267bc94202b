"""Idempotency-Key for POSTs that create or charge (IETF draft, Stripe semantics).

The first request with a key creates ``idempotency/{sha256(uid, key)}`` with a create-only
precondition, so of several parallel duplicates exactly one runs; the others get 409
IDEMPOTENCY_IN_PROGRESS until it completes and a replay of its stored response afterwards.
A record whose owner died mid-request (lease expired) is taken over with an update_time
precondition, so again only one taker wins. Records expire after the configured TTL.

Routes declare ``idempotent=True``; the router computes the fingerprint of the validated body
and runs the handler through ``IdempotencyGuard.run``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from genmedia.clock import Clock
from genmedia.errors import FieldError, IdempotencyInProgress, IdempotencyKeyReused, InvalidArgument
from genmedia.store.idempotency import IdempotencyRepository
from genmedia.store.records import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
LEASE = timedelta(minutes=5)  # longer than any generation, including retries


@dataclass(frozen=True)
class StoredResponse:
    """A completed response as it was sent: what a replay returns."""

    status: int
    body: str | None
    headers: dict[str, str] = field(default_factory=dict)


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def validate_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
        raise InvalidArgument(
            f"{HEADER} must be 1..{MAX_KEY_LENGTH} printable ASCII characters",
            errors=[FieldError(f"header.{HEADER}", "must be 1..255 printable ASCII characters")],
        )
    return key


def _doc_id(uid: str, key: str) -> str:
    return hashlib.sha256(f"{uid}\x00{key}".encode()).hexdigest()


def _in_progress() -> IdempotencyInProgress:
    return IdempotencyInProgress(
        f"A request with this {HEADER} is still being processed", retry_after=2
    )


class IdempotencyGuard:
    def __init__(self, records: IdempotencyRepository, clock: Clock, ttl: timedelta) -> None:
        self._records = records
        self._clock = clock
        self._ttl = ttl

    def run(
        self, uid: str, key: str, fp: str, work: Callable[[], StoredResponse]
    ) -> tuple[StoredResponse, bool]:
        """Run ``work`` at most once per (user, key): its response, and whether it is a replay."""
        doc_id = _doc_id(uid, validate_key(key))
        stored = self._claim(doc_id, uid, fp)
        if stored is not None:
            return stored, True
        try:
            response = work()
        except BaseException:
            # Failures keep nothing (charges are refunded), so the key is released and a retry
            # runs again; only completed responses are stored for replay.
            self._records.delete(doc_id)
            raise
        self._records.complete(doc_id, response.status, response.body or "", response.headers)
        return response, False

    def _claim(self, doc_id: str, uid: str, fp: str) -> StoredResponse | None:
        """Claim the key (None) or return the stored response to replay.

        Read first: a replay (the common retry) costs one read; a new key costs a read and a
        create-only write, and a create that loses a race is read again.
        """
        now = self._clock.now()
        record = IdempotencyRecord(
            uid, fp, "IN_PROGRESS", now, lease_expire_time=now + LEASE, expire_time=now + self._ttl
        )
        for _ in range(2):
            found = self._records.get(doc_id)
            if found is None:
                if self._records.create(doc_id, record):
                    return None
                continue  # claimed by a concurrent request just now: look at its record
            stored = self._existing(found[0], fp, now)
            if stored is not None:
                return stored
            # Expired, or its owner died mid-request: take it over, unless someone else just did.
            if self._records.replace(doc_id, record, found[1]):
                return None
            break
        raise _in_progress()

    @staticmethod
    def _existing(current: IdempotencyRecord, fp: str, now: datetime) -> StoredResponse | None:
        """The response to replay from a live record; None when the record may be taken over."""
        if current.expire_time <= now:
            return None
        if current.fingerprint != fp:
            raise IdempotencyKeyReused(f"This {HEADER} was used with a different request")
        if current.state == "COMPLETED":
            return StoredResponse(int(current.status or 200), current.body, current.headers)
        if current.lease_expire_time > now:
            raise _in_progress()
        return None
