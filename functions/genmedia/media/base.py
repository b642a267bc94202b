"""Provider-neutral types for image generation.

Everything here is plain data so the service layer, the providers and the tests can share it
without importing Pillow or the Google Gen AI SDK.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from genmedia.catalog import ASPECT_RATIOS, MAX_IMAGES_PER_REQUEST, MAX_SEED
from genmedia.errors import FieldError, InvalidArgument


def dimensions_for(aspect_ratio: str, long_side: int = 1024) -> tuple[int, int]:
    """Pixel size (width, height) for ``aspect_ratio`` with ``long_side`` on the longer edge.

    Raises ``ValueError`` for a ratio outside ``ASPECT_RATIOS``: callers validate user input
    before it gets here, so an unknown ratio is a programming error.
    """
    if aspect_ratio not in ASPECT_RATIOS:
        raise ValueError(f"unsupported aspect ratio {aspect_ratio!r}")
    if long_side < 1:
        raise ValueError("long_side must be positive")
    w_part, h_part = (int(part) for part in aspect_ratio.split(":"))
    if w_part >= h_part:
        return long_side, round(long_side * h_part / w_part)
    return round(long_side * w_part / h_part), long_side


@dataclass(frozen=True)
class ImageSpec:
    """What to generate. ``model`` overrides the provider's default model when set."""

    prompt: str
    negative_prompt: str | None = None
    count: int = 1
    aspect_ratio: str = "1:1"
    seed: int | None = None
    style: str | None = None
    model: str | None = None

    def __post_init__(self) -> None:
        # Requests are validated upstream; this is the last line of defence so a bad spec
        # becomes a clean 422 instead of a provider error that trips the circuit breaker.
        problems: list[FieldError] = []
        if not self.prompt.strip():
            problems.append(FieldError("prompt", "must not be empty"))
        if not 1 <= self.count <= MAX_IMAGES_PER_REQUEST:
            problems.append(FieldError("count", f"must be between 1 and {MAX_IMAGES_PER_REQUEST}"))
        if self.aspect_ratio not in ASPECT_RATIOS:
            problems.append(
                FieldError("aspect_ratio", f"must be one of {', '.join(ASPECT_RATIOS)}")
            )
        if self.seed is not None and not 0 <= self.seed <= MAX_SEED:
            problems.append(FieldError("seed", f"must be between 0 and {MAX_SEED}"))
        if problems:
            raise InvalidArgument("Invalid image specification", errors=problems)

    def full_prompt(self) -> str:
        """The prompt sent to a model: the style, when given, is folded into the text."""
        if self.style:
            return f"{self.prompt}, in the style of {self.style}"
        return self.prompt


@dataclass(frozen=True)
class GeneratedImage:
    data: bytes
    mime_type: str
    seed: int | None = None


class ImageProvider(Protocol):
    """A text-to-image backend.

    ``generate`` returns between 1 and ``spec.count`` images, or raises ``ContentBlocked``
    (nothing survived the provider's safety filters) or ``ProviderError``. Only Vertex can
    return fewer than requested — when its filters drop some samples — so callers must charge
    by ``len(result)``. Providers never retry: the service wraps them in retry and a breaker.
    """

    name: str
    cost_per_image: Decimal

    def generate(self, spec: ImageSpec) -> list[GeneratedImage]: ...
