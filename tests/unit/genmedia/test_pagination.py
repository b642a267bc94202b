"""Page tokens: round trip, bound to their query and signed; edited, forged or malformed
tokens are refused, and a rotated-out key keeps working while it is still accepted."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from genmedia import pagination
from genmedia.errors import InvalidArgument

FP = pagination.fingerprint("alice", ("ACTIVE",), True)
KEY, OLD = "k" * 32, "o" * 32
CURSOR = ["2026-01-01T00:00:00+00:00", "a1"]


def raw(token: str) -> str:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()


def wrap(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_a_token_round_trips_its_cursor() -> None:
    token = pagination.encode(FP, CURSOR, KEY)
    assert pagination.decode(token, FP, [KEY]) == CURSOR
    assert "=" not in token  # URL-safe, unpadded


def test_a_token_of_another_query_is_refused() -> None:
    token = pagination.encode(FP, CURSOR, KEY)
    with pytest.raises(InvalidArgument):
        pagination.decode(token, pagination.fingerprint("bob", ("ACTIVE",), True), [KEY])


def test_the_previous_key_is_accepted_during_a_rotation_and_not_after() -> None:
    token = pagination.encode(FP, CURSOR, OLD)
    assert pagination.decode(token, FP, [KEY, OLD]) == CURSOR
    with pytest.raises(InvalidArgument):
        pagination.decode(token, FP, [KEY])


@pytest.mark.parametrize("token", ["", "not base64!", wrap("{}|0"), wrap("no separator")])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        pagination.decode(token, FP, [KEY])
    assert caught.value.errors[0].field == "page_token"


def test_an_edited_token_is_refused() -> None:
    forged = raw(pagination.encode(FP, CURSOR, KEY)).replace('"a1"', '"a2"')
    with pytest.raises(InvalidArgument):
        pagination.decode(wrap(forged), FP, [KEY])


def test_a_token_with_a_recomputed_unkeyed_checksum_is_refused() -> None:
    """The forgery the adversarial pass found: edit the body, recompute an unkeyed hash."""
    body = json.dumps({"v": 2, "f": FP, "c": ["9999-12-31T23:59:59+00:00", "a1"]})
    for checksum in (hashlib.sha256(body.encode()).hexdigest()[:16], "A" * 43):
        with pytest.raises(InvalidArgument):
            pagination.decode(wrap(f"{body}|{checksum}"), FP, [KEY])


def test_a_pager_caps_the_size_and_resumes_exactly_after_the_last_row() -> None:
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [(start - timedelta(seconds=i), f"id{i}") for i in range(150)]  # newest first
    first = pagination.pager("fp", 1000, "", (KEY,))
    assert first.size == pagination.MAX_PAGE_SIZE and first.after is None
    page, token = first.finish(rows[: first.size + 1], lambda r: r)
    assert page == rows[:100] and token
    resumed = pagination.pager("fp", 0, token, (KEY,))
    assert resumed.after == rows[99] and resumed.size == pagination.DEFAULT_PAGE_SIZE
    last, end = resumed.finish(rows[100:], lambda r: r)  # 50 rows: no extra one
    assert last == rows[100:] and end == ""
    with pytest.raises(InvalidArgument):
        pagination.pager("other query", 0, token, (KEY,))
