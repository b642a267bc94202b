"""Facts about an MP4 and its poster frame, read by decoding the bytes themselves.

A provider's word about what it produced is not trusted: the stored asset describes the file
we actually have. PyAV is imported on first use so importing this module stays cheap.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.video.stream import VideoStream
    from PIL import Image

_WEBP_QUALITY = 82


@dataclass(frozen=True)
class VideoInfo:
    duration_seconds: float
    width: int
    height: int
    fps: float
    codec: str  # FFmpeg's decoder name, e.g. "h264"
    frames: int


def probe(data: bytes) -> VideoInfo:
    """Describe the first video stream; ``ValueError`` if it is not a decodable video."""
    import av

    try:
        with _open(data) as container:
            stream = _video_stream(container)
            # Decoding one frame proves the stream is usable, not just a plausible header.
            _first_frame(container, stream)
            return _describe(container, stream)
    except av.FFmpegError as exc:
        raise ValueError(f"not a decodable video ({type(exc).__name__})") from None


def poster(data: bytes, *, max_side: int = 640) -> bytes:
    """The first frame as WebP, scaled down (never up) to fit ``max_side`` on its long edge."""
    import av

    if max_side < 1:
        raise ValueError("max_side must be positive")
    try:
        with _open(data) as container:
            image = _first_frame(container, _video_stream(container))
    except av.FFmpegError as exc:
        raise ValueError(f"not a decodable video ({type(exc).__name__})") from None
    return _webp(image, max_side)


def _open(data: bytes) -> InputContainer:
    import av

    if not data:
        raise ValueError("not a decodable video (no bytes)")
    return av.open(io.BytesIO(data), mode="r")


def _video_stream(container: InputContainer) -> VideoStream:
    # FFmpeg reads a PNG or WebP as a one-frame "video" through its image demuxers.
    if container.format.name == "image2" or container.format.name.endswith("_pipe"):
        raise ValueError("not a decodable video (a still image)")
    if not container.streams.video:
        raise ValueError("not a decodable video (no video stream)")
    return container.streams.video[0]


def _first_frame(container: InputContainer, stream: VideoStream) -> Image.Image:
    for frame in container.decode(stream):
        image: Image.Image = frame.to_image()  # type: ignore[no-untyped-call]  # PyAV's stub
        return image
    raise ValueError("not a decodable video (no frame could be decoded)")


def _describe(container: InputContainer, stream: VideoStream) -> VideoInfo:
    fps = float(stream.average_rate or stream.guessed_rate or 0)
    frames = stream.frames or _count_packets(container, stream)
    if stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration = container.duration / 1_000_000  # AV_TIME_BASE: microseconds
    else:
        duration = frames / fps if fps else 0.0
    return VideoInfo(
        duration_seconds=duration,
        width=stream.codec_context.width,
        height=stream.codec_context.height,
        fps=fps,
        codec=stream.codec_context.name,
        frames=frames,
    )


def _count_packets(container: InputContainer, stream: VideoStream) -> int:
    # Containers without a frame count in their header: demuxing is cheap, decoding is not.
    container.seek(0)
    return sum(1 for packet in container.demux(stream) if packet.size)


def _webp(image: Image.Image, max_side: int) -> bytes:
    from PIL import Image

    rgb = image.convert("RGB")
    if max(rgb.size) > max_side:
        rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    rgb.save(buffer, format="WEBP", quality=_WEBP_QUALITY, method=4)
    return buffer.getvalue()
