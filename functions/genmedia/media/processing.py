"""Normalise provider output: validate, strip metadata, re-encode, thumbnail, hash.

Metadata policy: the stored PNG carries no EXIF, XMP, text chunks or ICC profile. An image
that arrives with an embedded ICC profile is first converted to sRGB (so colours stay right
once the profile is gone); if the profile cannot be parsed the pixels are kept unchanged and
the profile is dropped. EXIF orientation is applied to the pixels before EXIF is discarded.
"""

from __future__ import annotations

import hashlib
import io
import threading
from dataclasses import dataclass

# Importing WebPImagePlugin registers WebP (the thumbnails' format) with Pillow. Without it,
# the first WebP open or save finds no WebP codec among the formats Pillow preloads (BMP, GIF,
# JPEG, PPM, PNG) and runs Image.init(), importing all ~45 of its format plugins (PDF, TIFF,
# EPS, ...): ~0.1 CPU-second of a cold start's first generation, for formats never used here.
from PIL import Image, ImageOps, UnidentifiedImageError, WebPImagePlugin  # noqa: F401

from genmedia.errors import ProviderError

# 40 MP is far beyond any generated image (Imagen tops out near 4 MP at 2K) yet small
# enough that one decode stays well inside a Cloud Function's memory.
MAX_PIXELS = 40_000_000
THUMBNAIL_LONG_SIDE = 256
THUMBNAIL_QUALITY = 80
# zlib level 6 is Pillow's default; on 1 MP generated images it costs ~2x level 3 for
# only a few percent smaller files, and these PNGs are written once and served from GCS.
PNG_COMPRESS_LEVEL = 3
# Only the formats generation providers actually return; keeping Pillow's other decoders
# out of reach shrinks the attack surface for hostile bytes.
ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP")
# Imagen's native sizes differ slightly from the nominal ratio (16:9 is 1408x768).
ASPECT_TOLERANCE = 0.1

_PNG_TRAILER = b"IEND\xaeB`\x82"


@dataclass(frozen=True)
class ProcessedImage:
    png: bytes
    thumbnail: bytes
    width: int
    height: int
    thumb_width: int
    thumb_height: int
    sha256: str


class ImageProcessor:
    """``process_image`` with a bound on how many images this instance decodes at once (each
    holds a few MB of pixels); one per instance, built by the composition root."""

    def __init__(self, concurrency: int) -> None:
        if concurrency < 1:
            raise ValueError("concurrency limit must be at least 1")
        self._gate = threading.BoundedSemaphore(concurrency)

    def process(
        self,
        data: bytes,
        *,
        expected_size: tuple[int, int] | None = None,
        expected_aspect_ratio: str | None = None,
    ) -> ProcessedImage:
        with self._gate:
            return process_image(
                data, expected_size=expected_size, expected_aspect_ratio=expected_aspect_ratio
            )


def process_image(
    data: bytes,
    *,
    expected_size: tuple[int, int] | None = None,
    expected_aspect_ratio: str | None = None,
) -> ProcessedImage:
    """Validate provider bytes and produce the stored PNG, its WebP thumbnail and hash.

    ``expected_size`` demands exact pixel dimensions (the local provider);
    ``expected_aspect_ratio`` ("16:9") accepts the provider's native size for that ratio
    within ``ASPECT_TOLERANCE`` (Vertex). Unusable bytes raise a non-retryable
    ``ProviderError``: a provider that returned garbage will not do better on a retry of
    the same bytes.
    """
    return _process(data, expected_size, expected_aspect_ratio)


def _process(
    data: bytes,
    expected_size: tuple[int, int] | None,
    expected_aspect_ratio: str | None,
) -> ProcessedImage:
    image = _decode(data)
    try:
        width, height = image.size
        _check_size(image.size, expected_size, expected_aspect_ratio)
        png = _encode_png(image)
        # The full-size pixels are no longer needed, so shrink in place rather than copy.
        image.thumbnail((THUMBNAIL_LONG_SIDE, THUMBNAIL_LONG_SIDE), Image.Resampling.LANCZOS)
        thumbnail = _encode_webp(image)
        thumb_width, thumb_height = image.size
    finally:
        image.close()
    return ProcessedImage(
        png=png,
        thumbnail=thumbnail,
        width=width,
        height=height,
        thumb_width=thumb_width,
        thumb_height=thumb_height,
        sha256=hashlib.sha256(png).hexdigest(),
    )


