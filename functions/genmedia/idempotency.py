"""Idempotency-Key for POSTs that create or charge (IETF draft, Stripe semantics).

The first request with a key creates ``idempotency/{sha256(uid, key)}`` with a create-only
precondition, so of several parallel duplicates exactly one runs; the others get 409
IDEMPOTENCY_IN_PROGRESS until it completes and a replay of its stored response afterwards.
A record whose owner died mid-request (lease expired) is taken over with an update_time
precondition, so again only one taker wins. Records expire after the configured TTL
(``expire_time`` is the Firestore TTL field; reads filter on it too, as TTL deletion lags).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from genmedia.errors import FieldError, IdempotencyInProgress, IdempotencyKeyReused, InvalidArgument
from genmedia.http import Response

if TYPE_CHECKING:
    from google.cloud import firestore

COLLECTION = "idempotency"
HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
LEASE = timedelta(minutes=5)  # longer than any generation, including retries


@dataclass(frozen=True)
class Claim:
    ref: firestore.DocumentReference
    fingerprint: str


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


def _replay(doc: dict[str, Any]) -> Response:
    headers = dict(doc.get("headers") or {})
    headers["Idempotent-Replayed"] = "true"
    return Response(json.loads(doc["body"]), status=int(doc["status"]), headers=headers)


def begin(
    db: firestore.Client, uid: str, key: str, fp: str, now: datetime, ttl: timedelta
) -> Claim | Response:
    """Claim the key (returns a Claim) or return the stored response to replay."""
    from google.api_core import exceptions

    ref = db.collection(COLLECTION).document(_doc_id(uid, key))
    record = {
        "uid": uid,
        "fingerprint": fp,
        "state": "IN_PROGRESS",
        "create_time": now,
        "lease_expire_time": now + LEASE,
        "expire_time": now + ttl,
    }
    try:
        ref.create(record)
        return Claim(ref, fp)
    except exceptions.AlreadyExists:
        pass
    snap = ref.get()
    doc = snap.to_dict() or {}
    expired = not snap.exists or doc["expire_time"] <= now
    if not expired and doc["fingerprint"] != fp:
        raise IdempotencyKeyReused(f"This {HEADER} was used with a different request")
    if not expired and doc["state"] == "COMPLETED":
        return _replay(doc)
    if not expired and doc["lease_expire_time"] > now:
        raise IdempotencyInProgress(
            f"A request with this {HEADER} is still being processed", headers={"Retry-After": "2"}
        )
    return _take_over(db, ref, snap, record)


def _take_over(
    db: firestore.Client, ref: firestore.DocumentReference, snap: Any, record: dict[str, Any]
) -> Claim:
    from google.api_core import exceptions

    try:
        if snap.exists:
            ref.update(record, option=db.write_option(last_update_time=snap.update_time))
        else:
            ref.create(record)
    except (exceptions.FailedPrecondition, exceptions.AlreadyExists) as exc:
        raise IdempotencyInProgress(
            f"A request with this {HEADER} is still being processed", headers={"Retry-After": "2"}
        ) from exc
    return Claim(ref, record["fingerprint"])


def finish(claim: Claim, response: Response, body: dict[str, Any]) -> None:
    """Store the completed response for replay (rate-limit headers describe the moment, not it)."""
    headers = {k: v for k, v in response.headers.items() if not k.lower().startswith("ratelimit")}
    claim.ref.update(
        {
            "state": "COMPLETED",
            "status": response.status,
            "body": json.dumps(body, separators=(",", ":")),
            "headers": headers,
        }
    )


def run_idempotent(
    db: firestore.Client,
    uid: str,
    key: str | None,
    fp: str,
    now: datetime,
    ttl: timedelta,
    work: Callable[[], tuple[Response, dict[str, Any]]],
) -> Response:
    """Run ``work`` at most once per (user, key); it returns the response and its JSON body."""
    if key is None:
        return work()[0]
    claim = begin(db, uid, validate_key(key), fp, now, ttl)
    if isinstance(claim, Response):
        return claim
    try:
        response, body = work()
    except BaseException:
        # Failures keep nothing (charges are refunded), so the key is released and a retry runs
        # again; only completed responses are stored for replay.
        claim.ref.delete()
        raise
    finish(claim, response, body)
    return response
