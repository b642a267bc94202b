from __future__ import annotations

import hashlib
import io
import struct
import threading
import time
import zlib
from collections.abc import Callable

import pytest
from PIL import Image, ImageCms, PngImagePlugin

from genmedia.errors import ProviderError
from genmedia.media import processing
from genmedia.media.processing import ImageProcessor, ProcessedImage, process_image


def encode(image: Image.Image, fmt: str = "PNG", **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def gradient(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    ramp = Image.linear_gradient("L").resize(size)
    channels = [ramp, ramp.transpose(Image.Transpose.FLIP_LEFT_RIGHT), ramp.rotate(90)]
    image = Image.merge("RGB", channels)
    return image.convert(mode) if mode != "RGB" else image


def png_chunk_types(data: bytes) -> list[bytes]:
    types, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        types.append(data[offset + 4 : offset + 8])
        offset += 12 + length
    return types


def exif_with_orientation(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "ACME Camera"  # Make
    return exif


def test_png_output_with_thumbnail_and_hash() -> None:
    result = process_image(encode(gradient((1024, 576))), expected_size=(1024, 576))

    assert isinstance(result, ProcessedImage)
    assert (result.width, result.height) == (1024, 576)
    assert (result.thumb_width, result.thumb_height) == (256, 144)
    assert result.sha256 == hashlib.sha256(result.png).hexdigest()
    with Image.open(io.BytesIO(result.png)) as png:
        assert (png.format, png.mode, png.size) == ("PNG", "RGB", (1024, 576))
    with Image.open(io.BytesIO(result.thumbnail)) as thumb:
        assert (thumb.format, thumb.size) == ("WEBP", (256, 144))


@pytest.mark.parametrize(("size", "thumb"), [((576, 1024), (144, 256)), ((300, 200), (256, 171))])
def test_thumbnail_keeps_aspect(size: tuple[int, int], thumb: tuple[int, int]) -> None:
    result = process_image(encode(gradient(size)))
    assert (result.thumb_width, result.thumb_height) == thumb


def test_png_metadata_is_stripped() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("prompt", "secret prompt text")
    info.add_itxt("Comment", "more text", lang="en")
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = encode(
        gradient((64, 48)), pnginfo=info, exif=exif_with_orientation(1), icc_profile=srgb
    )
    assert {b"tEXt", b"eXIf", b"iCCP"} <= set(png_chunk_types(source))

    result = process_image(source)

    assert png_chunk_types(result.png) == [b"IHDR", b"IDAT", b"IEND"]
    assert b"secret prompt" not in result.png
    with Image.open(io.BytesIO(result.png)) as png:
        assert not png.info.get("exif") and not png.info.get("icc_profile")
        assert not png.text  # type: ignore[attr-defined]
    # An sRGB profile converted to sRGB leaves the pixels essentially unchanged.
    with Image.open(io.BytesIO(source)) as original, Image.open(io.BytesIO(result.png)) as out:
        assert original.convert("RGB").getpixel((10, 10)) == out.getpixel((10, 10))


def test_jpeg_exif_orientation_applied_then_stripped() -> None:
    source = encode(gradient((80, 40)), "JPEG", exif=exif_with_orientation(6), quality=90)

    result = process_image(source)

    assert (result.width, result.height) == (40, 80)  # rotated upright
    assert b"ACME" not in result.png
    assert png_chunk_types(result.png) == [b"IHDR", b"IDAT", b"IEND"]


def test_unreadable_icc_profile_is_dropped() -> None:
    source = encode(gradient((32, 32)), icc_profile=b"not really an ICC profile")
    result = process_image(source)
    assert b"iCCP" not in png_chunk_types(result.png)


def test_transparency_is_kept_only_when_used() -> None:
    translucent = gradient((64, 64), "RGBA")
    translucent.putalpha(Image.linear_gradient("L").resize((64, 64)))
    opaque = gradient((64, 64), "RGBA")

    with Image.open(io.BytesIO(process_image(encode(translucent)).png)) as png:
        assert png.mode == "RGBA"
    with Image.open(io.BytesIO(process_image(encode(opaque)).png)) as png:
        assert png.mode == "RGB"


def test_palette_input_becomes_rgb() -> None:
    paletted = gradient((64, 64)).convert("P")
    with Image.open(io.BytesIO(process_image(encode(paletted)).png)) as png:
        assert png.mode == "RGB"


@pytest.mark.parametrize(
    "data",
    [b"", b"definitely not an image", b"<html>502 Bad Gateway</html>"],
    ids=["empty", "text", "html"],
)
def test_non_image_bytes_are_rejected(data: bytes) -> None:
    with pytest.raises(ProviderError) as caught:
        process_image(data)
    assert caught.value.retryable is False


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, -1], ids=["10%", "50%", "90%", "last-byte"])
def test_truncated_png_is_rejected(keep: float) -> None:
    data = encode(gradient((256, 256)))
    cut = len(data) - 1 if keep == -1 else int(len(data) * keep)
    with pytest.raises(ProviderError, match="unusable image") as caught:
        process_image(data[:cut])
    assert caught.value.retryable is False


def test_truncated_jpeg_is_rejected() -> None:
    data = encode(gradient((256, 256)), "JPEG")
    with pytest.raises(ProviderError):
        process_image(data[: len(data) // 2])


def test_corrupted_png_crc_is_rejected() -> None:
    data = bytearray(encode(gradient((64, 64))))
    data[40] ^= 0xFF  # inside the first IDAT chunk
    with pytest.raises(ProviderError):
        process_image(bytes(data))


def test_unaccepted_format_is_rejected() -> None:
    with pytest.raises(ProviderError, match="not a PNG, JPEG or WebP"):
        process_image(encode(gradient((32, 32)), "BMP"))


def test_dimension_mismatch_is_rejected() -> None:
    with pytest.raises(ProviderError, match="expected 1024x1024, got 1024x576") as caught:
        process_image(encode(gradient((1024, 576))), expected_size=(1024, 1024))
    assert caught.value.retryable is False


def test_aspect_ratio_check_tolerates_native_sizes() -> None:
    assert process_image(encode(gradient((1408, 768))), expected_aspect_ratio="16:9").width == 1408
    assert process_image(encode(gradient((896, 1280))), expected_aspect_ratio="3:4").height == 1280
    with pytest.raises(ProviderError, match="aspect ratio 16:9"):
        process_image(encode(gradient((1024, 1024))), expected_aspect_ratio="16:9")


def png_with_header_size(width: int, height: int) -> bytes:
    """A tiny PNG whose IHDR claims ``width``x``height`` (with a valid CRC)."""
    data = bytearray(encode(Image.new("RGB", (1, 1))))
    ihdr = bytes(data[12:16]) + struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(ihdr))
    return bytes(data)


@pytest.mark.parametrize(("width", "height"), [(8000, 8000), (30000, 30000)])
def test_decompression_bomb_is_rejected_before_decoding(width: int, height: int) -> None:
    started = time.perf_counter()
    with pytest.raises(ProviderError, match="pixels") as caught:
        process_image(png_with_header_size(width, height))
    assert caught.value.retryable is False
    assert time.perf_counter() - started < 1  # nothing was decoded or allocated


def test_a_processor_needs_at_least_one_slot() -> None:
    with pytest.raises(ValueError):
        ImageProcessor(0)


def run_concurrently(limit: int, monkeypatch: pytest.MonkeyPatch) -> int:
    """Run 8 process_image calls on 8 threads; return the peak number inside at once."""
    lock = threading.Lock()
    active = peak = 0
    real: Callable[..., ProcessedImage] = processing._process

    def tracked(*args: object) -> ProcessedImage:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        try:
            time.sleep(0.05)
            return real(*args)
        finally:
            with lock:
                active -= 1

    monkeypatch.setattr(processing, "_process", tracked)
    processor = ImageProcessor(limit)
    data = encode(gradient((128, 128)))
    start = threading.Barrier(8)
    results: list[ProcessedImage] = []

    def worker() -> None:
        start.wait()
        results.append(processor.process(data))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 8
    return peak


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_concurrency_bound_is_respected(limit: int, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_concurrently(limit, monkeypatch) == limit
