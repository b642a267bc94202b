"""A local HTTP stand-in for the Vertex AI prediction endpoints.

The real ``google-genai`` SDK talks to it over HTTP (point ``HttpOptions.base_url`` at
``FakeVertex.base_url``), so tests exercise the SDK's real request building, response parsing
and error raising. Routes are keyed by the method suffix of
``/v1beta1/projects/{project}/locations/{location}/publishers/google/models/{model}:{action}``.
Imagen is ``fake.imagen`` (``:predict``); a Veo fake adds routes for ``predictLongRunning``
and ``fetchPredictOperation`` to ``fake.routes``.

Routes answer from a queue of scripted behaviours (``Images``, ``AllFiltered``, ``ApiError``,
``MalformedBase64``, ``Slow`` ...) and fall back to success when the queue is empty.
"""

from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass
from functools import cache

from PIL import Image

from tests.fakes.server import (
    FakeHttpServer,
    RawReply,
    RecordedRequest,
    Reply,
    Route,
    ScriptedRoute,
    Slow,
    error_reply,
    json_reply,
)

__all__ = [
    "FILTERED_REASON",
    "IMAGEN_SIZES",
    "POLICY_MESSAGE",
    "AllFiltered",
    "ApiError",
    "FakeVertex",
    "Images",
    "MalformedBase64",
    "NoPredictions",
    "NotAnImage",
    "RawReply",
    "RecordedRequest",
    "Slow",
    "sample_png",
]

FAKE_TOKEN = "fake-token"
PATH_RE = re.compile(
    r"^/v1beta1/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"
    r"/publishers/google/models/(?P<model>[^/:]+):(?P<action>[A-Za-z]+)$"
)

# Imagen's native output size per aspect ratio (not exactly 1024 on the long side).
IMAGEN_SIZES = {
    "1:1": (1024, 1024),
    "3:4": (896, 1280),
    "4:3": (1280, 896),
    "9:16": (768, 1408),
    "16:9": (1408, 768),
}

FILTERED_REASON = (
    "Unable to show generated images. All images were filtered out because they violated "
    "Vertex AI's usage guidelines. You will not be charged for blocked images. Try "
    "rephrasing the prompt. Support codes: 58061214"
)
POLICY_MESSAGE = (
    "Image generation failed with the following error: The prompt could not be submitted. "
    "This prompt contains sensitive words that violate Google's Responsible AI practices. "
    "Try rephrasing the prompt. Support codes: 42876398"
)


