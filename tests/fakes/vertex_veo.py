"""A local HTTP stand-in for Vertex AI Veo's long-running operation endpoints (API ``v1``).

The real ``google-genai`` SDK talks to it over HTTP: ``:predictLongRunning`` starts an
operation and ``:fetchPredictOperation`` (body ``{"operationName": ...}``) reports it, running
for ``running_polls`` fetches, then finished with the scripted outcome. As Vertex does, a
finished video is a ``gcsUri`` under the request's ``storageUri`` when one was given, else
``bytesBase64Encoded``. Only ``/v1/...`` paths are served: a ``v1beta1`` request gets a 404.

Script a start with ``fake.starts.enqueue(fake.accept(Filtered()))`` or an ``ApiError``;
script a fetch failure with ``fake.fetches.enqueue(ApiError.internal())``.
"""

from __future__ import annotations

import base64
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any, Protocol

from tests.fakes.server import RecordedRequest, Reply, Route, ScriptedRoute, error_reply, json_reply
from tests.fakes.vertex import FAKE_TOKEN, ApiError, FakeVertex

__all__ = [
    "FAKE_TOKEN",
    "RESPONSE_TYPE",
    "ApiError",
    "Failed",
    "FakeVeo",
    "Filtered",
    "Video",
    "sample_mp4",
]

V1_PATH_RE = re.compile(
    r"^/v1/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"
    r"/publishers/google/models/(?P<model>[^/:]+):(?P<action>[A-Za-z]+)$"
)
RESPONSE_TYPE = "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse"
FILTERED_REASONS = (
    "Veo could not generate videos because the input image violates Vertex AI's usage "
    "guidelines. Support codes: 17301594",
)


@cache
def sample_mp4() -> bytes:
    """A small real H.264 MP4 (the local provider's, so it decodes like a Veo file would)."""
    from genmedia.media.video import VideoSpec
    from genmedia.media.video_local import LocalVideoProvider

    provider = LocalVideoProvider(lambda: datetime.now(UTC), fps=4, max_long_side=128)
    return provider.render(VideoSpec(prompt="fake veo", model="local-video", duration_seconds=4))


class Outcome(Protocol):
    def finish(self, operation: _Operation) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Video:
    """Success, written where Vertex writes it (``gcsUri``), or inline when no storageUri."""

    mime_type: str = "video/mp4"
    inline: bool = False  # force bytesBase64Encoded even with a storageUri

    def finish(self, operation: _Operation) -> dict[str, Any]:
        storage = operation.parameters.get("storageUri")
        video: dict[str, Any] = {"mimeType": self.mime_type}
        if storage and not self.inline:
            video["gcsUri"] = f"{str(storage).rstrip('/')}/{operation.id}/sample_0.mp4"
        else:
            video["bytesBase64Encoded"] = base64.b64encode(sample_mp4()).decode()
        return {"response": {"@type": RESPONSE_TYPE, "videos": [video]}}


@dataclass(frozen=True)
class Filtered:
    """Finished with no video: Responsible AI filters removed it."""

    count: int = 1
    reasons: tuple[str, ...] = FILTERED_REASONS

    def finish(self, operation: _Operation) -> dict[str, Any]:
        response: dict[str, Any] = {"@type": RESPONSE_TYPE, "raiMediaFilteredCount": self.count}
        if self.reasons:
            response["raiMediaFilteredReasons"] = list(self.reasons)
        return {"response": response}


@dataclass(frozen=True)
class Failed:
    """Finished with an operation error (a google.rpc.Status)."""

    code: int = 3
    message: str = "Unsupported output video duration 5 seconds, supported durations are [8]."

    def finish(self, operation: _Operation) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


@dataclass
class _Operation:
    name: str
    id: str
    outcome: Outcome
    polls_left: int
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Accept:
    """Start an operation that runs for ``running_polls`` fetches, then ends in ``outcome``."""

    fake: FakeVeo
    outcome: Outcome = field(default_factory=Video)
    running_polls: int = 1

    def reply(self, request: RecordedRequest) -> Reply:
        params = request.path_params
        op_id = str(uuid.uuid4())
        name = (
            f"projects/{params['project']}/locations/{params['location']}"
            f"/publishers/google/models/{params['model']}/operations/{op_id}"
        )
        operation = _Operation(name, op_id, self.outcome, self.running_polls, request.parameters)
        self.fake.add_operation(operation)
        return json_reply(200, {"name": name})


@dataclass(frozen=True)
class Lookup:
    """Report the operation named in the body, one fetch closer to done."""

    fake: FakeVeo

    def reply(self, request: RecordedRequest) -> Reply:
        name = request.body.get("operationName") if isinstance(request.body, dict) else None
        operation, running = self.fake.advance(str(name))
        if operation is None:
            return error_reply(404, "NOT_FOUND", f"Operation {name} not found")
        if running:
            return json_reply(200, {"name": operation.name})
        finished = operation.outcome.finish(operation)
        return json_reply(200, {"name": operation.name, "done": True, **finished})


class FakeVeo(FakeVertex):
    """Veo on 127.0.0.1: the FakeVertex checks (token, project, location, model), on v1."""

    thread_name = "fake-veo"

    def __init__(
        self,
        project: str = "test-project",
        location: str = "us-central1",
        token: str | None = FAKE_TOKEN,
        models: frozenset[str] | None = None,
    ) -> None:
        super().__init__(project, location, token, models)
        self._operations: dict[str, _Operation] = {}
        self._ops_lock = threading.Lock()
        self.starts = ScriptedRoute(default=Accept(self))
        self.fetches = ScriptedRoute(default=Lookup(self))
        self.routes["predictLongRunning"] = self.starts
        self.routes["fetchPredictOperation"] = self.fetches

    def accept(self, outcome: Outcome | None = None, running_polls: int = 1) -> Accept:
        return Accept(self, outcome or Video(), running_polls)

    def add_operation(self, operation: _Operation) -> None:
        with self._ops_lock:
            self._operations[operation.name] = operation

    def advance(self, name: str) -> tuple[_Operation | None, bool]:
        """The operation and whether it is still running after this fetch."""
        with self._ops_lock:
            operation = self._operations.get(name)
            if operation is None or operation.polls_left <= 0:
                return operation, False
            operation.polls_left -= 1
            return operation, True

    def requests_for(self, action: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path_params.get("action") == action]

    def reset(self) -> None:
        super().reset()
        with self._ops_lock:
            self._operations.clear()

    def route_for(self, method: str, path: str) -> tuple[dict[str, str], Route | None]:
        match = V1_PATH_RE.match(path)
        if match is None or method != "POST":
            return {}, None
        params = match.groupdict()
        return params, self.routes.get(params["action"])
