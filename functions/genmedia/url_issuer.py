"""Client of ``issue_signed_url``, the only function whose service account may sign.

``generate_image`` returns URLs with its assets by asking the issuer through the public API,
as the user (their own ID token), so the usual ownership checks apply and no other function
needs signBlob. If the issuer cannot be reached the assets are still returned, without URLs:
the client can ask for them later, and nothing generated is lost.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Protocol

from genmedia.catalog import IMAGE_VARIANTS
from genmedia.logging import get_logger
from genmedia.retry import is_retryable, retry_call

if TYPE_CHECKING:
    import requests

TIMEOUT_S = 5.0
_log = get_logger("genmedia.url_issuer")
AssetUrls = dict[str, dict[str, Any]]  # asset id -> variant -> {"url", "expire_time"}
IMAGES = tuple(IMAGE_VARIANTS)


class UrlIssuer(Protocol):
    """The port services use: URLs for ``variants`` (default: an image's) of ``ids``, as the
    caller."""

    def asset_urls(
        self, token: str, request_id: str, ids: list[str], variants: tuple[str, ...] = IMAGES
    ) -> AssetUrls: ...


class HttpUrlIssuer:
    def __init__(self, base_url: str | None) -> None:
        self._base = base_url
        self._session: requests.Session | None = None
        self._lock = threading.Lock()

    def asset_urls(
        self, token: str, request_id: str, ids: list[str], variants: tuple[str, ...] = IMAGES
    ) -> AssetUrls:
        """``{asset_id: {"original": {...}, "thumbnail": {...}}}``; empty if unavailable."""
        if self._base is None or not ids:
            return {}
        try:
            by_variant = {v: self._batch_with_retry(token, request_id, ids, v) for v in variants}
        except Exception as exc:  # noqa: BLE001 - URLs are optional; the assets must be returned
            _log.warning(
                "signed URLs unavailable", extra={"json_fields": {"error": type(exc).__name__}}
            )
            return {}
        return {
            i: {v: by_variant[v][i] for v in variants}
            for i in ids
            if all(i in by_variant[v] for v in variants)
        }

    def _session_once(self) -> requests.Session:
        with self._lock:
            if self._session is None:
                import requests

                session = requests.Session()
                # With trust_env, requests re-reads every proxy variable and ~/.netrc on each
                # call (and a netrc entry for the host would replace the caller's token). The
                # issuer calls one base URL: its proxy and CA settings are read once, here.
                env = session.merge_environment_settings(self._base or "", {}, None, None, None)
                session.proxies.update(env["proxies"])
                session.verify, session.cert = env["verify"], env["cert"]
                session.trust_env = False
                self._session = session
            return self._session

    def _batch(self, token: str, request_id: str, ids: list[str], variant: str) -> dict[str, Any]:
        resp = self._session_once().post(
            f"{self._base}/v1/assets:batchSignUrls",
            json={"ids": ids, "variant": variant},
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": request_id},
            timeout=TIMEOUT_S,
            allow_redirects=False,
        )
        resp.raise_for_status()
        urls: dict[str, Any] = resp.json()["urls"]
        return urls

    def _batch_with_retry(
        self, token: str, request_id: str, ids: list[str], variant: str
    ) -> dict[str, Any]:
        def call() -> dict[str, Any]:
            return self._batch(token, request_id, ids, variant)

        return retry_call(
            call, deadline_s=10, max_attempts=3, is_retryable=is_retryable, op="url_issuer"
        )