@cache
def sample_png(aspect_ratio: str, index: int, size: tuple[int, int] | None = None) -> bytes:
    """A deterministic PNG at Imagen's native size for ``aspect_ratio`` (or ``size``)."""
    width, height = size or IMAGEN_SIZES.get(aspect_ratio, (1024, 1024))
    ramp = Image.linear_gradient("L").resize((width, height))
    tint = Image.new("L", (width, height), (index * 70 + 40) % 256)
    image = Image.merge("RGB", (ramp, tint, ramp.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _prediction(
    request: RecordedRequest, index: int, size: tuple[int, int] | None
) -> dict[str, str]:
    data = sample_png(str(request.parameters.get("aspectRatio", "1:1")), index, size)
    return {"bytesBase64Encoded": base64.b64encode(data).decode(), "mimeType": "image/png"}


@dataclass(frozen=True)
class Images:
    """Success: ``count`` images (default: the requested sampleCount); ``filtered`` of them
    are dropped and reported by one raiFilteredReason entry, as Imagen does."""

    count: int | None = None
    filtered: int = 0
    size: tuple[int, int] | None = None

    def reply(self, request: RecordedRequest) -> Reply:
        total = self.count if self.count is not None else int(request.parameters["sampleCount"])
        kept = [_prediction(request, i, self.size) for i in range(total - self.filtered)]
        predictions: list[dict[str, str]] = kept
        if self.filtered:
            reason = f"{self.filtered} image(s) filtered out. Support codes: 56562880"
            predictions.append({"raiFilteredReason": reason})
        return json_reply(200, {"predictions": predictions})


@dataclass(frozen=True)
class AllFiltered:
    reason: str = FILTERED_REASON

    def reply(self, request: RecordedRequest) -> Reply:
        return json_reply(200, {"predictions": [{"raiFilteredReason": self.reason}]})


@dataclass(frozen=True)
class NoPredictions:
    """What Imagen sends when everything is filtered and includeRaiReason is off."""

    def reply(self, request: RecordedRequest) -> Reply:
        return json_reply(200, {})


@dataclass(frozen=True)
class ApiError:
    status: int
    reason: str
    message: str

    def reply(self, request: RecordedRequest) -> Reply:
        return error_reply(self.status, self.reason, self.message)

    @classmethod
    def rate_limited(cls) -> ApiError:
        return cls(429, "RESOURCE_EXHAUSTED", "Quota exceeded for aiplatform.googleapis.com")

    @classmethod
    def internal(cls) -> ApiError:
        return cls(500, "INTERNAL", "Internal error encountered.")

    @classmethod
    def unavailable(cls) -> ApiError:
        return cls(503, "UNAVAILABLE", "The service is currently unavailable.")

    @classmethod
    def invalid_argument(cls, message: str = "Invalid sample count.") -> ApiError:
        return cls(400, "INVALID_ARGUMENT", message)

    @classmethod
    def policy_violation(cls) -> ApiError:
        return cls(400, "INVALID_ARGUMENT", POLICY_MESSAGE)

    @classmethod
    def permission_denied(cls) -> ApiError:
        return cls(403, "PERMISSION_DENIED", "Permission 'aiplatform.endpoints.predict' denied")


@dataclass(frozen=True)
class MalformedBase64:
    def reply(self, request: RecordedRequest) -> Reply:
        bad = {"bytesBase64Encoded": "***not base64***", "mimeType": "image/png"}
        return json_reply(200, {"predictions": [bad]})


@dataclass(frozen=True)
class NotAnImage:
    """Valid base64 of bytes that are not an image: the SDK accepts it, processing must not."""

    def reply(self, request: RecordedRequest) -> Reply:
        garbage = base64.b64encode(b"<html>gateway error</html>").decode()
        return json_reply(200, {"predictions": [{"bytesBase64Encoded": garbage}]})


class FakeVertex(FakeHttpServer):
    """Vertex AI on 127.0.0.1: checks bearer token, project, location and (optionally) model."""

    thread_name = "fake-vertex"

    def __init__(
        self,
        project: str = "test-project",
        location: str = "us-central1",
        token: str | None = FAKE_TOKEN,
        models: frozenset[str] | None = None,
    ) -> None:
        super().__init__()
        self.project = project
        self.location = location
        # None accepts any bearer token (e.g. the provider's loopback default).
        self.token = token
        # None accepts any model name; a set makes other models 404 as Vertex does.
        self.models = models
        self.imagen = ScriptedRoute(default=Images())
        self.routes["predict"] = self.imagen

    def route_for(self, method: str, path: str) -> tuple[dict[str, str], Route | None]:
        match = PATH_RE.match(path)
        if match is None or method != "POST":
            return {}, None
        params = match.groupdict()
        return params, self.routes.get(params["action"])

    def check(self, request: RecordedRequest) -> Reply | None:
        auth = request.headers.get("authorization", "")
        wrong_token = self.token is not None and auth != f"Bearer {self.token}"
        if not auth.startswith("Bearer ") or wrong_token:
            return error_reply(401, "UNAUTHENTICATED", "Request had invalid credentials.")
        params = request.path_params
        if params and (params["project"], params["location"]) != (self.project, self.location):
            where = f"projects/{params['project']}/locations/{params['location']}"
            return error_reply(404, "NOT_FOUND", f"Unknown location {where}")
        if params and self.models is not None and params["model"] not in self.models:
            return error_reply(404, "NOT_FOUND", f"Publisher Model {params['model']} not found")
        if params and not isinstance(request.body, dict):
            return error_reply(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        return None
