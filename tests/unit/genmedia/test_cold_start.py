"""What a cold instance loads before its first request needs it (cold start is user-visible
latency): entry points and handler modules load no client library, and an image's processing
loads only the Pillow codecs of the formats it reads and writes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.local.routes import load_routes
from tests.unit._helpers import modules_after as fresh_modules

FUNCTIONS_DIR = Path(__file__).resolve().parents[3] / "functions"
CLOUD_ENV = {
    "K_SERVICE": "health",
    "GOOGLE_CLOUD_PROJECT": "genmedia-prod",
    "GENMEDIA_MEDIA_BUCKET": "genmedia-prod-media",
}
# Loaded with the first request that uses them, never at start or with a handler module.
HEAVY = (
    "firebase_admin",
    "google.cloud.firestore",
    "google.cloud.storage",
    "google.cloud.tasks_v2",
    "google.genai",
    "google.auth.transport.requests",
    "grpc",
    "requests",
    "PIL",
)


def modules_after(code: str) -> list[str]:
    """``sys.modules`` after ``code`` runs in a fresh interpreter configured as in the cloud."""
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(FUNCTIONS_DIR), **CLOUD_ENV}
    return fresh_modules(code, env, cwd=FUNCTIONS_DIR)


def heavy_in(loaded: list[str]) -> list[str]:
    return [m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY)]


@pytest.mark.parametrize("function", sorted(load_routes().functions))
def test_main_and_a_handler_module_load_no_client_library(function: str) -> None:
    assert heavy_in(modules_after(f"import main, genmedia.handlers.{function}")) == []


def test_processing_an_image_loads_only_the_codecs_it_uses() -> None:
    code = (
        "import io; from PIL import Image; "
        "from genmedia.media.processing import process_image; "
        "buffer = io.BytesIO(); Image.new('RGB', (64, 64), 'red').save(buffer, format='PNG'); "
        "assert process_image(buffer.getvalue()).thumbnail[:4] == b'RIFF'"
    )
    plugins = [m for m in modules_after(code) if m.endswith("ImagePlugin")]
    # Pillow's five preloaded formats and WebP (thumbnails); not all ~45 of its plugins.
    assert sorted(plugins) == [
        f"PIL.{name}ImagePlugin" for name in ("Bmp", "Gif", "Jpeg", "Png", "Ppm", "WebP")
    ]


def test_a_first_moderation_check_reads_the_shipped_lookalikes_not_the_confusables_data() -> None:
    # Parsing confusable-homoglyphs' 900 KB data file cost a cold generate ~30-100 ms of CPU.
    code = (
        "from genmedia.moderation import denylist_checker; "
        "assert denylist_checker(['csam'])('\\u0441s\\u0430m') == 'denylist:csam'"
    )
    assert [m for m in modules_after(code) if m.startswith("confusable_homoglyphs")] == []


def test_main_leaves_what_it_imported_out_of_the_collectors_generations() -> None:
    # gc.freeze() at the end of main.py (the gunicorn master imports it before forking the
    # worker): the worker's collections during its first request no longer scan, nor write
    # to, the master's objects (bench/README.md: ~4.5 MiB less PSS, less CPU per cold start).
    code = "import gc, main; print(gc.get_freeze_count(), len(gc.get_objects()))"
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(FUNCTIONS_DIR), **CLOUD_ENV}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=FUNCTIONS_DIR, env=env, capture_output=True, text=True,
        check=True,
    ).stdout  # fmt: skip
    frozen, tracked = (int(n) for n in out.split())
    assert frozen > 10 * tracked
