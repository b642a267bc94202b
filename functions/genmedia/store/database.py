"""The Firestore database as the services see it: one repository per collection, and
transactions through ``run_transaction(work)``.

Built once per instance by the composition root; the Firestore client itself is created on
first use. Unit tests use an in-memory double with the same attributes (tests/fakes/store.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from genmedia.store.assets import AssetRepository
from genmedia.store.audit import AuditRepository
from genmedia.store.erasures import ErasureRepository
from genmedia.store.exports import ExportRepository
from genmedia.store.idempotency import IdempotencyRepository
from genmedia.store.jobs import JobRepository
from genmedia.store.moderation import ModerationEventRepository
from genmedia.store.owned import OwnedData
from genmedia.store.settings import SettingsRepository
from genmedia.store.transactions import run_transaction
from genmedia.store.usage import UsageRepository
from genmedia.store.users import UserRepository
from genmedia.store.webhooks import WebhookRepository

if TYPE_CHECKING:
    from google.cloud import firestore

T = TypeVar("T")
HEALTH_DOCUMENT = ("_health", "ping")


class Database:
    def __init__(self, client: Callable[[], firestore.Client]) -> None:
        self._client = client

    @property
    def client(self) -> firestore.Client:
        return self._client()

    @functools.cached_property
    def assets(self) -> AssetRepository:
        return AssetRepository(self.client)

    @functools.cached_property
    def usage(self) -> UsageRepository:
        return UsageRepository(self.client)

    @functools.cached_property
    def users(self) -> UserRepository:
        return UserRepository(self.client)

    @functools.cached_property
    def idempotency(self) -> IdempotencyRepository:
        return IdempotencyRepository(self.client)

    @functools.cached_property
    def jobs(self) -> JobRepository:
        return JobRepository(self.client)

    @functools.cached_property
    def webhooks(self) -> WebhookRepository:
        return WebhookRepository(self.client)

    @functools.cached_property
    def audit(self) -> AuditRepository:
        return AuditRepository(self.client)

    @functools.cached_property
    def exports(self) -> ExportRepository:
        return ExportRepository(self.client)

    @functools.cached_property
    def erasures(self) -> ErasureRepository:
        return ErasureRepository(self.client)

    @functools.cached_property
    def owned(self) -> OwnedData:
        return OwnedData(self.client)

    @functools.cached_property
    def settings(self) -> SettingsRepository:
        return SettingsRepository(self.client)

    @functools.cached_property
    def moderation_events(self) -> ModerationEventRepository:
        return ModerationEventRepository(self.client)

    def run_transaction(self, work: Callable[[firestore.Transaction], T]) -> T:
        return run_transaction(self.client, work)

    def ping(self, timeout_s: float) -> None:
        """One read that answers whether Firestore is reachable (readiness)."""
        collection, doc = HEALTH_DOCUMENT
        self.client.collection(collection).document(doc).get(timeout=timeout_s, retry=None)
