"""Image generation: moderate, charge, generate, process, store, sign — or refund."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from genmedia import moderation, quotas, ratelimit, search, signer, storage
from genmedia.auth import Principal
from genmedia.clients import firestore_client
from genmedia.config import get_settings
from genmedia.errors import ProviderError, ProviderUnavailable
from genmedia.logging import get_logger
from genmedia.media import ImageProvider, ImageSpec, dimensions_for, make_image_provider
from genmedia.media.processing import ProcessedImage, process_image, set_concurrency
from genmedia.models import GenerateImagesRequest
from genmedia.resilience import get_breaker, retry_call
from genmedia.services.views import asset_view
from genmedia.store.assets import AssetRepository, new_asset_id
from genmedia.store.records import Asset, ObjectRef, Usage

_log = get_logger("genmedia.images")


@functools.cache
def image_provider() -> ImageProvider:
    settings = get_settings()
    set_concurrency(settings.processing_concurrency)
    return make_image_provider(
        settings.image_provider,
        project_id=settings.project_id,
        location=settings.vertex_location,
        model=settings.imagen_model,
        base_url=settings.vertex_base_url,
    )


@functools.cache
def _checker() -> moderation.Checker:
    return moderation.denylist_checker(get_settings().moderation_denylist)


def _micros(amount: Decimal) -> int:
    return int(amount * 1_000_000)


def _pending_assets(
    uid: str, body: GenerateImagesRequest, provider: ImageProvider, request_id: str, now: datetime
) -> list[Asset]:
    params = body.model_dump(exclude={"prompt", "count"}) | {"provider": provider.name}
    return [
        Asset(
            id=new_asset_id(),
            owner_uid=uid,
            type="image",
            state="PENDING",
            prompt=body.prompt,
            params=params,
            cost_micros=_micros(provider.cost_per_image),
            create_time=now,
            update_time=now,
            request_id=request_id,
            search_terms=search.terms(body.prompt),
        )
        for _ in range(body.count)
    ]


def _call_provider(provider: ImageProvider, spec: ImageSpec) -> list[bytes]:
    settings = get_settings()

    def attempt() -> list[bytes]:
        return [image.data for image in provider.generate(spec)]

    try:
        return get_breaker(provider.name).call(
            lambda: retry_call(
                attempt,
                deadline_s=settings.retry_deadline_seconds,
                max_attempts=settings.retry_max_attempts,
                op=f"{provider.name}.generate",
            )
        )
    except ProviderError as exc:
        raise ProviderUnavailable(
            "The image provider failed; nothing was charged", headers={"Retry-After": "5"}
        ) from exc


# variant -> (extension, content type)
VARIANTS = {"original": ("png", "image/png"), "thumbnail": ("webp", "image/webp")}


def _paths(asset: Asset) -> dict[str, str]:
    return {
        v: storage.object_path(asset.owner_uid, asset.id, v, ext)
        for v, (ext, _) in VARIANTS.items()
    }


def _store(asset: Asset, image: ProcessedImage, uploaded: list[str]) -> Asset:
    """Upload both variants create-only (recording each in ``uploaded``) and return the asset
    as it will be activated."""
    paths = _paths(asset)
    sizes = {
        "original": (image.width, image.height),
        "thumbnail": (image.thumb_width, image.thumb_height),
    }
    data = {"original": image.png, "thumbnail": image.thumbnail}
    objects = {}
    for variant, (_, content_type) in VARIANTS.items():
        storage.upload_create_only(paths[variant], data[variant], content_type)
        uploaded.append(paths[variant])
        objects[variant] = ObjectRef(
            paths[variant], content_type, len(data[variant]), *sizes[variant]
        )
    done = datetime.now(UTC)
    return replace(asset, state="ACTIVE", sha256=image.sha256, objects=objects, update_time=done)


def _store_all(assets: list[Asset], images: list[ProcessedImage]) -> list[Asset]:
    """Upload every asset's objects, or none: a failure removes what this call uploaded."""
    uploaded: list[str] = []
    try:
        return [_store(a, image, uploaded) for a, image in zip(assets, images, strict=False)]
    except BaseException:
        storage.delete_quietly(uploaded)
        raise


def _produce(
    assets: list[Asset], body: GenerateImagesRequest, provider: ImageProvider
) -> list[Asset]:
    spec = ImageSpec(
        prompt=body.prompt,
        negative_prompt=body.negative_prompt,
        count=body.count,
        aspect_ratio=body.aspect_ratio,
        seed=body.seed,
        style=body.style,
        model=body.model,
    )
    images = _call_provider(provider, spec)
    # Our local provider's sizes are exact; Imagen's native sizes only keep the aspect ratio.
    if provider.name == "local":
        check: dict[str, Any] = {"expected_size": dimensions_for(body.aspect_ratio)}
    else:
        check = {"expected_aspect_ratio": body.aspect_ratio}
    try:
        processed = [process_image(data, **check) for data in images]
    except ProviderError as exc:
        raise ProviderUnavailable(
            "The image provider returned an unusable image; nothing was charged",
            headers={"Retry-After": "5"},
        ) from exc
    # A provider may return fewer images than asked (some filtered); the rest is refunded.
    return _store_all(assets, processed)


def generate(
    principal: Principal, body: GenerateImagesRequest, request_id: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """The response body and its RateLimit headers."""
    settings, db, provider = get_settings(), firestore_client(), image_provider()
    now = datetime.now(UTC)
    texts = [t for t in (body.prompt, body.negative_prompt, body.style) if t]
    moderation.enforce(_checker(), texts, db=db, uid=principal.uid, request_id=request_id, now=now)
    pending = _pending_assets(principal.uid, body, provider, request_id, now)
    charge = quotas.charge_images(
        db,
        settings,
        principal.uid,
        assets=pending,
        cost_micros=sum(a.cost_micros for a in pending),
        now=now,
    )
    try:
        done = _produce(pending, body, provider)
    except BaseException:
        quotas.refund_images(db, charge, [a.id for a in pending], datetime.now(UTC))
        raise
    usage = _settle(db, charge, pending, done)
    _log.info(
        "images generated",
        extra={
            "json_fields": {
                "uid": principal.uid,
                "assets": [a.id for a in done],
                "provider": provider.name,
                "prompt_sha256": hashlib.sha256(body.prompt.encode()).hexdigest()[:16],
            }
        },
    )
    urls = signer.asset_urls(principal.token, request_id, [a.id for a in done])
    views = [asset_view(a) | ({"urls": urls[a.id]} if a.id in urls else {}) for a in done]
    payload = {"assets": views, "usage": quotas.usage_view(usage, charge.limits, now)}
    return payload, ratelimit.headers(quotas.bucket_for(settings), charge.rate)


def _settle(db: Any, charge: quotas.Charge, pending: list[Asset], done: list[Asset]) -> Usage:
    """Activate what was made; refund what the provider did not return."""
    now = datetime.now(UTC)
    AssetRepository(db).update_many(
        {
            a.id: {
                "state": "ACTIVE",
                "sha256": a.sha256,
                "update_time": a.update_time,
                "objects": {k: vars(v) for k, v in a.objects.items()},
            }
            for a in done
        }
    )
    missing = [a.id for a in pending[len(done) :]]
    return quotas.refund_images(db, charge, missing, now) if missing else charge.usage
