"""Revocation and disabled-account checks, cached per instance for reads.

firebase-admin's ``check_revoked=True`` looks the user up in Identity Toolkit on every request:
a network round trip each time. Requests that spend or change something keep doing exactly
that. Read-only requests use this cache instead: a user's revocation time and disabled flag,
fetched once and trusted for ``ttl_s`` (``GENMEDIA_REVOCATION_CACHE_SECONDS``, 30 s by default;
0 turns the cache off). Read-only means GET and HEAD, signing URLs of one's own assets (a POST
that changes nothing) and the replay of a completed idempotent request (it returns the stored
response and spends nothing; a keyed request that runs checks afresh before it runs). The
trade-off: a revoked or disabled user may still *read* their own data, get URLs to it or a
response they already had, for up to that long on an instance that looked them up just before;
they can never spend or change anything, and every instance refuses them once its entry
expires.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from genmedia.errors import Unauthenticated, Unavailable

if TYPE_CHECKING:
    import firebase_admin

MAX_ENTRIES = 10_000  # users per instance; the least recently fetched are dropped first


@dataclass(frozen=True)
class SessionState:
    valid_after_s: float  # tokens issued before this (epoch seconds) are revoked
    disabled: bool


def fetch(app: firebase_admin.App, uid: str) -> SessionState:
    """The account's current state from Identity Toolkit (one call)."""
    from firebase_admin import auth, exceptions

    try:
        user = auth.get_user(uid, app=app)
    except auth.UserNotFoundError as exc:
        raise Unauthenticated("The ID token is invalid") from exc
    except exceptions.FirebaseError as exc:
        raise Unavailable("Token verification is unavailable", retry_after=1) from exc
    return SessionState((user.tokens_valid_after_timestamp or 0) / 1000, bool(user.disabled))


class RevocationCache:
    def __init__(
        self, lookup: Callable[[str], SessionState], ttl_s: float, monotonic: Callable[[], float]
    ) -> None:
        self._lookup = lookup
        self._ttl_s = ttl_s
        self._monotonic = monotonic
        self._entries: OrderedDict[str, tuple[float, SessionState]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, uid: str, issued_at: float) -> None:
        """Refuse a token of ``uid`` issued at ``issued_at`` if revoked or disabled."""
        state = self._state(uid)
        if state.disabled:
            raise Unauthenticated("The account is disabled")
        if issued_at < state.valid_after_s:
            raise Unauthenticated("The ID token has been revoked")

    def _state(self, uid: str) -> SessionState:
        now = self._monotonic()
        with self._lock:
            cached = self._entries.get(uid)
        if cached is not None and now - cached[0] < self._ttl_s:
            return cached[1]
        state = self._lookup(uid)  # outside the lock: one slow lookup must not stall others
        with self._lock:
            self._entries[uid] = (now, state)
            self._entries.move_to_end(uid)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)
        return state
