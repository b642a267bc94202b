"""Opaque page tokens for cursor-based lists (AIP-158).

A token carries the last item's sort key and a fingerprint of the query it belongs to, with a
checksum over both: a token that fails to decode, was edited, or is replayed against a
different query is rejected with 422. Tokens are not secrets; authorisation never depends on
them, since every page query is scoped to the caller.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from genmedia.errors import FieldError, InvalidArgument

_VERSION = 1


def fingerprint(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


def _checksum(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def encode(query_fp: str, cursor: list[Any]) -> str:
    body = json.dumps({"v": _VERSION, "f": query_fp, "c": cursor}, separators=(",", ":"))
    raw = f"{body}|{_checksum(body)}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def invalid_token() -> InvalidArgument:
    return InvalidArgument(
        "page_token is invalid or belongs to a different query",
        errors=[FieldError("page_token", "not a token issued for this query")],
    )


def decode(token: str, query_fp: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        body, _, check = raw.rpartition("|")
        data = json.loads(body)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid_token() from None
    if check != _checksum(body) or not isinstance(data, dict):
        raise invalid_token()
    if (
        data.get("v") != _VERSION
        or data.get("f") != query_fp
        or not isinstance(data.get("c"), list)
    ):
        raise invalid_token()
    cursor: list[Any] = data["c"]
    return cursor
