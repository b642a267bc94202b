"""One table per product fact: variants, aspect ratios, request limits and the id pattern.

Validation models, providers, storage paths, the router and OpenAPI all read these, so a new
variant or ratio is added here once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args


@dataclass(frozen=True)
class VariantFormat:
    extension: str
    content_type: str


# Variant of an asset -> how it is stored, per asset type. Every type has an original and a
# thumbnail (the library grid shows thumbnails of both); a video also has a full-size poster.
IMAGE_VARIANTS: dict[str, VariantFormat] = {
    "original": VariantFormat("png", "image/png"),
    "thumbnail": VariantFormat("webp", "image/webp"),
}
VIDEO_VARIANTS: dict[str, VariantFormat] = {
    "original": VariantFormat("mp4", "video/mp4"),
    "poster": VariantFormat("webp", "image/webp"),
    "thumbnail": VariantFormat("webp", "image/webp"),
}
VARIANTS: dict[str, dict[str, VariantFormat]] = {"image": IMAGE_VARIANTS, "video": VIDEO_VARIANTS}
EXTENSIONS: dict[str, str] = {
    "image/png": "png",
    "image/webp": "webp",
    "video/mp4": "mp4",
}
Variant = Literal["original", "thumbnail", "poster"]  # every key of VARIANTS, for validation

AspectRatio = Literal["1:1", "3:4", "4:3", "9:16", "16:9"]
ASPECT_RATIOS: tuple[AspectRatio, ...] = get_args(AspectRatio)

# Imagen accepts at most four samples per request; the local provider keeps the same ceiling
# so switching providers never changes which requests are valid.
MAX_IMAGES_PER_REQUEST = 4
MAX_SEED = 2**32 - 1

# Every id in a path (asset ids, uids): one URL segment of safe characters.
ID_PATTERN = r"[A-Za-z0-9_-]{1,128}"
ID_RE = re.compile(ID_PATTERN)
