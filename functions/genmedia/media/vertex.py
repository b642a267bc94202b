"""Vertex AI Imagen through the Google Gen AI SDK (``google-genai``).

The SDK is imported on first use, not at module import: it pulls in pydantic models, httpx
and google-auth, which would otherwise be paid on every cold start, including instances
that never generate an image. The provider never retries — the SDK's own retry stays off
(no ``retry_options``) and the service layer owns retry and circuit breaking (retry.py, breaker.py).

Partial filtering: when Imagen's safety filters drop some but not all samples, the
survivors are returned and the caller charges for ``len(result)``; only when nothing
survives is ``ContentBlocked`` raised.
"""

from __future__ import annotations

import json
import logging
import threading
import warnings
from decimal import Decimal
from typing import TYPE_CHECKING

from genmedia.errors import ContentBlocked, ProviderError
from genmedia.media.base import GeneratedImage, ImageSpec

if TYPE_CHECKING:
    from google.genai import Client
    from google.genai import types as genai_types

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 120.0
# Sent to a Vertex fake on a loopback base_url when no credentials are given.
LOOPBACK_TOKEN = "loopback"  # noqa: S105 - not a secret: only ever sent to 127.0.0.1
# Imagen reports a prompt refused before generation as a 400 whose message cites Google's
# Responsible AI practices or usage guidelines; that is a content decision, not a bad request.
_POLICY_MARKERS = ("responsible ai", "usage guidelines", "sensitive words", "violate")
_RETRYABLE_STATUSES = frozenset({408, 429})
_MESSAGE_LIMIT = 200


