"""Provider-neutral types for video generation: a long-running operation, started once and
polled until done.

Video takes minutes, so no request waits for it. The worker calls ``start`` once per job and
stores the operation name on the job; later deliveries call ``poll`` with that name, possibly
on another instance after a restart, so an operation name must carry everything ``poll``
needs. Plain data only: nothing here imports PyAV or the Google Gen AI SDK.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, Protocol, get_args

from genmedia.errors import ProviderError

VideoAspectRatio = Literal["16:9", "9:16"]
VIDEO_ASPECT_RATIOS: tuple[VideoAspectRatio, ...] = get_args(VideoAspectRatio)
Resolution = Literal["720p", "1080p"]
RESOLUTIONS: tuple[Resolution, ...] = get_args(Resolution)
# Short side in pixels of each resolution (16:9 at 720p is 1280x720).
SHORT_SIDE: dict[str, int] = {"720p": 720, "1080p": 1080}


class OperationFailed(ProviderError):
    """The operation itself ended in failure. When ``retryable``, polling it again returns the
    same failure: a new operation must be started (the worker does, a bounded number of times).
    """


@dataclass(frozen=True)
class VideoModel:
    """What one model accepts. ``cost_per_second`` is what a second of output costs us."""

    durations: tuple[int, ...]
    resolutions: tuple[Resolution, ...]
    audio: bool
    cost_per_second: Decimal


@dataclass(frozen=True)
class VideoSpec:
    """A validated request. ``model`` is a key of the provider's ``models``."""

    prompt: str
    model: str
    duration_seconds: int
    aspect_ratio: VideoAspectRatio = "16:9"
    resolution: Resolution = "720p"
    negative_prompt: str | None = None
    seed: int | None = None
    generate_audio: bool = False


@dataclass(frozen=True)
class Progress:
    percent: int  # 0..100
    stage: str  # short machine-friendly word: "queued", "rendering", "encoding", ...
    eta_seconds: int | None = None


@dataclass(frozen=True)
class VideoResult:
    """A finished operation's video: the MP4 bytes, or where the provider wrote it."""

    mime_type: str = "video/mp4"
    data: bytes | None = None
    gcs_uri: str | None = None  # gs://bucket/path, when the provider wrote to Cloud Storage


@dataclass(frozen=True)
class OperationStatus:
    """One poll: not done (with progress), or done with a video.

    A failed operation raises instead: ``ContentBlocked`` when the provider's filters removed
    the video (permanent), ``OperationFailed`` when the operation ended in failure (a new one
    may succeed if ``retryable``), ``ProviderError`` when the poll itself failed (``retryable``
    says whether polling again can help).
    """

    done: bool
    progress: Progress
    result: VideoResult | None = None
    details: dict[str, str] = field(default_factory=dict)


class VideoProvider(Protocol):
    """A text-to-video backend with the start → poll → done shape of a long-running operation.

    Providers never retry; the worker turns retryable errors into task retries (backoff by
    Cloud Tasks). ``start`` may be called again for the same job after a crash between it and
    storing the operation name: a new operation is then started (the old one is abandoned).
    """

    name: str
    models: dict[str, VideoModel]
    default_model: str

    def start(self, spec: VideoSpec, *, output_gcs_uri: str | None = None) -> str:
        """Start generating; the operation name to poll."""
        ...

    def poll(self, operation: str) -> OperationStatus: ...
