from __future__ import annotations

import io
from datetime import UTC, datetime
from functools import cache

import av
import pytest
from PIL import Image

from genmedia.media import video_files
from genmedia.media.video import VideoSpec
from genmedia.media.video_local import LocalVideoProvider


@cache
def mp4(aspect_ratio: str = "16:9", duration: int = 4, fps: int = 12) -> bytes:
    provider = LocalVideoProvider(lambda: datetime.now(UTC), fps=fps)
    return provider.render(
        VideoSpec(prompt="a lighthouse", model="local-video", duration_seconds=duration,
                  aspect_ratio=aspect_ratio, seed=1)  # type: ignore[arg-type]
    )  # fmt: skip


def test_probe_describes_the_decoded_file() -> None:
    info = video_files.probe(mp4(duration=6))

    assert (info.codec, info.width, info.height) == ("h264", 640, 360)
    assert info.fps == 12.0 and info.frames == 72
    assert info.duration_seconds == pytest.approx(6.0, abs=1 / 12)


def test_probe_of_portrait_video() -> None:
    info = video_files.probe(mp4("9:16", fps=8))

    assert (info.width, info.height, info.frames, info.fps) == (360, 640, 32, 8.0)


def test_probe_of_a_matroska_file_counts_frames_without_a_header_count() -> None:
    # Matroska stores no frame count, so the probe has to count packets itself.
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="matroska") as output:
        stream = output.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for index in range(15):
            frame = av.VideoFrame.from_image(Image.new("RGB", (64, 48), (index * 15, 80, 120)))
            frame.pts = index
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))

    info = video_files.probe(buffer.getvalue())

    assert (info.codec, info.width, info.height, info.frames) == ("h264", 64, 48, 15)
    assert info.duration_seconds == pytest.approx(1.5, abs=0.11)


@pytest.mark.parametrize(
    "data",
    [b"", b"not a video at all", b"\x00" * 4096, mp4()[:600]],
    ids=["empty", "text", "zeros", "truncated"],
)
def test_undecodable_bytes_are_a_value_error(data: bytes) -> None:
    with pytest.raises(ValueError, match="not a decodable video"):
        video_files.probe(data)
    with pytest.raises(ValueError, match="not a decodable video"):
        video_files.poster(data)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "JPEG"])
def test_a_still_image_is_not_a_video(fmt: str) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "red").save(buffer, format=fmt)

    with pytest.raises(ValueError, match="still image"):
        video_files.probe(buffer.getvalue())


def test_poster_is_a_webp_of_the_first_frame_scaled_to_fit() -> None:
    data = video_files.poster(mp4(), max_side=320)

    image = Image.open(io.BytesIO(data))
    assert image.format == "WEBP" and image.size == (320, 180)
    with av.open(io.BytesIO(mp4())) as container:
        first = next(container.decode(video=0)).to_image().resize((320, 180))
    difference = [abs(a - b) for a, b in zip(image.convert("RGB").getpixel((160, 90)),
                                             first.getpixel((160, 90)), strict=True)]  # fmt: skip
    assert max(difference) < 24


def test_poster_keeps_the_frame_size_when_it_fits_and_never_upscales() -> None:
    portrait = Image.open(io.BytesIO(video_files.poster(mp4("9:16"), max_side=640)))
    small = Image.open(io.BytesIO(video_files.poster(mp4(), max_side=4000)))

    assert portrait.size == (360, 640) and small.size == (640, 360)


def test_poster_default_and_invalid_max_side() -> None:
    assert Image.open(io.BytesIO(video_files.poster(mp4()))).size == (640, 360)
    with pytest.raises(ValueError):
        video_files.poster(mp4(), max_side=0)
