"""An in-memory double of ``genmedia.store.database.Database`` for service unit tests.

Same repositories and methods as the Firestore ones, over dicts. ``run_transaction`` serialises
callers with one lock and rolls every change back when the work raises, which is what the
services rely on Firestore transactions for.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from genmedia.store.assets import AssetQuery
from genmedia.store.audit import AuditQuery
from genmedia.store.jobs import JobQuery
from genmedia.store.owned import AUDIT_USER_FIELDS, field_of
from genmedia.store.records import (
    AssetRecord,
    AuditEvent,
    ErasureRecord,
    ExportRecord,
    IdempotencyRecord,
    JobRecord,
    ModerationEvent,
    UsageRecord,
    UserRecord,
    WebhookRecord,
)

T = TypeVar("T")


class Conflict(Exception):
    """What a create-only write of an existing document fails with."""


class _State:
    def __init__(self) -> None:
        self.assets: dict[str, AssetRecord] = {}
        self.usage: dict[str, UsageRecord] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.idempotency: dict[str, tuple[IdempotencyRecord, datetime]] = {}
        self.moderation_events: list[ModerationEvent] = []
        self.jobs: dict[str, JobRecord] = {}
        self.webhooks: dict[str, WebhookRecord] = {}
        self.audit: list[tuple[str, AuditEvent]] = []
        self.exports: dict[str, ExportRecord] = {}
        self.erasures: dict[str, ErasureRecord] = {}
        self.denylist: tuple[str, ...] | None = None
        self.orphan_cursor: str | None = None
        self.writes = 0  # a logical clock for update times

    def stamp(self) -> datetime:
        self.writes += 1
        return datetime(2000, 1, 1, tzinfo=UTC) + timedelta(microseconds=self.writes)


class FakeAssets:
    def __init__(self, state: _State) -> None:
        self.s = state

    def create(self, txn: object, asset: AssetRecord) -> None:
        if asset.id in self.s.assets:
            raise Conflict(asset.id)
        self.s.assets[asset.id] = asset

    def put(self, txn: object, asset: AssetRecord) -> None:
        self.s.assets[asset.id] = asset

    def mark_failed(self, txn: object, asset_ids: list[str], now: datetime) -> None:
        for i in asset_ids:
            self.s.assets[i] = replace(self.s.assets[i], state="FAILED", update_time=now)

    def get(self, asset_id: str, txn: object = None) -> AssetRecord | None:
        return self.s.assets.get(asset_id)

    def get_many(self, asset_ids: Iterable[str], txn: object = None) -> dict[str, AssetRecord]:
        return {i: self.s.assets[i] for i in dict.fromkeys(asset_ids) if i in self.s.assets}

    def activate(self, txn: object, assets: list[AssetRecord]) -> None:
        for asset in assets:
            stored = self.s.assets[asset.id]
            self.s.assets[asset.id] = replace(
                stored,
                state=asset.state,
                sha256=asset.sha256,
                update_time=asset.update_time,
                objects=asset.objects,
            )

    def in_state_before(
        self, state: str, field: str, before: datetime, limit: int
    ) -> list[AssetRecord]:
        rows = [
            a for a in self.s.assets.values()
            if a.state == state and getattr(a, field) is not None and getattr(a, field) < before
        ]  # fmt: skip
        return sorted(rows, key=lambda a: getattr(a, field))[:limit]

    def delete(self, txn: object, asset_id: str) -> None:
        self.s.assets.pop(asset_id, None)

    def list_page(
        self, spec: AssetQuery, limit: int, after: tuple[datetime, str] | None
    ) -> list[AssetRecord]:
        rows = [
            a
            for a in self.s.assets.values()
            if a.owner_uid == spec.owner_uid
            and a.state in spec.states
            and (spec.type is None or a.type == spec.type)
            and (spec.term is None or spec.term in a.search_terms)
        ]
        rows.sort(key=lambda a: (a.create_time, a.id), reverse=spec.descending)
        if after is not None:
            if spec.descending:
                rows = [a for a in rows if (a.create_time, a.id) < after]
            else:
                rows = [a for a in rows if (a.create_time, a.id) > after]
        return rows[:limit]


class FakeUsage:
    def __init__(self, state: _State) -> None:
        self.s = state

    def read_with_user(self, uid: str, txn: object = None) -> tuple[UsageRecord, UserRecord]:
        return self.s.usage.get(uid, UsageRecord()), UserRecord.from_doc(uid, self.s.users.get(uid))

    def put(self, txn: object, uid: str, usage: UsageRecord) -> None:
        self.s.usage[uid] = usage


class FakeUsers:
    def __init__(self, state: _State) -> None:
        self.s = state

    def get(self, uid: str, txn: object = None) -> UserRecord:
        return UserRecord.from_doc(uid, self.s.users.get(uid))

    def merge_in(self, txn: object, uid: str, fields: dict[str, Any]) -> None:
        self.merge(uid, fields)

    def merge(self, uid: str, fields: dict[str, Any]) -> UserRecord:
        doc = self.s.users.setdefault(uid, {})
        for key, value in fields.items():
            if isinstance(value, dict) and isinstance(doc.get(key), dict):
                doc[key] = {**doc[key], **value}  # Firestore merges nested maps too
            else:
                doc[key] = value
        return self.get(uid)


class FakeIdempotency:
    def __init__(self, state: _State) -> None:
        self.s = state

    def create(self, doc_id: str, record: IdempotencyRecord) -> bool:
        if doc_id in self.s.idempotency:
            return False
        self.s.idempotency[doc_id] = (record, self.s.stamp())
        return True

    def get(self, doc_id: str) -> tuple[IdempotencyRecord, datetime] | None:
        return self.s.idempotency.get(doc_id)

    def replace(self, doc_id: str, record: IdempotencyRecord, unchanged_since: datetime) -> bool:
        found = self.s.idempotency.get(doc_id)
        if found is None or found[1] != unchanged_since:
            return False
        self.s.idempotency[doc_id] = (record, self.s.stamp())
        return True

    def complete(self, doc_id: str, status: int, body: str, headers: dict[str, str]) -> None:
        record, _ = self.s.idempotency[doc_id]
        done = replace(record, state="COMPLETED", status=status, body=body, headers=headers)
        self.s.idempotency[doc_id] = (done, self.s.stamp())

    def delete(self, doc_id: str) -> None:
        self.s.idempotency.pop(doc_id, None)


class FakeModerationEvents:
    def __init__(self, state: _State) -> None:
        self.s = state

    def add(self, event: ModerationEvent) -> None:
        self.s.moderation_events.append(event)

    def list_page(
        self, limit: int, after: tuple[datetime, str] | None
    ) -> list[tuple[str, ModerationEvent]]:
        rows = sorted(
            ((f"m{i:06d}", e) for i, e in enumerate(self.s.moderation_events)),
            key=lambda r: (r[1].create_time, r[0]), reverse=True,
        )  # fmt: skip
        if after is not None:
            rows = [(i, e) for i, e in rows if (e.create_time, i) < after]
        return rows[:limit]


class FakeSettings:
    def __init__(self, state: _State) -> None:
        self.s = state
        self.reads = 0
        self.unreachable = False

    def denylist(self) -> tuple[str, ...] | None:
        self.reads += 1
        if self.unreachable:
            raise ConnectionError("firestore unreachable")
        return self.s.denylist

    def put_denylist(self, txn: object, terms: list[str], uid: str, now: datetime) -> None:
        self.s.denylist = tuple(terms)

    def orphan_cursor(self) -> str | None:
        return self.s.orphan_cursor

    def put_orphan_cursor(self, cursor: str | None) -> None:
        self.s.orphan_cursor = cursor


class FakeJobs:
    def __init__(self, state: _State) -> None:
        self.s = state

    def create(self, txn: object, job: JobRecord) -> None:
        if job.id in self.s.jobs:
            raise Conflict(job.id)
        self.s.jobs[job.id] = job

    def put(self, txn: object, job: JobRecord) -> None:
        self.s.jobs[job.id] = job

    def get(self, job_id: str, txn: object = None) -> JobRecord | None:
        return self.s.jobs.get(job_id)

    def in_state_before(self, state: str, before: datetime, limit: int) -> list[JobRecord]:
        rows = [j for j in self.s.jobs.values() if j.state == state and j.update_time < before]
        return sorted(rows, key=lambda j: j.update_time)[:limit]

    def list_page(
        self, spec: JobQuery, limit: int, after: tuple[datetime, str] | None
    ) -> list[JobRecord]:
        rows = [
            j
            for j in self.s.jobs.values()
            if j.owner_uid == spec.owner_uid and (not spec.states or j.state in spec.states)
        ]
        rows.sort(key=lambda j: (j.create_time, j.id), reverse=True)
        if after is not None:
            rows = [j for j in rows if (j.create_time, j.id) < after]
        return rows[:limit]


class FakeWebhooks:
    def __init__(self, state: _State) -> None:
        self.s = state

    def create(self, txn: object, hook: WebhookRecord) -> None:
        if hook.id in self.s.webhooks:
            raise Conflict(hook.id)
        self.s.webhooks[hook.id] = hook

    def get(self, webhook_id: str) -> WebhookRecord | None:
        return self.s.webhooks.get(webhook_id)

    def for_owner(self, uid: str, txn: object = None) -> list[WebhookRecord]:
        hooks = [h for h in self.s.webhooks.values() if h.owner_uid == uid]
        return sorted(hooks, key=lambda h: (h.create_time, h.id))

    def update(self, webhook_id: str, fields: dict[str, Any]) -> None:
        self.s.webhooks[webhook_id] = replace(self.s.webhooks[webhook_id], **fields)

    def delete(self, webhook_id: str) -> None:
        self.s.webhooks.pop(webhook_id, None)


class FakeAudit:
    def __init__(self, state: _State) -> None:
        self.s = state

    def add(self, txn: object, event: AuditEvent) -> None:
        self.s.audit.append((f"e{len(self.s.audit):06d}", event))

    def list_page(
        self, spec: AuditQuery, limit: int, after: tuple[datetime, str] | None
    ) -> list[tuple[str, AuditEvent]]:
        def matches(e: AuditEvent) -> bool:
            fields = ("actor_uid", "target_id", "action")
            return all(getattr(spec, f) in (None, getattr(e, f)) for f in fields) and (
                (spec.start_time is None or e.time >= spec.start_time)
                and (spec.end_time is None or e.time < spec.end_time)
            )

        rows = sorted(
            ((i, e) for i, e in self.s.audit if matches(e)),
            key=lambda r: (r[1].time, r[0]), reverse=True,
        )  # fmt: skip
        if after is not None:
            rows = [(i, e) for i, e in rows if (e.time, i) < after]
        return rows[:limit]


class FakeExports:
    def __init__(self, state: _State) -> None:
        self.s = state

    def create(self, txn: object, export: ExportRecord) -> None:
        if export.id in self.s.exports:
            raise Conflict(export.id)
        self.s.exports[export.id] = export

    def put(self, txn: object, export: ExportRecord) -> None:
        self.s.exports[export.id] = export

    def get(self, export_id: str, txn: object = None) -> ExportRecord | None:
        return self.s.exports.get(export_id)

    def in_state_before(self, state: str, before: datetime, limit: int) -> list[ExportRecord]:
        rows = [r for r in self.s.exports.values() if r.state == state and r.update_time < before]
        return sorted(rows, key=lambda r: r.update_time)[:limit]


class FakeErasures:
    def __init__(self, state: _State) -> None:
        self.s = state

    def put(self, txn: object, erasure: ErasureRecord) -> None:
        self.s.erasures[erasure.id] = erasure

    def get(self, erasure_id: str, txn: object = None) -> ErasureRecord | None:
        return self.s.erasures.get(erasure_id)

    def in_state_before(self, state: str, before: datetime, limit: int) -> list[ErasureRecord]:
        rows = [r for r in self.s.erasures.values() if r.state == state and r.update_time < before]
        return sorted(rows, key=lambda r: r.update_time)[:limit]


class FakeOwned:
    """``OwnedData`` over the other fakes' dicts."""

    def __init__(self, state: _State) -> None:
        self.s = state

    def _docs(self, collection: str) -> dict[str, tuple[str, dict[str, Any]]]:
        """id -> (owner, document) of every document in ``collection``."""
        s = self.s
        records: dict[str, Any] = {
            "assets": s.assets, "jobs": s.jobs, "webhooks": s.webhooks, "exports": s.exports,
        }  # fmt: skip
        if collection in records:
            return {k: (r.owner_uid, r.to_doc()) for k, r in records[collection].items()}
        if collection == "idempotency":
            return {k: (r.uid, r.to_doc()) for k, (r, _) in s.idempotency.items()}
        events = enumerate(s.moderation_events)
        return {f"m{i:06d}": (e.uid, e.to_doc()) for i, e in events}

    def page(
        self, collection: str, uid: str, limit: int, after: str | None = None
    ) -> list[tuple[str, dict[str, Any]]]:
        docs = sorted((k, d) for k, (owner, d) in self._docs(collection).items() if owner == uid)
        return [(k, d) for k, d in docs if after is None or k > after][:limit]

    def delete(self, collection: str, doc_ids: list[str]) -> None:
        gone = set(doc_ids)
        if collection == "moderation_events":
            events = enumerate(self.s.moderation_events)
            self.s.moderation_events = [e for i, e in events if f"m{i:06d}" not in gone]
            return
        target: dict[str, Any] = getattr(self.s, collection)
        for doc_id in gone:
            target.pop(doc_id, None)

    def per_user(self, uid: str) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        if uid in self.s.usage:
            found["usage"] = self.s.usage[uid].to_doc()
        if uid in self.s.users:
            found["users"] = dict(self.s.users[uid])
        return found

    def delete_per_user(self, uid: str) -> None:
        self.s.usage.pop(uid, None)
        self.s.users.pop(uid, None)

    def audit_page(self, uid: str, limit: int) -> list[tuple[str, dict[str, Any]]]:
        rows = [(i, e.to_doc()) for i, e in self.s.audit]
        return [r for r in rows if any(field_of(r[1], f) == uid for f in AUDIT_USER_FIELDS)][:limit]

    def pseudonymise_audit(
        self, events: list[tuple[str, dict[str, Any]]], uid: str, alias: str
    ) -> None:
        chosen = {i for i, _ in events}

        def renamed(event: AuditEvent) -> AuditEvent:
            doc = event.to_doc()
            for f in AUDIT_USER_FIELDS:
                if field_of(doc, f) == uid:
                    *parents, last = f.split(".")
                    target = doc
                    for part in parents:
                        target = target[part]
                    target[last] = alias
            return AuditEvent.from_doc(doc)

        self.s.audit = [(i, renamed(e)) if i in chosen else (i, e) for i, e in self.s.audit]


class InMemoryDatabase:
    def __init__(self) -> None:
        self.state = _State()
        self._lock = threading.RLock()
        self.assets = FakeAssets(self.state)
        self.usage = FakeUsage(self.state)
        self.users = FakeUsers(self.state)
        self.idempotency = FakeIdempotency(self.state)
        self.moderation_events = FakeModerationEvents(self.state)
        self.jobs = FakeJobs(self.state)
        self.webhooks = FakeWebhooks(self.state)
        self.audit = FakeAudit(self.state)
        self.settings = FakeSettings(self.state)
        self.exports = FakeExports(self.state)
        self.erasures = FakeErasures(self.state)
        self.owned = FakeOwned(self.state)
        self.transactions = 0
        self.reachable = True

    def run_transaction(self, work: Callable[[object], T]) -> T:
        with self._lock:
            self.transactions += 1
            saved = copy.deepcopy(vars(self.state))
            try:
                return work(object())
            except BaseException:
                vars(self.state).update(saved)
                raise

    def ping(self, timeout_s: float) -> None:
        if not self.reachable:
            raise ConnectionError("firestore unreachable")
