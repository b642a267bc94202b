"""Entry points of functions/main.py, run in process by functions-framework against the stack.

Fixtures:
- ``functions``: ``configure(**env)`` sets function settings, ``client(target)`` builds
  ``create_app(target, source="functions/main.py")`` and returns its Flask test client,
  ``provider(*script)`` installs a fake image provider, ``generate(...)`` posts a generation.
  Building an app re-executes main.py (functions-framework 3.x loads the source file as a new
  module on every ``create_app``; nothing is cached by path), so ``boot()`` validates the
  environment of the moment. Settings, clients, breakers and the provider/moderation caches are
  cleared whenever a test configures and again after it, so no test sees another's settings.
- ``emulators``: what Firestore and Cloud Storage hold, read with the real Google clients.
- ``problem``: asserts an RFC 9457 problem response and returns its body.
"""

from __future__ import annotations

import functools
import io
import json
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import flask.testing
import functions_framework
import pytest
from google.cloud import firestore, storage
from PIL import Image

import genmedia.clients
import genmedia.config
import genmedia.resilience
import genmedia.services.images as images_service
from genmedia.errors import ContentBlocked, ProviderError
from genmedia.media import GeneratedImage, ImageSpec, dimensions_for
from infra.local.seed import ensure_signing_key
from tests.support.harness import User

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "functions" / "main.py"
GENERATE = "/v1/images:generate"
PROBLEM = "application/problem+json"
PRICE = Decimal("0.04")

# The real cached functions, kept before any test replaces the module attributes.
_IMAGE_PROVIDER = images_service.image_provider
_CHECKER = images_service._checker

DEFAULT_ENV = {
    "GENMEDIA_RATE_LIMIT_BURST": "1000",
    "GENMEDIA_RATE_LIMIT_PER_MINUTE": "1000",
    "GENMEDIA_RETRY_MAX_ATTEMPTS": "1",
    "GENMEDIA_BREAKER_FAILURE_THRESHOLD": "2",
    "GENMEDIA_BREAKER_RESET_SECONDS": "30",
}
# Variables a developer shell may hold that would change what the functions do.
_UNSET = ("K_SERVICE", "GENMEDIA_MODERATION_DENYLIST", "GENMEDIA_IMAGE_PROVIDER")


def reset_function_caches() -> None:
    genmedia.config.get_settings.cache_clear()
    genmedia.clients.reset_clients()
    genmedia.resilience.reset_breakers()
    _IMAGE_PROVIDER.cache_clear()
    _CHECKER.cache_clear()


# --- a fake image provider (our own port) -------------------------------------------------------


