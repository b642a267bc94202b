"""Page tokens: round trip, bound to their query, refused when edited or malformed."""

from __future__ import annotations

import base64

import pytest

from genmedia import pagination
from genmedia.errors import InvalidArgument

FP = pagination.fingerprint("alice", ("ACTIVE",), True)


def test_a_token_round_trips_its_cursor() -> None:
    token = pagination.encode(FP, ["2026-01-01T00:00:00+00:00", "a1"])
    assert pagination.decode(token, FP) == ["2026-01-01T00:00:00+00:00", "a1"]
    assert "=" not in token  # URL-safe, unpadded


def test_a_token_of_another_query_is_refused() -> None:
    token = pagination.encode(FP, ["x", "a1"])
    with pytest.raises(InvalidArgument):
        pagination.decode(token, pagination.fingerprint("bob", ("ACTIVE",), True))


@pytest.mark.parametrize("token", ["", "not base64!", base64.urlsafe_b64encode(b"{}|0").decode()])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        pagination.decode(token, FP)
    assert caught.value.errors[0].field == "page_token"


def test_an_edited_token_with_the_old_checksum_is_refused() -> None:
    raw = base64.urlsafe_b64decode(pagination.encode(FP, ["x", "a1"]) + "==").decode()
    forged = raw.replace('"a1"', '"a2"')
    token = base64.urlsafe_b64encode(forged.encode()).decode().rstrip("=")
    with pytest.raises(InvalidArgument):
        pagination.decode(token, FP)
