"""Offline video provider: a deterministic animation drawn with Pillow, encoded to H.264 MP4.

Used in development, tests and demos. It behaves like a long-running operation: ``start``
returns at once and ``poll`` reports progress from the wall time elapsed since the start,
finishing after ``render_seconds``. It keeps no state: the operation name carries what
``poll`` needs (a digest of the spec, the caption, the start time), so any instance can poll
it after a restart. The name carries a checksum so a corrupted or edited name fails loudly;
it is an integrity check, not authentication (the name is only ever stored by us).

The picture is a pure function of prompt, negative prompt, seed, model, aspect ratio,
resolution and duration: the same spec gives identical bytes, a new seed a new animation.

Failure simulation (for the worker's tests), by a token anywhere in the prompt:

- ``[fail:filtered]``: the finished operation raises ``ContentBlocked``;
- ``[fail:permanent]``: the finished operation raises ``ProviderError(retryable=False)``;
- ``[fail:transient]``: every poll raises ``ProviderError(retryable=True)``.

``output_gcs_uri`` is ignored: the video comes back as bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import os
import random
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal

from PIL import Image, ImageDraw

from genmedia.errors import ContentBlocked, ProviderError
from genmedia.media import local
from genmedia.media.video import (
    RESOLUTIONS,
    SHORT_SIDE,
    VIDEO_ASPECT_RATIOS,
    OperationStatus,
    Progress,
    VideoModel,
    VideoResult,
    VideoSpec,
)

PREFIX = "local-video/"
MAX_OPERATION_NAME_BYTES = 1500
_FAIL_TOKEN = re.compile(r"\[fail:(filtered|permanent|transient)\]")
_FAIL_MODES = ("filtered", "permanent", "transient")
_CHECK_CHARS = 16
# threads=1: x264's multi-threaded encoding depends on scheduling, and bytes must not.
_X264_OPTIONS = {"preset": "veryfast", "crf": "25", "threads": "1", "tune": "animation"}


@dataclass(frozen=True)
class _Job:
    """What an operation name carries (short keys: the name is stored and sent around)."""

    h: str  # digest of everything that shapes the picture
    c: str  # caption excerpt, already folded to ASCII
    m: str  # model
    d: int  # duration, seconds
    a: str  # aspect ratio
    r: str  # resolution
    f: str | None  # simulated failure mode
    t: int  # start, milliseconds since the epoch


class LocalVideoProvider:
    name = "local"
    models: dict[str, VideoModel] = {
        "local-video": VideoModel(
            durations=(4, 6, 8),
            resolutions=("720p", "1080p"),
            audio=False,
            cost_per_second=Decimal("0"),
        )
    }
    default_model = "local-video"

    def __init__(
        self,
        clock_wall: Callable[[], datetime],
        *,
        render_seconds: float = 3.0,
        fps: int = 12,
        max_long_side: int = 640,
    ) -> None:
        if render_seconds < 0 or fps < 1 or max_long_side < 16:
            raise ValueError("render_seconds >= 0, fps >= 1 and max_long_side >= 16 required")
        self._clock = clock_wall
        self.render_seconds = render_seconds
        self.fps = fps
        self.max_long_side = max_long_side

    def start(self, spec: VideoSpec, *, output_gcs_uri: str | None = None) -> str:
        return _encode_name(self._job_for(spec, _epoch_ms(self._clock())))

    def poll(self, operation: str) -> OperationStatus:
        job = _decode_name(operation, self.models)
        if job.f == "transient":
            raise ProviderError("Local video provider: simulated transient failure", retryable=True)
        elapsed = max(0.0, _epoch_ms(self._clock()) - job.t) / 1000
        if elapsed < self.render_seconds:
            percent = min(99, int(100 * elapsed / self.render_seconds))
            eta = math.ceil(self.render_seconds - elapsed)
            return OperationStatus(done=False, progress=Progress(percent, "rendering", eta))
        if job.f == "filtered":
            raise ContentBlocked("The video provider's safety filters blocked this video")
        if job.f == "permanent":
            raise ProviderError(
                "Local video provider: simulated permanent failure", retryable=False
            )
        return OperationStatus(
            done=True, progress=Progress(100, "done", 0), result=VideoResult(data=self._render(job))
        )

    def render(self, spec: VideoSpec) -> bytes:
        """The MP4 a finished operation for ``spec`` returns (exposed for the benchmark)."""
        return self._render(self._job_for(spec, 0))

    def _job_for(self, spec: VideoSpec, started_ms: int) -> _Job:
        model = self.models.get(spec.model)
        if model is None or spec.duration_seconds not in model.durations:
            raise ProviderError(
                f"Local video provider cannot make {spec.duration_seconds}s with {spec.model!r}",
                retryable=False,
            )
        if spec.resolution not in model.resolutions:
            raise ProviderError(f"Unsupported resolution {spec.resolution!r}", retryable=False)
        found = _FAIL_TOKEN.search(spec.prompt)
        key = "\x1f".join(
            (spec.prompt, spec.negative_prompt or "", str(spec.seed), spec.model, spec.aspect_ratio)
        )
        return _Job(
            h=hashlib.sha256(key.encode("utf-8")).hexdigest()[:32],
            c=local._caption_text(spec.prompt),
            m=spec.model,
            d=spec.duration_seconds,
            a=spec.aspect_ratio,
            r=spec.resolution,
            f=found.group(1) if found else None,
            t=started_ms,
        )

    def _render(self, job: _Job) -> bytes:
        size = frame_size(job.a, job.r, self.max_long_side)
        return _encode_mp4(_frames(job, size, self.fps), size, self.fps)


def frame_size(aspect_ratio: str, resolution: str, max_long_side: int) -> tuple[int, int]:
    """Even width and height for the aspect ratio, the long side capped at ``max_long_side``."""
    short = SHORT_SIDE[resolution]
    long_side = min(round(short * 16 / 9), max_long_side) // 2 * 2
    short_side = round(long_side * 9 / 16 / 2) * 2
    return (long_side, short_side) if aspect_ratio == "16:9" else (short_side, long_side)


def _epoch_ms(moment: datetime) -> int:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return round(aware.timestamp() * 1000)


def _encode_name(job: _Job) -> str:
    payload = json.dumps(asdict(job), separators=(",", ":"), ensure_ascii=True)
    body = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    name = f"{PREFIX}{body}.{_check(body)}"
    if len(name) > MAX_OPERATION_NAME_BYTES:  # bounded by the caption limit; a guard, not a path
        raise ProviderError("Local video operation name too long", retryable=False)
    return name


def _check(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()[:_CHECK_CHARS]


def _decode_name(name: str, models: dict[str, VideoModel]) -> _Job:
    malformed = ProviderError("Malformed local video operation name", retryable=False)
    if len(name) > MAX_OPERATION_NAME_BYTES or not name.startswith(PREFIX):
        raise malformed
    body, _, check = name.removeprefix(PREFIX).rpartition(".")
    if not body or check != _check(body):
        raise malformed
    try:
        raw = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        job = _Job(**raw)
    except (ValueError, TypeError, binascii.Error):
        raise malformed from None
    if not _valid(job, models):
        raise malformed
    return job


def _valid(job: _Job, models: dict[str, VideoModel]) -> bool:
    model = models.get(job.m) if isinstance(job.m, str) else None
    return (
        model is not None
        and isinstance(job.h, str)
        and re.fullmatch(r"[0-9a-f]{32}", job.h) is not None
        and isinstance(job.c, str)
        and len(job.c) <= local._CAPTION_CHARS
        and type(job.d) is int
        and job.d in model.durations
        and job.a in VIDEO_ASPECT_RATIOS
        and job.r in RESOLUTIONS
        and (job.f is None or job.f in _FAIL_MODES)
        and type(job.t) is int
    )


@dataclass(frozen=True)
class _Sprite:
    """A shape on a looping Lissajous path: whole cycles per clip, so the video loops."""

    colour: local.RGBA
    radius: float  # fraction of the short side
    sides: int  # 0 = circle
    cycles: tuple[int, int]  # x and y cycles per clip
    phase: tuple[float, float]
    spin: int  # whole turns per clip, signed

    def draw(self, draw: ImageDraw.ImageDraw, size: tuple[int, int], t: float) -> None:
        w, h = size
        angle = 2 * math.pi * t
        cx = w * (0.5 + 0.38 * math.sin(self.cycles[0] * angle + self.phase[0]))
        cy = h * (0.45 + 0.3 * math.sin(self.cycles[1] * angle + self.phase[1]))
        r = self.radius * min(w, h)
        if self.sides == 0:
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=self.colour)
        else:
            rotation = 360 * self.spin * t
            draw.regular_polygon((cx, cy, r), self.sides, rotation=rotation, fill=self.colour)


def _sprites(rng: random.Random, palette: list[local.RGB]) -> list[_Sprite]:
    return [
        _Sprite(
            colour=(*rng.choice(palette), rng.randint(120, 220)),
            radius=rng.uniform(0.06, 0.2),
            sides=rng.choice((0, 3, 4, 5, 6)),
            cycles=(rng.randint(1, 2), rng.randint(1, 3)),
            phase=(rng.uniform(0, 2 * math.pi), rng.uniform(0, 2 * math.pi)),
            spin=rng.choice((-1, 1)) * rng.randint(0, 2),
        )
        for _ in range(rng.randint(5, 8))
    ]


def _frames(job: _Job, size: tuple[int, int], fps: int) -> Iterator[Image.Image]:
    # Deterministic art, not security: a seeded PRNG is exactly what is wanted here.
    rng = random.Random(int(job.h, 16))  # noqa: S311
    palette = local._palette(rng)
    background = local._background(rng, palette, size).convert("RGBA")
    sprites = _sprites(rng, palette)
    caption = Image.new("RGBA", size, (0, 0, 0, 0))
    local._caption(caption, job.c)
    count = job.d * fps
    for index in range(count):
        frame = background.copy()
        layer = Image.new("RGBA", size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        for sprite in sprites:
            sprite.draw(draw, size, index / count)
        frame.alpha_composite(layer)
        frame.alpha_composite(caption)
        yield frame.convert("RGB")


def _encode_mp4(frames: Iterator[Image.Image], size: tuple[int, int], fps: int) -> bytes:
    # faststart puts the index first, so browsers can play before the download ends; FFmpeg
    # moves it by rereading the output, which it can do with a file but not with a BytesIO.
    with tempfile.TemporaryDirectory(prefix="genmedia-video-") as folder:
        path = os.path.join(folder, "video.mp4")
        _write_mp4(path, frames, size, fps)
        with open(path, "rb") as written:
            return written.read()


def _write_mp4(path: str, frames: Iterator[Image.Image], size: tuple[int, int], fps: int) -> None:
    import av

    with av.open(path, mode="w", format="mp4", options={"movflags": "+faststart"}) as output:
        stream = output.add_stream("libx264", rate=fps, options=_X264_OPTIONS)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for index, image in enumerate(frames):
            frame = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]  # PyAV's stub
            frame.pts = index
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