def png_bytes(size: tuple[int, int], shade: int = 0) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (shade % 256, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def _images(spec: ImageSpec, count: int) -> list[GeneratedImage]:
    size = dimensions_for(spec.aspect_ratio)
    return [GeneratedImage(png_bytes(size, 40 * i), "image/png") for i in range(count)]


def _fail(_: ImageSpec) -> list[GeneratedImage]:
    raise ProviderError("upstream 503", retryable=True, status=503)


def _blocked(_: ImageSpec) -> list[GeneratedImage]:
    raise ContentBlocked("All samples were filtered by the provider's safety filters")


BEHAVIOURS: dict[str, Callable[[ImageSpec], list[GeneratedImage]]] = {
    "ok": lambda spec: _images(spec, spec.count),
    "short": lambda spec: _images(spec, spec.count - 1),  # one sample filtered out
    # Every sample but the last is a real image: one bad sample fails the whole request.
    "garbage": lambda spec: [
        *_images(spec, spec.count - 1),
        GeneratedImage(b"<html>502 Bad Gateway</html>", "image/png"),
    ],
    "fail": _fail,
    "blocked": _blocked,
}


@dataclass
class FakeProvider:
    """An ImageProvider that behaves as ``script`` says call by call, then as ``default``."""

    script: list[str] = field(default_factory=list)
    default: str = "ok"
    name: str = "fake"
    cost_per_image: Decimal = PRICE
    specs: list[ImageSpec] = field(default_factory=list)
    # When held, calls signal ``entered`` and wait for ``release`` before answering.
    entered: threading.Event = field(default_factory=threading.Event)
    release: threading.Event | None = None

    @property
    def calls(self) -> int:
        return len(self.specs)

    def hold(self) -> threading.Event:
        self.release = threading.Event()
        return self.release

    def generate(self, spec: ImageSpec) -> list[GeneratedImage]:
        self.specs.append(spec)
        self.entered.set()
        if self.release is not None and not self.release.wait(timeout=60):
            raise RuntimeError("the test never released the held provider call")
        behaviour = self.script.pop(0) if self.script else self.default
        return BEHAVIOURS[behaviour](spec)


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# --- the functions under test --------------------------------------------------------------------


class Functions:
    """Builds in-process apps for the entry points of functions/main.py."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, key_file: Path) -> None:
        self._mp = monkeypatch
        # create_app appends functions/ to sys.path and sets sys.modules["main"]: undo both.
        monkeypatch.setattr(sys, "path", list(sys.path))
        monkeypatch.delitem(sys.modules, "main", raising=False)
        for name in _UNSET:
            monkeypatch.delenv(name, raising=False)
        self.configure(GENMEDIA_LOCAL_SIGNING_KEY_FILE=str(key_file), **DEFAULT_ENV)

    def configure(self, **env: str) -> None:
        """Set function environment variables (before building the apps that should see them)."""
        for name, value in env.items():
            self._mp.setenv(name, value)
        reset_function_caches()

    def client(self, target: str) -> flask.testing.FlaskClient:
        # create_app writes FUNCTION_TARGET and FUNCTION_SIGNATURE_TYPE into os.environ.
        self._mp.setenv("FUNCTION_TARGET", target)
        self._mp.setenv("FUNCTION_SIGNATURE_TYPE", "http")
        app = functions_framework.create_app(target=target, source=str(MAIN))
        return app.test_client()

    def provider(self, *script: str, default: str = "ok") -> FakeProvider:
        """Install a fake provider for this test (what ``image_provider()`` returns)."""
        fake = FakeProvider(list(script), default)
        self._mp.setattr(images_service, "image_provider", lambda: fake)
        return fake

    def breaker_clock(self) -> FakeClock:
        """Make the provider circuit breakers created from now on read a fake clock."""
        clock = FakeClock()
        breaker = functools.partial(genmedia.resilience.CircuitBreaker, clock=clock)
        self._mp.setattr(genmedia.resilience, "CircuitBreaker", breaker)
        genmedia.resilience.reset_breakers()
        return clock

    @staticmethod
    def generate(
        client: flask.testing.FlaskClient,
        user: User | None,
        body: dict[str, Any] | None = None,
        *,
        key: str | None = None,
    ) -> Any:
        headers = user.headers() if user else {}
        if key is not None:
            headers["Idempotency-Key"] = key
        return client.post(GENERATE, json=body or {"prompt": "a lighthouse"}, headers=headers)


@pytest.fixture(scope="session")
def signing_key(tmp_path_factory: pytest.TempPathFactory, stack_info: dict[str, Any]) -> Path:
    path = tmp_path_factory.mktemp("signing") / "key.json"
    ensure_signing_key(path, stack_info["project_id"])
    return path


@pytest.fixture
def functions(
    clean_stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch, signing_key: Path
) -> Iterator[Functions]:
    yield Functions(monkeypatch, signing_key)
    reset_function_caches()


# --- assertions and what the emulators hold ------------------------------------------------------


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body: dict[str, Any] = json.loads(response.get_data())
    assert (body["status"], body["code"]) == (status, code)
    return body


@pytest.fixture
def problem() -> Callable[[Any, int, str], dict[str, Any]]:
    """``problem(response, status, code)``: assert a problem+json answer, return its body."""
    return _problem


class Emulators:
    """What the stack holds, read with real Google clients."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.db = firestore.Client(project=info["project_id"])
        self.bucket = storage.Client(project=info["project_id"]).bucket(info["media_bucket"])

    def usage(self, uid: str) -> dict[str, Any] | None:
        return self.db.collection("usage").document(uid).get().to_dict()

    def images_used(self, uid: str) -> int:
        return int((self.usage(uid) or {}).get("images", 0))

    def cost_micros(self, uid: str) -> int:
        return int((self.usage(uid) or {}).get("cost_micros", 0))

    def asset_states(self, uid: str) -> dict[str, str]:
        query = self.db.collection("assets").where(
            filter=firestore.FieldFilter("owner_uid", "==", uid)
        )
        return {s.id: s.get("state") for s in query.stream()}

    def objects(self, prefix: str = "") -> list[str]:
        return sorted(b.name for b in self.bucket.list_blobs(prefix=prefix))

    def docs(self, collection: str) -> list[dict[str, Any]]:
        return [s.to_dict() or {} for s in self.db.collection(collection).stream()]


@pytest.fixture
def emulators(clean_stack: dict[str, Any]) -> Emulators:
    return Emulators(clean_stack)
