"""Vertex AI Veo through the Google Gen AI SDK (``google-genai``): a long-running operation.

``start`` calls ``models.generate_videos`` (``:predictLongRunning``) and returns Vertex's
operation name; ``poll`` rebuilds a ``GenerateVideosOperation`` from that name alone and asks
``operations.get`` (``:fetchPredictOperation``), so any instance can poll after a restart.

As in ``vertex.py`` the SDK is imported on first use and never retries by itself; this module
reuses that one's transport, credential and error-classification helpers. Requests go to the
``v1`` API: Veo 3.1's GA models are not served on the SDK's default ``v1beta1``.
"""

from __future__ import annotations

import logging
import threading
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from genmedia.errors import ContentBlocked, ProviderError
from genmedia.media.genai_sdk import (
    loopback_credentials,
    map_failure,
    refused,
    sdk_failures,
    summary,
)
from genmedia.media.video import (
    OperationFailed,
    OperationStatus,
    Progress,
    VideoModel,
    VideoResult,
    VideoSpec,
)

if TYPE_CHECKING:
    from google.genai import Client
    from google.genai import types as genai_types

logger = logging.getLogger(__name__)

API_VERSION = "v1"
DEFAULT_TIMEOUT_SECONDS = 60.0
# google.rpc.Code values of a failed operation that a new attempt may not hit again:
# DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNAVAILABLE.
_RETRYABLE_RPC_CODES = frozenset({4, 8, 10, 13, 14})
_RETRYABLE_RPC_NAMES = frozenset(
    {"DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "ABORTED", "INTERNAL", "UNAVAILABLE"}
)
_VEO_DURATIONS = (4, 6, 8)


class VeoProvider:
    name = "veo"
    models: dict[str, VideoModel] = {
        "veo-3.1-generate-001": VideoModel(
            _VEO_DURATIONS, ("720p", "1080p"), audio=True, cost_per_second=Decimal("0.40")
        ),
        "veo-3.1-fast-generate-001": VideoModel(
            _VEO_DURATIONS, ("720p", "1080p"), audio=True, cost_per_second=Decimal("0.15")
        ),
    }
    default_model = "veo-3.1-fast-generate-001"

    def __init__(
        self,
        project_id: str,
        location: str,
        *,
        base_url: str | None = None,
        credentials: object | None = None,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        if not project_id or not location:
            raise ValueError("Vertex Veo needs a project id and a location")
        self.project_id = project_id
        self.location = location
        self._base_url = base_url
        # None means Application Default Credentials, resolved by the SDK on first request.
        self._credentials = credentials
        self._timeout_ms = max(1, round(timeout_seconds * 1000))
        self._client: Client | None = None
        self._client_lock = threading.Lock()

    def start(self, spec: VideoSpec, *, output_gcs_uri: str | None = None) -> str:
        from google.genai import types

        if spec.model not in self.models:
            raise ProviderError(f"Unknown Veo model {spec.model!r}", retryable=False)
        client = self._get_client()
        try:
            operation = client.models.generate_videos(
                model=spec.model,
                source=types.GenerateVideosSource(prompt=spec.prompt),
                config=_config(spec, output_gcs_uri),
            )
        except sdk_failures() as exc:
            # ``from None``: SDK exceptions can carry the request or response body.
            raise map_failure(exc, "Veo", "video") from None
        if not operation.name:
            raise ProviderError("Veo started an operation without a name", retryable=False)
        return operation.name

    def poll(self, operation: str) -> OperationStatus:
        from google.genai import types

        if not operation.startswith("projects/") or "/operations/" not in operation:
            raise ProviderError("Malformed Veo operation name", retryable=False)
        # The name alone is what operations.get needs (another instance may have started it).
        stored = types.GenerateVideosOperation.model_validate({"name": operation})
        client = self._get_client()
        try:
            current = client.operations.get(stored)
        except sdk_failures() as exc:
            raise map_failure(exc, "Veo", "video") from None
        return _status(current)

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
        from google.genai import types

        http_options = types.HttpOptions(
            base_url=self._base_url, api_version=API_VERSION, timeout=self._timeout_ms
        )
        credentials = self._credentials or loopback_credentials(self._base_url)
        return genai.Client(
            vertexai=True,
            project=self.project_id,
            location=self.location,
            credentials=credentials,  # type: ignore[arg-type]
            http_options=http_options,
        )


def _config(spec: VideoSpec, output_gcs_uri: str | None) -> genai_types.GenerateVideosConfig:
    from google.genai import types

    return types.GenerateVideosConfig(
        number_of_videos=1,
        output_gcs_uri=output_gcs_uri,
        duration_seconds=spec.duration_seconds,
        aspect_ratio=spec.aspect_ratio,
        resolution=spec.resolution,
        negative_prompt=spec.negative_prompt,
        seed=spec.seed,
        # Always sent: Veo 3 models require the field rather than defaulting it.
        generate_audio=spec.generate_audio,
    )


def _status(operation: genai_types.GenerateVideosOperation) -> OperationStatus:
    if not operation.done:
        # Vertex reports no progress for Veo; "generating" with no estimate is the truth.
        return OperationStatus(done=False, progress=Progress(0, "generating", None))
    if operation.error:
        raise _map_operation_error(operation.error)
    response = operation.response or operation.result
    videos = [
        generated.video
        for generated in (response.generated_videos or [] if response else [])
        if generated.video is not None and (generated.video.uri or generated.video.video_bytes)
    ]
    if not videos:
        raise _filtered(response)
    video = videos[0]
    result = VideoResult(
        mime_type=video.mime_type or "video/mp4",
        data=video.video_bytes if not video.uri else None,
        gcs_uri=video.uri,
    )
    return OperationStatus(done=True, progress=Progress(100, "done", 0), result=result)


def _filtered(response: genai_types.GenerateVideosResponse | None) -> Exception:
    count = response.rai_media_filtered_count if response else None
    reasons = (response.rai_media_filtered_reasons or []) if response else []
    if not count and not reasons:
        return ProviderError("Veo finished without a video", retryable=False)
    logger.info("veo filtered the video", extra={"filtered": count or len(reasons)})
    detail = summary("; ".join(reasons)) if reasons else "no reason given"
    return ContentBlocked(f"The video provider's safety filters blocked the video: {detail}")


def _map_operation_error(error: dict[str, Any]) -> OperationFailed | ContentBlocked:
    code = error.get("code")
    status = str(error.get("status") or "")
    message = str(error.get("message") or "")
    if refused(message):
        return ContentBlocked("The video provider refused this prompt under its content policy")
    retryable = code in _RETRYABLE_RPC_CODES or status in _RETRYABLE_RPC_NAMES
    label = " ".join(str(part) for part in (code, status) if part) or "no code"
    return OperationFailed(
        f"Veo operation failed ({label}): {summary(message)}", retryable=retryable
    )
