"""Verified ID tokens kept per instance: the same token's claims until it expires, no longer."""

from __future__ import annotations

import time
from typing import Any

import flask
import pytest

from genmedia.errors import Unauthenticated
from genmedia.http import Request
from genmedia.http.auth import FirebaseAuthenticator
from genmedia.revocation import RevocationCache, SessionState
from genmedia.verified_tokens import VerifiedTokens
from tests.fakes.clock import FakeClock

TOKEN = "header.payload.signature"


def claims(exp: float, iat: float = 0.0) -> dict[str, Any]:
    return {"uid": "u1", "sub": "u1", "iat": iat, "exp": exp, "role": "user"}


def test_a_token_is_remembered_exactly_and_only_until_it_expires() -> None:
    now = [1000.0]
    tokens = VerifiedTokens(now=lambda: now[0])
    tokens.put(TOKEN, claims(exp=1060.0))
    assert tokens.get(TOKEN) == claims(exp=1060.0)
    assert tokens.get(TOKEN + "x") is None and tokens.get(TOKEN[:-1]) is None
    now[0] = 1060.0
    assert tokens.get(TOKEN) is None


def test_the_least_recently_verified_tokens_go_first() -> None:
    tokens = VerifiedTokens(now=lambda: 0.0, max_tokens=2)
    for name in ("a", "b", "c"):
        tokens.put(name, claims(exp=60.0))
    assert [tokens.get(n) is not None for n in ("a", "b", "c")] == [False, True, True]


def authenticate(tokens: VerifiedTokens, *, fresh: bool) -> Any:
    clock = FakeClock()
    revocations = RevocationCache(
        lambda uid: SessionState(valid_after_s=0.0, disabled=False), 30, clock.monotonic
    )
    app = flask.Flask(__name__)

    def no_firebase() -> Any:
        raise AssertionError("a remembered token must not be verified again")

    auth = FirebaseAuthenticator(no_firebase, lambda: revocations, tokens)
    with app.test_request_context("/v1/assets", headers={"Authorization": f"Bearer {TOKEN}"}):
        req = Request(flask.request, request_id="r", trace=None, max_body_bytes=0)
        return auth(req, fresh=fresh)


def test_a_read_reuses_a_remembered_token_but_still_refuses_it_once_expired() -> None:
    now = time.time()
    tokens = VerifiedTokens(now=lambda: now - 3600)  # kept: the check below is the caller's
    tokens.put(TOKEN, claims(exp=now + 600, iat=now - 60))
    assert authenticate(tokens, fresh=False).uid == "u1"
    tokens.put(TOKEN, claims(exp=now - 60, iat=now - 3600))  # expired past the clock skew
    with pytest.raises(Unauthenticated, match="expired"):
        authenticate(tokens, fresh=False)


def test_a_spending_request_verifies_the_token_again() -> None:
    tokens = VerifiedTokens()
    tokens.put(TOKEN, claims(exp=time.time() + 600, iat=time.time() - 60))
    with pytest.raises(AssertionError, match="must not be verified"):
        authenticate(tokens, fresh=True)