class VertexImagenProvider:
    name = "vertex"
    cost_per_image = Decimal("0.04")

    def __init__(
        self,
        project_id: str,
        location: str,
        model: str,
        base_url: str | None = None,
        credentials: object | None = None,
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        if not project_id or not location or not model:
            raise ValueError("Vertex Imagen needs a project id, a location and a model")
        self.project_id = project_id
        self.location = location
        self.model = model
        self._base_url = base_url
        # None means Application Default Credentials, resolved by the SDK on first request.
        self._credentials = credentials
        self._timeout_ms = max(1, round(timeout_seconds * 1000))
        self._client: Client | None = None
        self._client_lock = threading.Lock()

    def generate(self, spec: ImageSpec) -> list[GeneratedImage]:
        client = self._get_client()
        config = _config(spec)
        try:
            response = client.models.generate_images(
                model=spec.model or self.model, prompt=spec.full_prompt(), config=config
            )
        except _sdk_failures() as exc:
            # ``from None``: SDK exceptions can carry the request or response body.
            raise _map_failure(exc) from None
        return _collect(response, spec)

    def close(self) -> None:
        """Release the SDK's HTTP connections (tests and graceful shutdown)."""
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def _get_client(self) -> Client:
        with self._client_lock:
            if self._client is None:
                self._client = self._new_client()
            return self._client

    def _new_client(self) -> Client:
        from google import genai
        from google.genai import _common, types

        # SDK 3.x flags generate_images as deprecated (removal not before 2027); the pinned
        # SDK still supports it, and the one-off warning would only clutter instance logs.
        warnings.filterwarnings(
            "ignore",
            message="The generate_images method is deprecated",
            category=_common.ExperimentalWarning,
        )

        http_options = types.HttpOptions(base_url=self._base_url, timeout=self._timeout_ms)
        credentials = self._credentials or _loopback_credentials(self._base_url)
        return genai.Client(
            vertexai=True,
            project=self.project_id,
            location=self.location,
            credentials=credentials,  # type: ignore[arg-type]
            http_options=http_options,
        )


def _loopback_credentials(base_url: str | None) -> object | None:
    """A static bearer token for a fake Vertex on this machine, so local runs need no ADC.

    Only loopback hosts qualify: any real endpoint keeps Application Default Credentials.
    """
    if base_url is None:
        return None
    from urllib.parse import urlsplit

    if urlsplit(base_url).hostname not in ("127.0.0.1", "localhost", "::1"):
        return None
    from google.oauth2.credentials import Credentials

    return Credentials(token=LOOPBACK_TOKEN)  # type: ignore[no-untyped-call]


def _config(spec: ImageSpec) -> genai_types.GenerateImagesConfig:
    from google.genai import types

    return types.GenerateImagesConfig(
        number_of_images=spec.count,
        aspect_ratio=spec.aspect_ratio,
        negative_prompt=spec.negative_prompt,
        seed=spec.seed,
        # Imagen rejects a seed while its invisible watermark is on.
        add_watermark=False if spec.seed is not None else None,
        include_rai_reason=True,
        output_mime_type="image/png",
    )


def _collect(response: genai_types.GenerateImagesResponse, spec: ImageSpec) -> list[GeneratedImage]:
    # Filtered samples come back as entries without image bytes (a raiFilteredReason), and
    # Imagen reports several filtered samples with one entry, so count what survived.
    images = [
        GeneratedImage(
            data=image.image_bytes, mime_type=image.mime_type or "image/png", seed=spec.seed
        )
        for image in (generated.image for generated in response.generated_images or [])
        if image is not None and image.image_bytes
    ][: spec.count]
    if not images:
        logger.info("imagen filtered every image", extra={"requested": spec.count})
        raise ContentBlocked("The image provider's safety filters blocked every requested image")
    if len(images) < spec.count:
        logger.info(
            "imagen filtered some images",
            extra={"requested": spec.count, "returned": len(images)},
        )
    return images


def _sdk_failures() -> tuple[type[BaseException], ...]:
    """Exception types a generate call can raise that ``_map_failure`` understands."""
    import google.auth.exceptions
    import pydantic
    from google.genai import errors

    failures: list[type[BaseException]] = [
        errors.APIError,
        errors.UnknownApiResponseError,
        json.JSONDecodeError,
        pydantic.ValidationError,
        google.auth.exceptions.GoogleAuthError,
    ]
    failures.extend(_http_request_errors())
    return tuple(failures)


def _http_request_errors() -> list[type[BaseException]]:
    # The SDK talks through httpx2 when installed, else httpx: map both.
    found: list[type[BaseException]] = []
    try:
        import httpx

        found.append(httpx.RequestError)
    except ImportError:
        pass
    try:
        import httpx2

        found.append(httpx2.RequestError)
    except ImportError:
        pass
    return found


def _map_failure(exc: BaseException) -> ProviderError | ContentBlocked:
    import pydantic
    from google.genai import errors

    if isinstance(exc, errors.APIError):
        return _map_api_error(exc)
    if isinstance(
        exc, errors.UnknownApiResponseError | json.JSONDecodeError | pydantic.ValidationError
    ):
        # Undecodable JSON or base64: a retry of the same call is unlikely to fix it.
        return ProviderError("Imagen returned a malformed response", retryable=False)
    kind = type(exc).__name__
    if _is_transport_error(exc):
        return ProviderError(f"Imagen request failed in transit ({kind})", retryable=True)
    if _is_auth_error(exc):
        retryable = bool(getattr(exc, "retryable", False))
        return ProviderError(f"Imagen credentials failed ({kind})", retryable=retryable)
    return ProviderError(f"Imagen request failed ({kind})", retryable=False)


def _map_api_error(exc: BaseException) -> ProviderError | ContentBlocked:
    code = int(getattr(exc, "code", 0) or 0)
    status = getattr(exc, "status", None) or "UNKNOWN"
    message = str(getattr(exc, "message", None) or "")
    if code == 400 and any(marker in message.lower() for marker in _POLICY_MARKERS):
        return ContentBlocked("The image provider refused this prompt under its content policy")
    retryable = code in _RETRYABLE_STATUSES or code >= 500
    summary = " ".join(message.split())[:_MESSAGE_LIMIT]
    return ProviderError(
        f"Imagen returned {code} {status}: {summary}", retryable=retryable, status=code
    )


def _is_transport_error(exc: BaseException) -> bool:
    # Connect/read/write failures and timeouts may clear up; a malformed URL or redirect
    # loop (other RequestErrors) will not.
    names = {cls.__name__ for cls in type(exc).__mro__}
    return "TransportError" in names and "UnsupportedProtocol" not in names


def _is_auth_error(exc: BaseException) -> bool:
    import google.auth.exceptions

    return isinstance(exc, google.auth.exceptions.GoogleAuthError)
