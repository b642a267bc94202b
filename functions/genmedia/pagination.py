"""Opaque page tokens for cursor-based lists (AIP-158).

A token carries the last item's sort key and a fingerprint of the query it belongs to, signed
with HMAC-SHA256 under a server key (``GENMEDIA_PAGE_TOKEN_KEY``; during a rotation the previous
key, ``GENMEDIA_PAGE_TOKEN_KEY_PREVIOUS``, is still accepted). A token that fails to decode,
was edited, or is replayed against a different query is rejected with 422. Authorisation never
depends on tokens (every page query is scoped to the caller); the signature keeps clients from
steering the cursor to values the server never issued.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from genmedia.catalog import ID_RE
from genmedia.errors import FieldError, Internal, InvalidArgument

DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 50, 100
T = TypeVar("T")
_VERSION = 2
_MAC_CHARS = 43  # unpadded base64url of 32 bytes


def fingerprint(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


def _mac(key: str, body: str) -> str:
    digest = hmac.new(key.encode(), body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def encode(query_fp: str, cursor: list[Any], key: str) -> str:
    body = json.dumps({"v": _VERSION, "f": query_fp, "c": cursor}, separators=(",", ":"))
    raw = f"{body}|{_mac(key, body)}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def invalid_token() -> InvalidArgument:
    return InvalidArgument(
        "page_token is invalid or belongs to a different query",
        errors=[FieldError("page_token", "not a token issued for this query")],
    )


def decode(token: str, query_fp: str, keys: Sequence[str]) -> list[Any]:
    """The cursor of a token signed with one of ``keys`` for this query; else 422."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid_token() from None
    body, _, mac = raw.rpartition("|")
    if len(mac) != _MAC_CHARS or not any(hmac.compare_digest(mac, _mac(k, body)) for k in keys):
        raise invalid_token()
    try:
        data = json.loads(body)
    except ValueError:
        raise invalid_token() from None
    if not isinstance(data, dict) or data.get("v") != _VERSION or data.get("f") != query_fp:
        raise invalid_token()
    cursor = data.get("c")
    if not isinstance(cursor, list):
        raise invalid_token()
    return cursor


def time_cursor(token: str, query_fp: str, keys: Sequence[str]) -> tuple[datetime, str]:
    """The (time, id) a token of a newest/oldest-first list resumes after; anything else in
    a token is a 422, including times Firestore cannot take (in UTC, as it compares them, an
    offset at the edge of the calendar overflows)."""
    cursor = decode(token, query_fp, keys)
    try:
        stamp, item_id = cursor
        after = datetime.fromisoformat(stamp)
        if after.tzinfo is None:
            raise ValueError("naive cursor time")
        after = after.astimezone(UTC)
    except (TypeError, ValueError, OverflowError):
        raise invalid_token() from None
    if not isinstance(item_id, str) or not ID_RE.fullmatch(item_id):
        raise invalid_token()
    return after, item_id


def page_keys(keys: tuple[str, ...]) -> tuple[str, ...]:
    """The configured page-token keys, or a 500 naming the missing setting."""
    if not keys:
        raise Internal("GENMEDIA_PAGE_TOKEN_KEY is not configured for this function")
    return keys


@dataclass(frozen=True)
class Pager:
    """One page of a list ordered by (time, id): fetch ``size + 1`` rows after ``after``; the
    extra row, when it comes, says there is a next page."""

    query_fp: str
    size: int
    after: tuple[datetime, str] | None
    key: str

    def finish(
        self, rows: list[T], cursor: Callable[[T], tuple[datetime, str]]
    ) -> tuple[list[T], str]:
        """The page and its ``next_page_token`` (empty only on the last page)."""
        page = rows[: self.size]
        if len(rows) <= self.size:
            return page, ""
        stamp, item_id = cursor(page[-1])
        return page, encode(self.query_fp, [stamp.isoformat(), item_id], self.key)


def pager(query_fp: str, page_size: int, page_token: str, keys: tuple[str, ...]) -> Pager:
    """The page a request asks for: its size (0 = the default, capped) and where it resumes."""
    keys = page_keys(keys)
    size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    after = time_cursor(page_token, query_fp, keys) if page_token else None
    return Pager(query_fp, size, after, keys[0])
