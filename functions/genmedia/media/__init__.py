"""Image generation providers and post-processing.

Importing this package stays cheap: Pillow loads with ``local``/``processing`` and the
Google Gen AI SDK only when a Vertex provider makes its first call.
"""

from __future__ import annotations

from genmedia.catalog import ASPECT_RATIOS, MAX_IMAGES_PER_REQUEST
from genmedia.media.base import (
    GeneratedImage,
    ImageProvider,
    ImageSpec,
    dimensions_for,
)

__all__ = [
    "ASPECT_RATIOS",
    "MAX_IMAGES_PER_REQUEST",
    "GeneratedImage",
    "ImageProvider",
    "ImageSpec",
    "dimensions_for",
    "make_image_provider",
]


def make_image_provider(
    kind: str,
    *,
    project_id: str,
    location: str,
    model: str,
    base_url: str | None = None,
    credentials: object | None = None,
) -> ImageProvider:
    """Build the provider named by settings (``"local"`` or ``"vertex"``).

    Vertex arguments are ignored for ``"local"``, so settings can pass them unconditionally.
    """
    if kind == "local":
        from genmedia.media.local import LocalImageProvider

        return LocalImageProvider()
    if kind == "vertex":
        from genmedia.media.vertex import VertexImagenProvider

        return VertexImagenProvider(
            project_id, location, model, base_url=base_url, credentials=credentials
        )
    raise ValueError(f"unknown image provider {kind!r}; expected 'local' or 'vertex'")
