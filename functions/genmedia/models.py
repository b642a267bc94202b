"""Public request and response models: validated by the code, and the source of OpenAPI."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, field_validator

from genmedia.catalog import ID_PATTERN, MAX_IMAGES_PER_REQUEST, MAX_SEED, AspectRatio, Variant
from genmedia.http import ApiModel
from genmedia.media.video import Resolution, VideoAspectRatio
from genmedia.principal import Role
from genmedia.store.records import JobState
from genmedia.text import visible

ImageModel = Literal[
    "imagen-4.0-generate-001",
    "imagen-4.0-fast-generate-001",
    "imagen-4.0-ultra-generate-001",
    "imagen-3.0-generate-002",
]


class GenerateImagesRequest(ApiModel):
    prompt: str = Field(min_length=1, max_length=2000, description="What to draw.")
    negative_prompt: str | None = Field(None, max_length=2000)
    count: int = Field(1, ge=1, le=MAX_IMAGES_PER_REQUEST, description="Number of images.")
    aspect_ratio: AspectRatio = "1:1"
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="Same seed, same image.")
    style: str | None = Field(None, min_length=1, max_length=100)
    model: ImageModel | None = Field(None, description="Imagen model; default per deployment.")

    @field_validator("prompt", "style")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        # Invisible characters (zero-width space, word joiner...) do not make a prompt.
        if value is not None and not visible(value).strip():
            raise ValueError("must contain visible, non-whitespace characters")
        return value


class Money(ApiModel):
    currency: str = "USD"
    amount: str = Field(description="Decimal string, e.g. '0.040000'.")


class SignedUrl(ApiModel):
    url: str
    expire_time: datetime


class AssetUrls(ApiModel):
    original: SignedUrl
    thumbnail: SignedUrl
    poster: SignedUrl | None = Field(None, description="Videos: the full-size first frame.")


class Thumbnail(ApiModel):
    width: int
    height: int
    content_type: str
    size_bytes: int


class Asset(ApiModel):
    id: str
    type: Literal["image", "video"]
    state: Literal["ACTIVE", "DELETED"]
    prompt: str
    negative_prompt: str | None = None
    aspect_ratio: str | None = None
    seed: int | None = None
    style: str | None = None
    model: str | None = None
    width: int
    height: int
    content_type: str
    size_bytes: int
    sha256: str
    thumbnail: Thumbnail | None = None
    duration_seconds: float | None = Field(None, description="Videos only.")
    fps: float | None = Field(None, description="Videos only.")
    cost: Money
    create_time: datetime
    update_time: datetime
    delete_time: datetime | None = None
    purge_time: datetime | None = None
    urls: AssetUrls | None = None


class UsageCounter(ApiModel):
    used: int
    limit: int
    reset_time: datetime


class Usage(ApiModel):
    images: UsageCounter
    videos: UsageCounter
    cost_this_month: Money


class GenerateImagesResponse(ApiModel):
    assets: list[Asset]
    usage: Usage


class QuotaPatch(ApiModel):
    images_per_day: int | None = Field(None, ge=0, le=1_000_000)
    videos_per_month: int | None = Field(None, ge=0, le=1_000_000)


class UpdateUserRequest(ApiModel):
    role: Role | None = None
    quota: QuotaPatch | None = None


class Quota(ApiModel):
    images_per_day: int
    videos_per_month: int


class UserView(ApiModel):
    uid: str
    role: Role
    quota: Quota
    quota_overrides: QuotaPatch


AssetId = Annotated[str, Field(pattern=f"^{ID_PATTERN}$")]


class SignUrlRequest(ApiModel):
    variant: Variant = "original"
    ttl_seconds: int | None = Field(None, ge=60, le=604800, description="Default 900.")
    download: bool = Field(False, description="Make browsers save the file (attachment).")


class SignUrlResponse(ApiModel):
    url: str
    expire_time: datetime
    variant: Variant


class BatchSignUrlsRequest(ApiModel):
    ids: list[AssetId] = Field(min_length=1, max_length=100)
    variant: Variant = "original"


class BatchSignUrlsResponse(ApiModel):
    urls: dict[str, SignedUrl]
    errors: dict[str, str] = Field(description="Asset id -> error code (e.g. NOT_FOUND).")


class ListAssetsQuery(ApiModel):
    page_size: int = Field(0, ge=0, description="0 = 50; values above 100 are treated as 100.")
    page_token: str = Field("", max_length=2048)
    type: Literal["image", "video"] | None = None
    order_by: Literal["create_time desc", "create_time asc"] = "create_time desc"
    show_deleted: bool = False
    q: str | None = Field(None, min_length=1, max_length=100, description="A word or prefix.")


class ListAssetsResponse(ApiModel):
    assets: list[Asset]
    next_page_token: str = Field(description="Empty only on the last page.")


class DeleteAssetQuery(ApiModel):
    allow_missing: bool = False


class GenerateVideoRequest(ApiModel):
    prompt: str = Field(min_length=1, max_length=2000, description="What to film.")
    negative_prompt: str | None = Field(None, max_length=2000)
    duration_seconds: int | None = Field(
        None, ge=1, le=60, description="Default: the model's longest."
    )
    aspect_ratio: VideoAspectRatio = "16:9"
    resolution: Resolution = "720p"
    seed: int | None = Field(None, ge=0, le=MAX_SEED)
    model: str | None = Field(
        None, pattern=r"^[A-Za-z0-9._-]{1,64}$", description="Default per deployment."
    )
    generate_audio: bool = False


class JobProgress(ApiModel):
    percent: int = Field(ge=0, le=100)
    stage: str
    eta_seconds: int | None = None


class JobError(ApiModel):
    code: str
    message: str


class Job(ApiModel):
    id: str
    type: Literal["video"]
    state: JobState
    prompt: str
    model: str
    duration_seconds: int
    aspect_ratio: str
    resolution: str
    negative_prompt: str | None = None
    seed: int | None = None
    generate_audio: bool = False
    progress: JobProgress
    cost: Money
    create_time: datetime
    update_time: datetime
    start_time: datetime | None = None
    end_time: datetime | None = None
    error: JobError | None = None
    asset_id: str | None = Field(None, description="Set once SUCCEEDED.")
    asset: Asset | None = Field(None, description="The video, with signed URLs, once SUCCEEDED.")


class JobResponse(ApiModel):
    job: Job


class ListJobsQuery(ApiModel):
    page_size: int = Field(0, ge=0, description="0 = 50; values above 100 are treated as 100.")
    page_token: str = Field("", max_length=2048)
    state: JobState | None = None


class ListJobsResponse(ApiModel):
    jobs: list[Job]
    next_page_token: str = Field(description="Empty only on the last page.")


WebhookEvent = Literal["job.succeeded", "job.failed", "job.cancelled"]


class CreateWebhookRequest(ApiModel):
    url: str = Field(min_length=1, max_length=2048, description="https only; public hosts only.")
    events: list[WebhookEvent] = Field(min_length=1, max_length=3)


class WebhookAttempt(ApiModel):
    time: datetime
    event: str
    webhook_id: str
    status: int | None = None
    error: str | None = None
    duration_ms: int


class Webhook(ApiModel):
    id: str
    url: str
    events: list[WebhookEvent]
    disabled: bool = Field(description="The receiver answered 410 Gone; nothing more is sent.")
    create_time: datetime
    update_time: datetime
    last_attempt: WebhookAttempt | None = None


class WebhookWithSecret(Webhook):
    secret: str = Field(description="whsec_...: shown only now. Verify with Standard Webhooks.")


class ListWebhooksResponse(ApiModel):
    webhooks: list[Webhook]


class ListAuditQuery(ApiModel):
    page_size: int = Field(0, ge=0, description="0 = 50; values above 100 are treated as 100.")
    page_token: str = Field("", max_length=2048)
    actor: str | None = Field(None, pattern=f"^{ID_PATTERN}$", description="The actor's uid.")
    target: str | None = Field(None, pattern=f"^{ID_PATTERN}$", description="A target's id.")
    action: str | None = Field(None, pattern=r"^[a-z]+\.[a-z_]+$", examples=["asset.delete"])
    start_time: datetime | None = Field(None, description="Inclusive.")
    end_time: datetime | None = Field(None, description="Exclusive.")


class AuditTarget(ApiModel):
    type: str
    id: str


class AuditActor(ApiModel):
    uid: str | None = Field(None, description="None: the system (purge, sweeper).")
    role: str | None = None


class AuditEventView(ApiModel):
    id: str
    time: datetime
    action: str
    target: AuditTarget
    actor: AuditActor
    request_id: str
    outcome: str
    details: dict[str, object]


class ListAuditResponse(ApiModel):
    events: list[AuditEventView]
    next_page_token: str = Field(description="Empty only on the last page.")


class ListBlockedQuery(ApiModel):
    page_size: int = Field(0, ge=0, description="0 = 50; values above 100 are treated as 100.")
    page_token: str = Field("", max_length=2048)


class BlockedPrompt(ApiModel):
    id: str
    uid: str
    reason: str
    request_id: str
    create_time: datetime
    text: str = Field(description="The blocked text, for review (never logged).")


class ListBlockedResponse(ApiModel):
    events: list[BlockedPrompt]
    next_page_token: str


class DenylistRequest(ApiModel):
    denylist: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(max_length=500)


class DenylistView(ApiModel):
    denylist: list[str]
    source: Literal["admin", "deployment"] = Field(
        description="admin: set here; deployment: GENMEDIA_MODERATION_DENYLIST (none set yet)."
    )


# --- Data export and erasure (account, admin) ---------------------------------------------


class Export(ApiModel):
    id: str
    state: Literal["QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "EXPIRED"]
    create_time: datetime
    update_time: datetime
    expire_time: datetime = Field(description="The ZIP is deleted then (7 days after the request).")
    size_bytes: int = 0
    counts: dict[str, int] = Field(default_factory=dict, description="Entries by kind.")
    error: JobError | None = None
    download: SignedUrl | None = Field(
        None, description="Once SUCCEEDED: a signed URL to the ZIP, valid for 10 minutes."
    )


class ExportResponse(ApiModel):
    export: Export


class Erasure(ApiModel):
    id: str = Field(description="A pseudonym of the account, never its uid.")
    state: Literal["RUNNING", "DONE"]
    requested_by: Literal["self", "admin"]
    create_time: datetime
    update_time: datetime
    end_time: datetime | None = None
    counts: dict[str, int] = Field(default_factory=dict, description="Deleted, by kind.")


class ErasureResponse(ApiModel):
    erasure: Erasure