def _invalid(reason: str) -> ProviderError:
    return ProviderError(f"provider returned an unusable image: {reason}", retryable=False)


def _decode(data: bytes) -> Image.Image:
    """Open, verify and fully decode ``data``; returns a clean RGB or RGBA image."""
    if not data:
        raise _invalid("empty payload")
    try:
        with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as probe:
            # Image.open only parses the header, so this rejects a bomb before any decode.
            _check_pixels(probe.size)
            # verify() walks the chunk structure and CRCs, catching truncation and
            # corruption that a lazy decode might paper over.
            probe.verify()
            if probe.format == "PNG" and not data.endswith(_PNG_TRAILER):
                # verify() tolerates a file cut inside the closing IEND chunk.
                raise _invalid("truncated PNG (no IEND chunk)")
        with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as source:
            source.load()
            return _normalise(source)
    except ProviderError:
        raise
    except Image.DecompressionBombError:
        raise _invalid(f"more than {MAX_PIXELS} pixels") from None
    except UnidentifiedImageError:
        raise _invalid("not a PNG, JPEG or WebP image") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # Pillow reports truncation and corruption through all of these.
        raise _invalid(f"corrupt or truncated image data ({type(exc).__name__})") from None


def _check_pixels(size: tuple[int, int]) -> None:
    width, height = size
    if width < 1 or height < 1 or width * height > MAX_PIXELS:
        raise _invalid(f"{width}x{height} is outside the accepted size (1 to {MAX_PIXELS} pixels)")


def _normalise(source: Image.Image) -> Image.Image:
    """RGB, or RGBA when the image really uses transparency, with no metadata attached."""
    ImageOps.exif_transpose(source, in_place=True)
    has_alpha = source.mode in ("RGBA", "LA", "PA") or (
        source.mode == "P" and "transparency" in source.info
    )
    mode = "RGBA" if has_alpha else "RGB"
    image = _to_srgb(source, mode) or source.convert(mode)
    if has_alpha and image.getchannel("A").getextrema() == (255, 255):
        opaque = image.convert("RGB")
        image.close()
        image = opaque
    # A fresh info dict: Pillow's PNG writer falls back to info["icc_profile"] and friends.
    image.info = {}
    return image


def _to_srgb(image: Image.Image, mode: str) -> Image.Image | None:
    """``image`` converted from its embedded ICC profile to sRGB, or None if it has none."""
    icc_profile = image.info.get("icc_profile")
    if not isinstance(icc_profile, bytes) or not icc_profile:
        return None
    # Imported lazily: ImageCms loads littlecms, which only matters for profiled inputs.
    from PIL import ImageCms

    try:
        source_profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
        return ImageCms.profileToProfile(image, source_profile, srgb, outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        # An unreadable profile: keep the pixels as they are rather than fail the image.
        return None


def _check_size(
    size: tuple[int, int],
    expected_size: tuple[int, int] | None,
    expected_aspect_ratio: str | None,
) -> None:
    width, height = size
    if expected_size is not None and size != expected_size:
        raise _invalid(f"expected {expected_size[0]}x{expected_size[1]}, got {width}x{height}")
    if expected_aspect_ratio is not None:
        w_part, h_part = (int(part) for part in expected_aspect_ratio.split(":"))
        wanted = w_part / h_part
        if abs(width / height - wanted) / wanted > ASPECT_TOLERANCE:
            raise _invalid(f"expected aspect ratio {expected_aspect_ratio}, got {width}x{height}")


def _encode_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


def _encode_webp(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="WEBP", quality=THUMBNAIL_QUALITY)
    return buffer.getvalue()
