"""Fakes of our own ports (provider, URL issuer and signer, bucket, user directory) and
``make_deps``, which builds the composition root's ``Deps`` around them for unit tests."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, BinaryIO

from PIL import Image

from genmedia.bootstrap import Deps
from genmedia.errors import ContentBlocked, NotFound, ProviderError
from genmedia.media import GeneratedImage, ImageSpec, dimensions_for
from genmedia.url_issuer import IMAGES
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

    def asset_urls(
        self, token: str, request_id: str, ids: list[str], variants: tuple[str, ...] = IMAGES
    ) -> dict[str, Any]:
        self.calls.append((token, list(ids)))
        if self.down:
            return {}
        return {
            i: {v: {"url": f"https://signed.test/{i}/{v}", "expire_time": "x"} for v in variants}
            for i in ids
        }


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
        self.after_upload: Callable[[str], None] | None = None  # runs after each upload
        self.created: dict[str, datetime] = {}  # upload times (tests may move them back)

    def upload_create_only(self, path: str, data: bytes, content_type: str) -> None:
        if self.fail_on and self.fail_on in path:
            raise ConnectionError(f"upload of {path} failed")
        if path in self.objects and self.objects[path] != data:
            raise RuntimeError("object exists with different content")
        self.objects[path] = data
        self.created.setdefault(path, datetime.now(UTC))
        if self.after_upload is not None:
            self.after_upload(path)

    def download(self, path: str) -> bytes:
        return self.objects[path]

    def open_writer(self, path: str, content_type: str) -> BinaryIO:
        bucket = self

        class Writer(io.BytesIO):
            def close(self) -> None:
                if not self.closed:
                    bucket.objects[path] = self.getvalue()
                super().close()

        return Writer()

    def open_reader(self, path: str) -> BinaryIO:
        if self.fail_on and self.fail_on in path:
            raise ConnectionError(f"download of {path} failed")
        return io.BytesIO(self.objects[path])

    def size(self, path: str) -> int | None:
        data = self.objects.get(path)
        return None if data is None else len(data)

    def delete_objects(self, paths: list[str]) -> None:
        for path in paths:
            if self.fail_on and self.fail_on in path:
                raise ConnectionError(f"delete of {path} failed")
            self.objects.pop(path, None)

    def delete_quietly(self, paths: list[str]) -> None:
        for path in paths:
            self.deleted.append(path)
            self.objects.pop(path, None)

    def move_objects(self, moves: list[tuple[str, str]]) -> None:
        for source, target in moves:
            if source in self.objects:
                self.objects[target] = self.objects.pop(source)

    def list_page(
        self, prefix: str, page_token: str | None, limit: int
    ) -> tuple[list[tuple[str, datetime]], str | None]:
        names = sorted(n for n in self.objects if n.startswith(prefix) and n > (page_token or ""))
        page = names[:limit]
        now = datetime.now(UTC)
        next_token = page[-1] if len(names) > limit else None
        return [(n, self.created.get(n, now)) for n in page], next_token

    def exists(self, timeout_s: float) -> bool:
        return True


class FakeUserDirectory:
    """``UserDirectory``: accounts by uid with their custom claims."""

    def __init__(self) -> None:
        self.accounts: dict[str, dict[str, Any]] = {}
        self.revoked: list[str] = []
        self.disabled: set[str] = set()
        self.deleted: list[str] = []

    def claims(self, uid: str) -> dict[str, Any]:
        if uid not in self.accounts:
            raise NotFound("No such user")
        return dict(self.accounts[uid])

    def set_claims(self, uid: str, claims: dict[str, Any]) -> None:
        self.accounts[uid] = dict(claims)

    def revoke_sessions(self, uid: str) -> None:
        self.revoked.append(uid)

    def disable(self, uid: str) -> None:
        self.disabled.add(uid)
        self.revoked.append(uid)

    def delete(self, uid: str) -> None:
        self.accounts.pop(uid, None)
        self.deleted.append(uid)


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
    video: FakeVideoProvider
    tasks: FakeTaskQueue
    hooks: FakeTaskQueue
    resolver: FakeResolver
    exports: FakeTaskQueue
    erasures: FakeTaskQueue


def make_deps(start: datetime | None = None, **env: str) -> Fakes:
    clock, db, bucket = FakeClock(start), InMemoryDatabase(), FakeBucket()
    provider, issuer, signer = FakeProvider(), FakeUrlIssuer(), FakeUrlSigner(clock)
    users, video, tasks = FakeUserDirectory(), FakeVideoProvider(), FakeTaskQueue()
    hooks, resolver = FakeTaskQueue(), FakeResolver()
    exports, erasures = FakeTaskQueue(), FakeTaskQueue()
    settings = make_settings(GENMEDIA_RETRY_MAX_ATTEMPTS="1", **env)
    deps = Deps(
        settings, clock=clock, image_provider=provider, url_issuer=issuer, url_signer=signer,  # type: ignore[arg-type]
        user_directory=users, database=db, bucket=bucket, video_provider=video, task_queue=tasks,  # type: ignore[arg-type]
        webhook_queue=hooks, resolver=resolver, export_queue=exports, erasure_queue=erasures,
    )  # fmt: skip
    return Fakes(
        deps, clock, db, bucket, provider, issuer, signer, users, video, tasks, hooks, resolver,
        exports, erasures,
    )  # fmt: skip


def sample_mp4(frames: int = 6, size: tuple[int, int] = (64, 36), fps: int = 12) -> bytes:
    """A real, tiny H.264 MP4 (what a provider hands the worker)."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for i in range(frames):
            image = Image.new("RGB", size, (40 * i % 256, 90, 160))
            for packet in stream.encode(av.VideoFrame.from_image(image)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


class FakeVideoProvider:
    """``VideoProvider`` following a script: each poll takes the next step of ``script``
    ("progress", "done", "staged", "transient", "permanent", "blocked", "failed-op"); the last
    repeats.
    As a provider other than ``local`` it is given a staging ``output_gcs_uri``."""

    name = "fake"
    default_model = "fake-video"

    def __init__(self) -> None:
        from genmedia.media.video import VideoModel

        self.models = {
            "fake-video": VideoModel((4, 8), ("720p",), False, Decimal("0.5")),
            "fake-audio": VideoModel((8,), ("720p", "1080p"), True, Decimal("1")),
        }
        self.script: list[str] = ["progress", "done"]
        self.started: list[tuple[Any, str | None]] = []
        self.polls = 0
        self.video = b""

    def start(self, spec: Any, *, output_gcs_uri: str | None = None) -> str:
        self.started.append((spec, output_gcs_uri))
        return f"operations/fake-{len(self.started)}"

    def poll(self, operation: str) -> Any:
        from genmedia.media.video import OperationStatus, Progress, VideoResult

        step = self.script[min(self.polls, len(self.script) - 1)]
        self.polls += 1
        if step == "transient":
            raise ProviderError("upstream 503", retryable=True, status=503)
        if step == "permanent":
            raise ProviderError("bad request", retryable=False, status=400)
        if step == "failed-op":  # the operation itself ended with a retryable failure
            from genmedia.media.video import OperationFailed

            raise OperationFailed("operation failed (13 INTERNAL)", retryable=True)
        if step == "blocked":
            raise ContentBlocked("The video was removed by the provider's safety filters")
        if step == "progress":
            return OperationStatus(False, Progress(40, "generating", 30))
        self.video = self.video or sample_mp4()
        if step == "staged":  # written to Cloud Storage, as Veo does with output_gcs_uri
            uri = f"{self.started[-1][1]}sample_0.mp4"
            return OperationStatus(True, Progress(100, "done", 0), VideoResult(gcs_uri=uri))
        return OperationStatus(True, Progress(100, "done", 0), VideoResult(data=self.video))


class FakeTaskQueue:
    """``TaskQueue``: tasks by id (a second enqueue of an id is refused, as named tasks are);
    ``down`` makes every enqueue fail."""

    def __init__(self) -> None:
        self.tasks: dict[str, tuple[dict[str, Any], datetime | None]] = {}
        self.down = False

    def enqueue(self, task_id: str, payload: dict[str, Any], *, at: datetime | None = None) -> bool:
        if self.down:
            raise ConnectionError("tasks unavailable")
        if task_id in self.tasks:
            return False
        self.tasks[task_id] = (payload, at)
        return True


class FakeResolver:
    """``Resolver`` over a dict of host -> addresses; unknown names do not resolve."""

    def __init__(self) -> None:
        self.table: dict[str, list[str]] = {}

    def resolve(self, host: str, port: int) -> list[str]:
        if host not in self.table:
            raise OSError(f"{host} does not resolve")
        return list(self.table[host])
