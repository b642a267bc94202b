"""Standard Webhooks v1 signatures, our own few lines.

``standardwebhooks`` is the reference implementation and the tests use it as the independent
verifier; it is not a runtime dependency, so a bug in one is caught by the other.

Signed content is ``"{msg_id}.{timestamp}.{body}"``; the key is the base64-decoded part of the
``whsec_`` secret; the header value is ``v1,<base64 HMAC-SHA256>``, several space-separated
while a secret is being rotated (receivers accept any one that matches).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as _random
from collections.abc import Iterable

PREFIX = "whsec_"
SECRET_BYTES = 32  # the conventions require at least 24
_MIN_KEY_BYTES = 24
_MAX_KEY_BYTES = 64


def new_secret() -> str:
    """A fresh ``whsec_<base64>`` secret; shown to the user once."""
    return PREFIX + base64.b64encode(_random.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret; ValueError if it is not one of ours."""
    if not secret.startswith(PREFIX):
        raise ValueError("webhook secret must start with whsec_")
    try:
        key = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("webhook secret is not valid base64") from None
    if not _MIN_KEY_BYTES <= len(key) <= _MAX_KEY_BYTES:
        raise ValueError("webhook secret must hold 24 to 64 bytes")
    return key


def _signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def _check_parts(msg_id: str, timestamp: int) -> None:
    # A "." or space in the id would make the signed content or the header ambiguous.
    if not msg_id or any(c in msg_id for c in ". ,") or not msg_id.isprintable():
        raise ValueError("webhook id must be non-empty, printable, without '.', ',' or spaces")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise ValueError("webhook timestamp must be non-negative unix seconds (int)")


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one secret."""
    _check_parts(msg_id, timestamp)
    return _signature(secret_key(secret), msg_id, timestamp, body)


def sign_all(secrets: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The header value with one signature per secret (old and new while rotating)."""
    values = [sign(s, msg_id, timestamp, body) for s in secrets]
    if not values:
        raise ValueError("at least one webhook secret is required")
    return " ".join(values)


def verify(
    secret: str, msg_id: str, timestamp: int, body: bytes, header: str, *, now: int, tolerance: int
) -> bool:
    """True if any v1 signature in ``header`` matches and ``timestamp`` is within ``tolerance``
    seconds of ``now``. For our own tests and receivers; senders only sign."""
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, msg_id, timestamp, body).encode("ascii")
    found = False
    for candidate in header.split(" "):
        # Compare every candidate so timing does not reveal which position matched.
        found |= hmac.compare_digest(expected, candidate.encode("ascii", "replace"))
    return found
