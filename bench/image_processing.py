"""Image pipeline timings: local generation, process_image, and bare Pillow for reference.

Run: .venv/bin/python bench/image_processing.py [iterations]
Prints figures only; nothing is asserted. "bare" is Image.open + PNG save with Pillow's
default zlib level 6 and again at process_image's level, i.e. the floor any re-encode
pays; process_image adds verification, metadata stripping, the WebP thumbnail and hashing.
"""

from __future__ import annotations

import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "functions"))

from PIL import Image

from genmedia.media import ImageSpec
from genmedia.media.local import LocalImageProvider
from genmedia.media.processing import PNG_COMPRESS_LEVEL, process_image

SIZES = {"1:1": "1024x1024", "16:9": "1024x576"}


def timings(action: Callable[[int], object], iterations: int) -> tuple[float, float]:
    """Median and p95 in milliseconds (one untimed warm-up call first)."""
    action(-1)
    samples = []
    for index in range(iterations):
        started = time.perf_counter()
        action(index)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95


def bare_pillow(data: bytes, compress_level: int = 6) -> None:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        image.save(io.BytesIO(), format="PNG", compress_level=compress_level)


def bench_size(provider: LocalImageProvider, ratio: str, label: str, iterations: int) -> None:
    def generate(index: int) -> bytes:
        spec = ImageSpec(prompt="benchmark scene", seed=index % 1000, aspect_ratio=ratio)
        return provider.generate(spec)[0].data

    sample = generate(0)
    gen = timings(generate, iterations)
    proc = timings(lambda _: process_image(sample), iterations)
    bare = timings(lambda _: bare_pillow(sample), iterations)
    bare_same_level = timings(lambda _: bare_pillow(sample, PNG_COMPRESS_LEVEL), iterations)
    rows = (gen, proc, bare, bare_same_level)
    cells = [f"{median:7.1f} / {p95:6.1f}" for median, p95 in rows]
    print(f"{label:<10} {cells[0]:>18} {cells[1]:>16} {cells[2]:>16} {cells[3]:>16}")
    result = process_image(sample)
    print(
        f"{'':<10} input {len(sample) // 1024} KiB -> png {len(result.png) // 1024} KiB,"
        f" thumbnail {len(result.thumbnail) // 1024} KiB"
    )


def main(iterations: int) -> None:
    provider = LocalImageProvider()
    print(f"image pipeline, {iterations} iterations each, times in ms (median / p95)")
    header = (
        f"{'size':<10} {'generate (local)':>18} {'process_image':>16}"
        f" {'bare, zlib 6':>16} {f'bare, zlib {PNG_COMPRESS_LEVEL}':>16}"
    )
    print(header)
    print("-" * len(header))
    for ratio, label in SIZES.items():
        bench_size(provider, ratio, label, iterations)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
