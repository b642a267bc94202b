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

import logging
import threading
import warnings
from decimal import Decimal
from typing import TYPE_CHECKING

from genmedia.errors import ContentBlocked
from genmedia.media.base import GeneratedImage, ImageSpec
from genmedia.media.genai_sdk import (
    loopback_credentials,
    map_failure,
    sdk_failures,
)

if TYPE_CHECKING:
    from google.genai import Client
    from google.genai import types as genai_types

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 120.0


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
        except sdk_failures() as exc:
            # ``from None``: SDK exceptions can carry the request or response body.
            raise map_failure(exc, "Imagen", "image") from None
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
        credentials = self._credentials or loopback_credentials(self._base_url)
        return genai.Client(
            vertexai=True,
            project=self.project_id,
            location=self.location,
            credentials=credentials,  # type: ignore[arg-type]
            http_options=http_options,
        )


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
