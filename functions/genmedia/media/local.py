"""Offline image provider: deterministic abstract compositions drawn with Pillow.

Used in development, tests and demos. The picture is a pure function of prompt, seed, style,
aspect ratio and image index, so retries and idempotent replays produce identical bytes,
while any change to those inputs produces a visibly different image.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import random
import threading
import unicodedata
from decimal import Decimal
from functools import cache

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from genmedia.media.base import GeneratedImage, ImageSpec, dimensions_for

RGB = tuple[int, int, int]
RGBA = tuple[int, int, int, int]

_CAPTION_CHARS = 60
# Low PNG compression: these bytes are re-encoded by processing anyway, so spending CPU on a
# smaller intermediate file would only slow local generation down.
_PNG_COMPRESS_LEVEL = 1


# One FreeType face is shared by all threads, and FreeType faces are not safe to render
# from several threads at once.
_font_lock = threading.Lock()


@cache
def _caption_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _rng(spec: ImageSpec, index: int) -> random.Random:
    key = "\x1f".join(
        (spec.prompt, str(spec.seed), spec.style or "", spec.aspect_ratio, str(index))
    )
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    # Deterministic art, not security: a seeded PRNG is exactly what is wanted here.
    return random.Random(int.from_bytes(digest, "big"))  # noqa: S311


def _palette(rng: random.Random) -> list[RGB]:
    """Five related colours: a base hue plus harmonies (analogous, triadic, complementary)."""
    base = rng.random()
    offsets = rng.choice(
        [(0.0, 0.08, -0.08, 0.5, 0.42), (0.0, 0.33, 0.67, 0.05, 0.38), (0.0, 0.5, 0.1, 0.6, -0.1)]
    )
    colours: list[RGB] = []
    for offset in offsets:
        hue = (base + offset) % 1.0
        sat = rng.uniform(0.45, 0.95)
        val = rng.uniform(0.35, 1.0)
        r, g, b = colorsys.hsv_to_rgb(hue, sat, val)
        colours.append((round(r * 255), round(g * 255), round(b * 255)))
    return colours


def _background(rng: random.Random, palette: list[RGB], size: tuple[int, int]) -> Image.Image:
    # A handful of palette colours on a tiny grid, upscaled bicubically, gives a smooth
    # multi-stop mesh gradient without any per-pixel Python work.
    cols, rows = rng.randint(2, 4), rng.randint(2, 4)
    grid = Image.new("RGB", (cols, rows))
    grid.putdata([rng.choice(palette) for _ in range(cols * rows)])
    background = grid.resize(size, Image.Resampling.BICUBIC)
    # A radial vignette keeps the composition centred and adds depth.
    vignette = Image.radial_gradient("L").resize(size, Image.Resampling.BILINEAR)
    shade = Image.new("RGB", size, (0, 0, 0))
    return Image.composite(shade, background, vignette.point(lambda v: v * 45 // 100))


def _with_alpha(colour: RGB, alpha: int) -> RGBA:
    return (*colour, alpha)


def _draw_circle(draw: ImageDraw.ImageDraw, rng: random.Random, fill: RGBA, w: int, h: int) -> None:
    radius = rng.uniform(0.06, 0.28) * min(w, h)
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=fill)


def _draw_polygon(
    draw: ImageDraw.ImageDraw, rng: random.Random, fill: RGBA, w: int, h: int
) -> None:
    sides = rng.randint(3, 7)
    radius = rng.uniform(0.08, 0.3) * min(w, h)
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    rotation = rng.uniform(0, 360)
    draw.regular_polygon((cx, cy, radius), sides, rotation=rotation, fill=fill)


def _draw_band(draw: ImageDraw.ImageDraw, rng: random.Random, fill: RGBA, w: int, h: int) -> None:
    """A thick cubic Bézier stroke sweeping across the canvas."""
    p0 = (rng.uniform(-0.1, 0.2) * w, rng.uniform(0, 1) * h)
    p1 = (rng.uniform(0, 1) * w, rng.uniform(-0.3, 1.3) * h)
    p2 = (rng.uniform(0, 1) * w, rng.uniform(-0.3, 1.3) * h)
    p3 = (rng.uniform(0.8, 1.1) * w, rng.uniform(0, 1) * h)
    points = []
    for step in range(33):
        t = step / 32
        u = 1 - t
        x = u**3 * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t**3 * p3[0]
        y = u**3 * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t**3 * p3[1]
        points.append((x, y))
    width = max(4, round(rng.uniform(0.02, 0.07) * min(w, h)))
    draw.line(points, fill=fill, width=width, joint="curve")


_SHAPES = (_draw_circle, _draw_polygon, _draw_band)


def _shapes_layer(rng: random.Random, palette: list[RGB], size: tuple[int, int]) -> Image.Image:
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    w, h = size
    for _ in range(rng.randint(5, 9)):
        shape = rng.choice(_SHAPES)
        shape(draw, rng, _with_alpha(rng.choice(palette), rng.randint(110, 220)), w, h)
    return layer


def _glow(layer: Image.Image, radius: float) -> Image.Image:
    # Blurring at quarter resolution and scaling back is several times cheaper than a
    # full-size Gaussian blur, and a glow has no fine detail to lose.
    small = layer.reduce(4).filter(ImageFilter.GaussianBlur(radius / 4))
    return small.resize(layer.size, Image.Resampling.BILINEAR)


def _caption_text(text: str) -> str:
    # Pillow's built-in font only covers basic Latin: fold accents away and drop the rest
    # rather than draw boxes for missing glyphs.
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    excerpt = " ".join(folded.split())
    if len(excerpt) > _CAPTION_CHARS:
        excerpt = excerpt[: _CAPTION_CHARS - 3].rstrip() + "..."
    return excerpt


def _caption(image: Image.Image, text: str) -> None:
    w, h = image.size
    strip_h = max(24, max(w, h) // 22)
    excerpt = _caption_text(text)
    overlay = Image.new("RGBA", (w, strip_h), (10, 10, 16, 150))
    draw = ImageDraw.Draw(overlay)
    font = _caption_font(round(strip_h * 0.55))
    with _font_lock:
        draw.text(
            (strip_h // 2, strip_h // 2), excerpt, font=font, fill=(245, 245, 250, 255), anchor="lm"
        )
    region = (0, h - strip_h, w, h)
    image.paste(Image.alpha_composite(image.crop(region), overlay), region[:2])


def render(spec: ImageSpec, index: int) -> Image.Image:
    """Draw image ``index`` of ``spec`` as an RGBA Pillow image (exposed for the benchmark)."""
    rng = _rng(spec, index)
    size = dimensions_for(spec.aspect_ratio)
    palette = _palette(rng)
    image = _background(rng, palette, size).convert("RGBA")
    shapes = _shapes_layer(rng, palette, size)
    image.alpha_composite(_glow(shapes, rng.uniform(18, 40)))
    image.alpha_composite(shapes)
    _caption(image, spec.prompt)
    return image


class LocalImageProvider:
    name = "local"
    cost_per_image = Decimal("0")

    def generate(self, spec: ImageSpec) -> list[GeneratedImage]:
        return [self._one(spec, index) for index in range(spec.count)]

    def _one(self, spec: ImageSpec, index: int) -> GeneratedImage:
        image = render(spec, index).convert("RGB")
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", compress_level=_PNG_COMPRESS_LEVEL)
        image.close()
        return GeneratedImage(data=buffer.getvalue(), mime_type="image/png", seed=spec.seed)
