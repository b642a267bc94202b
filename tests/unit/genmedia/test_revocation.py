"""The per-instance revocation cache for reads: one lookup per user and window, then fresh."""

from __future__ import annotations

import pytest

from genmedia.errors import Unauthenticated
from genmedia.revocation import MAX_ENTRIES, RevocationCache, SessionState
from tests.fakes.clock import FakeClock


class Directory:
    def __init__(self) -> None:
        self.state = SessionState(valid_after_s=100.0, disabled=False)
        self.lookups = 0

    def __call__(self, uid: str) -> SessionState:
        self.lookups += 1
        return self.state


def test_a_revocation_applies_to_reads_once_the_window_has_passed() -> None:
    clock, users = FakeClock(), Directory()
    cache = RevocationCache(users, ttl_s=30, monotonic=clock.monotonic)
    cache.check("u", issued_at=150.0)
    users.state = SessionState(valid_after_s=200.0, disabled=False)  # revoked now
    cache.check("u", issued_at=150.0)  # still inside the window: the cached state
    assert users.lookups == 1
    clock.advance(30)
    with pytest.raises(Unauthenticated, match="revoked"):
        cache.check("u", issued_at=150.0)
    cache.check("u", issued_at=250.0)  # a token from a new sign-in
    assert users.lookups == 2


def test_disabled_accounts_and_tokens_older_than_the_revocation_are_refused() -> None:
    clock, users = FakeClock(), Directory()
    with pytest.raises(Unauthenticated, match="revoked"):
        RevocationCache(users, 30, clock.monotonic).check("u", issued_at=99.0)
    users.state = SessionState(valid_after_s=0.0, disabled=True)
    with pytest.raises(Unauthenticated, match="disabled"):
        RevocationCache(users, 30, clock.monotonic).check("u", issued_at=500.0)


def test_a_zero_window_looks_up_every_time_and_the_cache_is_bounded() -> None:
    clock, users = FakeClock(), Directory()
    uncached = RevocationCache(users, 0, clock.monotonic)
    for _ in range(3):
        uncached.check("u", issued_at=150.0)
    assert users.lookups == 3
    cache = RevocationCache(users, 30, clock.monotonic)
    for i in range(MAX_ENTRIES + 5):
        cache.check(f"u{i}", issued_at=150.0)
    assert len(cache._entries) == MAX_ENTRIES and "u0" not in cache._entries
