"""Typed records stored in Firestore, and their (de)serialisation."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any, Literal, Self

AssetType = Literal["image", "video"]
AssetState = Literal["PENDING", "ACTIVE", "FAILED", "DELETED"]
IdempotencyState = Literal["IN_PROGRESS", "COMPLETED"]
JobState = Literal["QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"]
ExportState = Literal["QUEUED", "RUNNING", "SUCCEEDED", "FAILED"]
ErasureState = Literal["RUNNING", "DONE"]
TERMINAL_JOB_STATES: tuple[JobState, ...] = ("SUCCEEDED", "FAILED", "CANCELLED")


class _Keyed:
    """A record whose ``id`` is its document's id, kept out of the document itself.

    Mixed into frozen dataclasses; unknown stored fields (from a newer version) are ignored.
    """

    def to_doc(self) -> dict[str, Any]:
        doc = asdict(self)  # type: ignore[call-overload]
        doc.pop("id")
        return doc  # type: ignore[no-any-return]

    @classmethod
    def from_doc(cls, doc_id: str, doc: dict[str, Any]) -> Self:
        known = {f.name for f in fields(cls)} - {"id"}  # type: ignore[arg-type]
        return cls(id=doc_id, **{k: v for k, v in doc.items() if k in known})  # type: ignore[call-arg]


@dataclass(frozen=True)
class ObjectRef:
    path: str
    content_type: str
    size_bytes: int
    width: int
    height: int


@dataclass(frozen=True)
class AssetRecord:
    id: str
    owner_uid: str
    type: AssetType
    state: AssetState
    prompt: str
    params: dict[str, Any]
    cost_micros: int
    create_time: datetime
    update_time: datetime
    request_id: str = ""
    sha256: str | None = None
    search_terms: list[str] = field(default_factory=list)
    objects: dict[str, ObjectRef] = field(default_factory=dict)  # variant -> object
    delete_time: datetime | None = None
    purge_time: datetime | None = None
    # Held while a delete or undelete moves the objects (services/library_trash.py).
    lease_id: str | None = None
    lease_until: datetime | None = None

    def to_doc(self) -> dict[str, Any]:
        doc = asdict(self)
        doc.pop("id")
        return doc

    def activation_doc(self) -> dict[str, Any]:
        """The fields that turn a PENDING asset into this ACTIVE one."""
        return {
            "state": self.state,
            "sha256": self.sha256,
            "update_time": self.update_time,
            "objects": {k: asdict(v) for k, v in self.objects.items()},
        }

    @classmethod
    def from_doc(cls, asset_id: str, doc: dict[str, Any]) -> AssetRecord:
        known = {f.name for f in fields(cls)} - {"id"}
        data = {k: v for k, v in doc.items() if k in known}
        data["objects"] = {k: ObjectRef(**v) for k, v in (doc.get("objects") or {}).items()}
        return cls(id=asset_id, **data)


@dataclass(frozen=True)
class UsageRecord:
    """Current-period counters; a period that has ended reads as zero."""

    day: str = ""  # UTC date the image counter belongs to, YYYY-MM-DD
    images: int = 0
    month: str = ""  # UTC month the video and cost counters belong to, YYYY-MM
    videos: int = 0
    cost_micros: int = 0
    bucket_tokens: float | None = None  # None: a full bucket
    bucket_time: datetime | None = None

    def current(self, day: str, month: str) -> UsageRecord:
        images = self.images if self.day == day else 0
        same_month = self.month == month
        return UsageRecord(
            day,
            images,
            month,
            self.videos if same_month else 0,
            self.cost_micros if same_month else 0,
            self.bucket_tokens,
            self.bucket_time,
        )

    def to_doc(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_doc(cls, doc: dict[str, Any] | None) -> UsageRecord:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (doc or {}).items() if k in known})


@dataclass(frozen=True)
class QuotaOverrides:
    images_per_day: int | None = None
    videos_per_month: int | None = None


@dataclass(frozen=True)
class UserRecord:
    uid: str
    role: str | None = None
    quota: QuotaOverrides = QuotaOverrides()
    # Set in the transaction that starts an erasure: every charge reads this document, so
    # no new work starts for the account once it is set (services/erasure.py).
    erasure_time: datetime | None = None
    active_export: str | None = None  # one export at a time per user

    @classmethod
    def from_doc(cls, uid: str, doc: dict[str, Any] | None) -> UserRecord:
        doc = doc or {}
        quota = doc.get("quota") or {}
        return cls(
            uid,
            doc.get("role"),
            QuotaOverrides(quota.get("images_per_day"), quota.get("videos_per_month")),
            doc.get("erasure_time"),
            doc.get("active_export"),
        )


@dataclass(frozen=True)
class IdempotencyRecord:
    """A claimed Idempotency-Key and, once completed, the response to replay."""

    uid: str
    fingerprint: str
    state: IdempotencyState
    create_time: datetime
    lease_expire_time: datetime
    expire_time: datetime  # the Firestore TTL field
    status: int | None = None
    body: str | None = None  # the response body exactly as sent
    headers: dict[str, str] = field(default_factory=dict)

    def to_doc(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None and v != {}}

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> IdempotencyRecord:
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in doc.items() if k in known}
        data["headers"] = dict(data.get("headers") or {})
        return cls(**data)


@dataclass(frozen=True)
class ModerationEvent:
    """A blocked text, kept for review in a restricted collection (never logged)."""

    uid: str
    reason: str
    request_id: str
    create_time: datetime
    text: str
    text_sha256: str

    def to_doc(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class JobRecord(_Keyed):
    """A video generation, from charge to result (services/generate_video, video_worker).

    ``step`` counts the worker's tasks: a task carries the step it was enqueued for, so a
    duplicate or late delivery of an earlier step is recognised and ignored. ``month`` is the
    usage period charged, so a refund gives back to that period only, and ``refunded`` makes
    it happen once.
    """

    id: str
    owner_uid: str
    state: JobState
    prompt: str
    params: dict[str, Any]  # model, duration_seconds, aspect_ratio, resolution, ...
    cost_micros: int
    month: str
    asset_id: str  # chosen at submission, so every retry writes the same asset
    create_time: datetime
    update_time: datetime
    request_id: str = ""
    start_time: datetime | None = None
    end_time: datetime | None = None
    progress: dict[str, Any] = field(default_factory=lambda: {"percent": 0, "stage": "queued"})
    operation: str | None = None
    step: int = 0
    restarts: int = 0  # operations started again after one failed retryably
    error: dict[str, str] | None = None
    refunded: bool = False
    lease_id: str | None = None
    lease_until: datetime | None = None

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_JOB_STATES


@dataclass(frozen=True)
class WebhookRecord(_Keyed):
    """A user's webhook endpoint. ``secrets`` sign deliveries, current first; after a
    rotation the previous one also signs until ``previous_until`` (receivers switch over)."""

    id: str
    owner_uid: str
    url: str
    events: list[str]
    secrets: list[str]
    create_time: datetime
    update_time: datetime
    previous_until: datetime | None = None
    disabled: bool = False  # the receiver answered 410 Gone
    last_attempt: dict[str, Any] | None = None  # time, status, error, duration_ms


@dataclass(frozen=True)
class AuditEvent:
    """One sensitive operation, append-only: who did what to which target, and how it ended.

    ``actor_uid`` is None for the system (the purge, the sweeper); an erasure is recorded
    under a pseudonym of the erased user, never their uid.
    """

    time: datetime
    action: str  # "user.update", "asset.delete", "asset.undelete", "asset.purge", ...
    target_type: str
    target_id: str
    actor_uid: str | None = None
    actor_role: str | None = None
    request_id: str = ""
    outcome: str = "ok"
    details: dict[str, Any] = field(default_factory=dict)

    def to_doc(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> AuditEvent:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in doc.items() if k in known})


@dataclass(frozen=True)
class ExportRecord(_Keyed):
    """A data export (GDPR access): a ZIP of the user's data under ``exports/``, kept 7 days.

    ``expire_time`` is the Firestore TTL field and matches the bucket's lifecycle rule.
    """

    id: str
    owner_uid: str
    state: ExportState
    create_time: datetime
    update_time: datetime
    expire_time: datetime
    request_id: str = ""
    path: str | None = None  # the ZIP, once SUCCEEDED
    size_bytes: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # entries written, by kind
    error: dict[str, str] | None = None
    attempts: int = 0
    lease_until: datetime | None = None


@dataclass(frozen=True)
class ErasureRecord(_Keyed):
    """An account erasure, keyed by the user's pseudonym. ``uid`` is held only while it runs:
    once DONE the record says that an erasure happened, when, and what it removed."""

    id: str  # the pseudonym
    state: ErasureState
    requested_by: str  # "self" or "admin"
    create_time: datetime
    update_time: datetime
    uid: str | None = None
    step: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    end_time: datetime | None = None
