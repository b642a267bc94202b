"""The composition root: the one place that builds an instance's dependencies.

``deps()`` is the instance's ``Deps``, built on first use from the environment; every client
inside it is created lazily, once, on the first call that needs it, so importing this module
(or ``main.py``) connects to nothing and a function pays only for the clients it uses. Handlers
pass ``deps()`` to services; services never build clients or read settings themselves.

Tests build ``Deps(settings, image_provider=..., clock=..., url_issuer=...)`` with fakes of our
own ports and install it with ``use(...)``; ``use(None)`` goes back to the environment.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from genmedia.breaker import Breakers
from genmedia.bucket import MediaBucket
from genmedia.clock import Clock, SystemClock
from genmedia.config import Settings, from_environment
from genmedia.logging import configure_logging
from genmedia.store.assets import new_asset_id
from genmedia.store.circuit import firestore_breaker
from genmedia.store.database import Database

if TYPE_CHECKING:
    import firebase_admin
    import google.cloud.storage as gcs
    from google.cloud import firestore, tasks_v2

    from genmedia.identity import UserDirectory
    from genmedia.media import ImageProvider
    from genmedia.media.processing import ImageProcessor
    from genmedia.media.video import VideoProvider
    from genmedia.moderation import Checker
    from genmedia.revocation import RevocationCache
    from genmedia.task_auth import TaskTokenVerifier
    from genmedia.task_queue import TaskQueue
    from genmedia.url_issuer import UrlIssuer
    from genmedia.url_signer import UrlSigner
    from genmedia.webhooks.ssrf import Resolver

T = TypeVar("T")
MODERATION_TTL_S = 30.0  # how soon an admin's denylist edit applies on every instance


class Deps:
    """Settings, clients and ports of one instance. Pass an argument to replace a port."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        image_provider: ImageProvider | None = None,
        video_provider: VideoProvider | None = None,
        task_queue: TaskQueue | None = None,
        webhook_queue: TaskQueue | None = None,
        export_queue: TaskQueue | None = None,
        erasure_queue: TaskQueue | None = None,
        purge_queue: TaskQueue | None = None,
        resolver: Resolver | None = None,
        url_issuer: UrlIssuer | None = None,
        url_signer: UrlSigner | None = None,
        user_directory: UserDirectory | None = None,
        database: Database | None = None,
        bucket: MediaBucket | None = None,
        new_id: Callable[[], str] | None = None,
    ) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        # Ids of new records (assets): opaque and unguessable; tests pass a sequence.
        self.new_id: Callable[[], str] = new_id or new_asset_id
        self._lock = threading.RLock()
        given = {
            "image_provider": image_provider,
            "video_provider": video_provider,
            "task_queue": task_queue,
            "webhook_queue": webhook_queue,
            "export_queue": export_queue,
            "erasure_queue": erasure_queue,
            "purge_queue": purge_queue,
            "resolver": resolver,
            "url_issuer": url_issuer,
            "url_signer": url_signer,
            "user_directory": user_directory,
        }
        self._made: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
        self.database = database or Database(self.firestore)
        self.bucket = bucket or MediaBucket(self.storage_bucket, settings.backend_deadline_seconds)
        self.breakers = Breakers(
            settings.breaker_failure_threshold,
            settings.breaker_reset_seconds,
            self.clock.monotonic,
        )
        self.firestore_breaker = self.breakers.add(
            firestore_breaker(
                settings.firestore_breaker_failure_threshold,
                settings.firestore_breaker_reset_seconds,
                self.clock.monotonic,
            )
        )

    def _once(self, name: str, make: Callable[[], T]) -> T:
        with self._lock:
            if name not in self._made:
                self._made[name] = make()
            value: T = self._made[name]
            return value

    # --- Google clients -------------------------------------------------------------------
    # The libraries find emulators through their own variables (FIRESTORE_EMULATOR_HOST,
    # STORAGE_EMULATOR_HOST, FIREBASE_AUTH_EMULATOR_HOST), which config refuses in production.
    # Firestore RPCs and Storage calls give up after settings.backend_deadline_seconds, so an
    # outage answers 503 + Retry-After promptly (genmedia/store/client.py, genmedia/bucket.py);
    # once Firestore has failed, its breaker answers them at once (genmedia/store/circuit.py).

    def firestore(self) -> firestore.Client:
        def make() -> firestore.Client:
            from genmedia.store.client import firestore_client

            s = self.settings
            return firestore_client(
                s.project_id,
                s.backend_deadline_seconds,
                s.firestore_emulator_host,
                self.firestore_breaker,
            )

        return self._once("firestore", make)

    def storage_bucket(self) -> gcs.Bucket:
        def make() -> gcs.Bucket:
            import google.cloud.storage as gcs

            client = gcs.Client(project=self.settings.project_id)
            return client.bucket(self.settings.media_bucket)

        return self._once("storage_bucket", make)

    def tasks(self) -> tasks_v2.CloudTasksClient:
        # Cloud Tasks has no emulator convention of its own, so the channel is wired here.
        def make() -> tasks_v2.CloudTasksClient:
            from google.cloud import tasks_v2

            host = self.settings.cloud_tasks_emulator_host
            if host is None:
                return tasks_v2.CloudTasksClient()
            import grpc
            from google.cloud.tasks_v2.services.cloud_tasks.transports import (
                CloudTasksGrpcTransport,
            )

            transport = CloudTasksGrpcTransport(channel=grpc.insecure_channel(host))
            return tasks_v2.CloudTasksClient(transport=transport)

        return self._once("tasks", make)

    def firebase_app(self) -> firebase_admin.App:
        def make() -> firebase_admin.App:
            import firebase_admin

            options = {"projectId": self.settings.project_id}
            # One app per Deps: tests build several in one process.
            return firebase_admin.initialize_app(options=options, name=f"genmedia-{id(self)}")

        return self._once("firebase_app", make)

    # --- our ports ------------------------------------------------------------------------

    def image_provider(self) -> ImageProvider:
        def make() -> ImageProvider:
            from genmedia.media import make_image_provider

            s = self.settings
            return make_image_provider(
                s.image_provider,
                project_id=s.project_id,
                location=s.vertex_location,
                model=s.imagen_model,
                base_url=s.vertex_base_url,
            )

        return self._once("image_provider", make)

    def video_provider(self) -> VideoProvider:
        def make() -> VideoProvider:
            s = self.settings
            if s.video_provider == "veo":
                from genmedia.media.veo import VeoProvider

                return VeoProvider(s.project_id, s.vertex_location, base_url=s.vertex_base_url)
            from genmedia.media.video_local import LocalVideoProvider

            return LocalVideoProvider(self.clock.now, render_seconds=s.local_video_seconds)

        return self._once("video_provider", make)

    def _queue(
        self, queue: str, url: str | None, path: str, deadline_s: float,
        content_type: str = "application/json",
    ) -> TaskQueue:  # fmt: skip
        from genmedia.task_queue import CloudTaskQueue, TaskTarget

        s, target = self.settings, None
        if url and s.tasks_service_account:
            target = TaskTarget(
                s.project_id, s.tasks_location, queue, url, path, s.tasks_service_account,
                dispatch_deadline_s=deadline_s, content_type=content_type,
            )  # fmt: skip
        return CloudTaskQueue(self.tasks, target)

    def task_queue(self) -> TaskQueue:
        """The video-jobs queue, delivering to the video worker."""
        from genmedia.task_queue import VIDEO_TASK_PATH

        s = self.settings
        deadline = max(15.0, s.job_lease_seconds)
        return self._once(
            "task_queue",
            lambda: self._queue(s.video_queue, s.video_worker_url, VIDEO_TASK_PATH, deadline),
        )

    def webhook_queue(self) -> TaskQueue:
        """The webhook-deliveries queue (an attempt takes at most the 15 s receiver timeout)."""
        from genmedia.task_queue import WEBHOOK_TASK_PATH

        s = self.settings
        return self._once(
            "webhook_queue",
            lambda: self._queue(s.webhook_queue, s.webhook_worker_url, WEBHOOK_TASK_PATH, 60.0),
        )

    def export_queue(self) -> TaskQueue:
        """The exports queue: one task per export, which may take minutes (a big library)."""
        from genmedia.task_queue import EXPORT_TASK_PATH

        s = self.settings
        return self._once(
            "export_queue",
            lambda: self._queue(s.export_queue, s.export_worker_url, EXPORT_TASK_PATH, 1800.0),
        )

    def erasure_queue(self) -> TaskQueue:
        """The erasures queue: one task per bounded step of an erasure."""
        from genmedia.task_queue import ERASURE_TASK_PATH

        s = self.settings
        return self._once(
            "erasure_queue",
            lambda: self._queue(s.erasure_queue, s.erasure_worker_url, ERASURE_TASK_PATH, 600.0),
        )

    def purge_queue(self) -> TaskQueue:
        """The maintenance queue, delivering CloudEvents to the purge function (continuations)."""
        s = self.settings
        return self._once(
            "purge_queue",
            lambda: self._queue(
                s.maintenance_queue, s.purge_url, "/", 300.0, "application/cloudevents+json"
            ),
        )

    def task_verifier(self, audience: str | None) -> TaskTokenVerifier:
        """Verifies task OIDC tokens addressed to ``audience`` (the worker's own URL)."""

        def make() -> TaskTokenVerifier:
            from genmedia.task_auth import TaskTokenVerifier

            s = self.settings
            return TaskTokenVerifier(audience, s.tasks_service_account, s.oidc_certs_url)

        return self._once(f"task_verifier {audience}", make)

    def resolver(self) -> Resolver:
        def make() -> Resolver:
            if self.settings.test_resolver_file:
                from genmedia.webhooks.file_resolver import FileResolver

                return FileResolver(self.settings.test_resolver_file)
            from genmedia.webhooks.ssrf import SystemResolver

            return SystemResolver()

        return self._once("resolver", make)

    def image_processor(self) -> ImageProcessor:
        def make() -> ImageProcessor:
            from genmedia.media.processing import ImageProcessor

            return ImageProcessor(self.settings.processing_concurrency)

        return self._once("image_processor", make)

    def moderation(self) -> Checker:
        def make() -> Checker:
            from genmedia.moderation import DenylistPolicy

            return DenylistPolicy(
                self.database.settings.denylist, self.settings.moderation_denylist,
                ttl_s=MODERATION_TTL_S, monotonic=self.clock.monotonic,
            )  # fmt: skip

        return self._once("moderation", make)

    def url_signer(self) -> UrlSigner:
        def make() -> UrlSigner:
            from genmedia.url_signer import UrlSigner

            return UrlSigner(self.settings, self.storage_bucket, self.clock)

        return self._once("url_signer", make)

    def url_issuer(self) -> UrlIssuer:
        def make() -> UrlIssuer:
            from genmedia.url_issuer import HttpUrlIssuer

            return HttpUrlIssuer(self.settings.public_base_url)

        return self._once("url_issuer", make)

    def revocations(self) -> RevocationCache:
        def make() -> RevocationCache:
            from genmedia.revocation import RevocationCache, fetch

            ttl = self.settings.revocation_cache_seconds
            return RevocationCache(
                lambda uid: fetch(self.firebase_app(), uid), ttl, self.clock.monotonic
            )

        return self._once("revocations", make)

    def user_directory(self) -> UserDirectory:
        def make() -> UserDirectory:
            from genmedia.identity import FirebaseUsers

            return FirebaseUsers(self.firebase_app)

        return self._once("user_directory", make)

    def close(self) -> None:
        """Release what was created (tests that build many)."""
        app = self._made.pop("firebase_app", None)
        if app is not None:
            import firebase_admin

            firebase_admin.delete_app(app)


_current: Deps | None = None
_current_lock = threading.Lock()


def deps() -> Deps:
    """This instance's dependencies, built from the environment on first use."""
    global _current
    with _current_lock:
        if _current is None:
            _current = Deps(from_environment())
        return _current


def use(replacement: Deps | None) -> None:
    """Install ``replacement`` as the instance's Deps (tests); None: from the environment."""
    global _current
    with _current_lock:
        previous, _current = _current, replacement
    if previous is not None and previous is not replacement:
        previous.close()


def boot() -> Settings:
    """Instance start-up (``main.py`` import): validate settings once, configure logging.

    A misconfigured instance, including one that would honour an emulator variable in
    production, fails at start instead of serving requests.
    """
    settings = deps().settings
    configure_logging(settings.function_name, settings.project_id, settings.log_level)
    return settings
