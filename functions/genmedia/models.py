"""Public request and response models: validated by the code, and the source of OpenAPI."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, field_validator

from genmedia.catalog import ID_PATTERN, MAX_IMAGES_PER_REQUEST, MAX_SEED, AspectRatio, Variant
from genmedia.http import ApiModel
from genmedia.principal import Role
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
