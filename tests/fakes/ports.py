"""Fakes of our own ports (provider, URL issuer and signer, bucket, user directory) and
``make_deps``, which builds the composition root's ``Deps`` around them for unit tests."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from PIL import Image

from genmedia.bootstrap import Deps
from genmedia.errors import ContentBlocked, NotFound, ProviderError
from genmedia.media import GeneratedImage, ImageSpec, dimensions_for
from genmedia.url_signer import SignedUrl
from tests.fakes.clock import FakeClock
from tests.fakes.store import InMemoryDatabase
from tests.unit._helpers import make_settings

PRICE = Decimal("0.04")


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


class FakeUrlIssuer:
    """``UrlIssuer``: a URL per variant for every id, or none while ``down``."""

    def __init__(self) -> None:
        self.down = False
        self.calls: list[tuple[str, list[str]]] = []

    def asset_urls(self, token: str, request_id: str, ids: list[str]) -> dict[str, Any]:
        self.calls.append((token, list(ids)))
        if self.down:
            return {}
        return {
            i: {v: {"url": f"https://signed.test/{i}/{v}", "expire_time": "x"} for v in VARIANTS}
            for i in ids
        }


VARIANTS = ("original", "thumbnail")


class FakeUrlSigner:
    """``UrlSigner``: deterministic URLs, every call recorded."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.signed: list[tuple[str, int, str, str | None]] = []

    def sign_get_url(
        self, path: str, ttl_seconds: int, *, requester: str, filename: str | None = None
    ) -> SignedUrl:
        self.signed.append((path, ttl_seconds, requester, filename))
        expire = self.clock.now() + timedelta(seconds=ttl_seconds)
        return SignedUrl(f"https://signed.test/{path}?ttl={ttl_seconds}", expire)

    def stats(self) -> dict[str, int]:
        return {"sign_calls": len(self.signed), "cache_hits": 0, "cache_size": 0}


class FakeBucket:
    """``MediaBucket`` over a dict; ``fail_on`` makes uploads to paths containing it fail."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.fail_on: str | None = None
        self.deleted: list[str] = []

    def upload_create_only(self, path: str, data: bytes, content_type: str) -> None:
        if self.fail_on and self.fail_on in path:
            raise ConnectionError(f"upload of {path} failed")
        if path in self.objects and self.objects[path] != data:
            raise RuntimeError("object exists with different content")
        self.objects[path] = data

    def delete_quietly(self, paths: list[str]) -> None:
        for path in paths:
            self.deleted.append(path)
            self.objects.pop(path, None)

    def move_objects(self, moves: list[tuple[str, str]]) -> None:
        for source, target in moves:
            if source in self.objects:
                self.objects[target] = self.objects.pop(source)

    def exists(self, timeout_s: float) -> bool:
        return True


class FakeUserDirectory:
    """``UserDirectory``: accounts by uid with their custom claims."""

    def __init__(self) -> None:
        self.accounts: dict[str, dict[str, Any]] = {}
        self.revoked: list[str] = []

    def claims(self, uid: str) -> dict[str, Any]:
        if uid not in self.accounts:
            raise NotFound("No such user")
        return dict(self.accounts[uid])

    def set_claims(self, uid: str, claims: dict[str, Any]) -> None:
        self.accounts[uid] = dict(claims)

    def revoke_sessions(self, uid: str) -> None:
        self.revoked.append(uid)


@dataclass
class Fakes:
    """A ``Deps`` built from fakes, with the fakes at hand."""

    deps: Deps
    clock: FakeClock
    db: InMemoryDatabase
    bucket: FakeBucket
    provider: FakeProvider
    issuer: FakeUrlIssuer
    signer: FakeUrlSigner
    users: FakeUserDirectory


def make_deps(start: datetime | None = None, **env: str) -> Fakes:
    clock, db, bucket = FakeClock(start), InMemoryDatabase(), FakeBucket()
    provider, issuer, signer = FakeProvider(), FakeUrlIssuer(), FakeUrlSigner(clock)
    users = FakeUserDirectory()
    settings = make_settings(GENMEDIA_RETRY_MAX_ATTEMPTS="1", **env)
    deps = Deps(
        settings, clock=clock, image_provider=provider, url_issuer=issuer, url_signer=signer,  # type: ignore[arg-type]
        user_directory=users, database=db, bucket=bucket,  # type: ignore[arg-type]
    )  # fmt: skip
    return Fakes(deps, clock, db, bucket, provider, issuer, signer, users)
