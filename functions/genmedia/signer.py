"""Client of ``issue_signed_url``, the only function whose service account may sign.

``generate_image`` returns URLs with its assets by asking the signer through the public API,
as the user (their own ID token), so the usual ownership checks apply and no other function
needs signBlob. If the signer cannot be reached the assets are still returned, without URLs:
the client can ask for them later, and nothing generated is lost.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from genmedia.config import get_settings
from genmedia.logging import get_logger
from genmedia.resilience import is_retryable, retry_call

if TYPE_CHECKING:
    import requests

VARIANTS = ("original", "thumbnail")
TIMEOUT_S = 5.0
_log = get_logger("genmedia.signer")


@functools.cache
def _session() -> requests.Session:
    import requests

    return requests.Session()


def _batch(base: str, token: str, request_id: str, ids: list[str], variant: str) -> dict[str, Any]:
    resp = _session().post(
        f"{base}/v1/assets:batchSignUrls",
        json={"ids": ids, "variant": variant},
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": request_id},
        timeout=TIMEOUT_S,
        allow_redirects=False,
    )
    resp.raise_for_status()
    urls: dict[str, Any] = resp.json()["urls"]
    return urls


def _batch_with_retry(
    base: str, token: str, request_id: str, ids: list[str], variant: str
) -> dict[str, Any]:
    def call() -> dict[str, Any]:
        return _batch(base, token, request_id, ids, variant)

    return retry_call(call, deadline_s=10, max_attempts=3, is_retryable=is_retryable, op="signer")


def asset_urls(token: str, request_id: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    """``{asset_id: {"original": {...}, "thumbnail": {...}}}``; empty if signing is unavailable."""
    base = get_settings().public_base_url
    if base is None or not ids:
        return {}
    try:
        by_variant = {v: _batch_with_retry(base, token, request_id, ids, v) for v in VARIANTS}
    except Exception as exc:  # noqa: BLE001 - URLs are optional; the assets must still be returned
        _log.warning(
            "signed URLs unavailable", extra={"json_fields": {"error": type(exc).__name__}}
        )
        return {}
    return {
        i: {v: by_variant[v][i] for v in VARIANTS}
        for i in ids
        if all(i in by_variant[v] for v in VARIANTS)
    }
