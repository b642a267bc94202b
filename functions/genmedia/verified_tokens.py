"""ID tokens this instance has verified, kept until they expire.

A client sends the same ID token with every request for up to an hour. Verifying it again each
time (firebase-admin: the signing certificates through an HTTP cache, the RS256 signature, the
claims) gives the same claims every time: the token is immutable and signed. So the claims of a
verified token are kept, keyed by the whole token, until the token's ``exp``; expiry (and
issue time) are still checked on every request by the caller, and revocation is not decided
here at all (genmedia.revocation, or Identity Toolkit on every spending request).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

MAX_TOKENS = 2_000  # ~2-3 KiB each with their claims; the least recently verified go first


class VerifiedTokens:
    def __init__(self, now: Callable[[], float] = time.time, max_tokens: int = MAX_TOKENS) -> None:
        self._now = now
        self._max = max_tokens
        self._claims: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str) -> dict[str, Any] | None:
        """The claims verified for exactly this token, unless it has expired since."""
        with self._lock:
            claims = self._claims.get(token)
            if claims is not None and float(claims["exp"]) <= self._now():
                del self._claims[token]
                return None
        return claims

    def put(self, token: str, claims: dict[str, Any]) -> None:
        with self._lock:
            self._claims[token] = claims
            self._claims.move_to_end(token)
            while len(self._claims) > self._max:
                self._claims.popitem(last=False)
