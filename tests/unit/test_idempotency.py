"""Idempotency request fingerprints and key validation (pure functions)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from genmedia.errors import InvalidArgument
from genmedia.idempotency import fingerprint, validate_key

BODY: dict[str, Any] = {
    "prompt": "a kite",
    "count": 2,
    "style": None,
    "extra": {"a": 1, "b": [1, 2]},
}
PATH = "/v1/images:generate"


def test_fingerprint_is_a_stable_sha256_hex() -> None:
    value = fingerprint("POST", PATH, BODY)
    assert value == fingerprint("POST", PATH, dict(BODY))
    assert re.fullmatch("[0-9a-f]{64}", value)


def test_fingerprint_ignores_key_order_at_every_depth() -> None:
    reordered = {"extra": {"b": [1, 2], "a": 1}, "style": None, "count": 2, "prompt": "a kite"}
    assert fingerprint("POST", PATH, reordered) == fingerprint("POST", PATH, BODY)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", PATH, BODY),
        ("POST", "/v1/videos:generate", BODY),
        ("POST", PATH, BODY | {"prompt": "a kite "}),
        ("POST", PATH, BODY | {"count": 3}),
        ("POST", PATH, BODY | {"count": "2"}),
        ("POST", PATH, BODY | {"style": ""}),
        ("POST", PATH, BODY | {"extra": {"a": 1, "b": [2, 1]}}),  # list order matters
    ],
)
def test_fingerprint_changes_with_any_meaningful_difference(
    method: str, path: str, body: dict[str, Any]
) -> None:
    assert fingerprint(method, path, body) != fingerprint("POST", PATH, BODY)


def test_fingerprint_fields_cannot_bleed_into_each_other() -> None:
    # Naive concatenation would make these two equal.
    assert fingerprint("POST", "/a", {"b": 1}) != fingerprint("POST", '/a", {"b', 1)


@pytest.mark.parametrize(
    "key",
    ["k", "k" * 255, "550e8400-e29b-41d4-a716-446655440000", "a b ~!@#$%^&*()"],
)
def test_valid_keys_are_returned_unchanged(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize(
    "key",
    ["", "k" * 256, "tab\there", "new\nline", "nul\x00", "del\x7f", "clé", "键"],
)
def test_invalid_keys_are_422_on_the_header(key: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_key(key)
    assert caught.value.status == 422
    assert [e.field for e in caught.value.errors] == ["header.Idempotency-Key"]
