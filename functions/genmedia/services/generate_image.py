"""Image generation: moderate, charge, generate, process, store, sign — or refund."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from genmedia import bucket, quotas, ratelimit, search
from genmedia.catalog import IMAGE_VARIANTS
from genmedia.errors import ProviderError, ProviderUnavailable
from genmedia.logging import get_logger
from genmedia.media.base import ImageProvider, ImageSpec, dimensions_for
from genmedia.principal import Principal
from genmedia.retry import retry_call
from genmedia.services.screening import screen
from genmedia.services.views import asset_view, usage_view
from genmedia.store.records import AssetRecord, ObjectRef, UsageRecord

if TYPE_CHECKING:
    from datetime import datetime

    from genmedia.bootstrap import Deps
    from genmedia.media.processing import ProcessedImage

_log = get_logger("genmedia.generate_image")


@dataclass(frozen=True)
class Generated:
    """The response body and the rate-limit state it was charged under."""

    payload: dict[str, Any]
    rate: ratelimit.RateLimitState


def generate(deps: Deps, principal: Principal, spec: ImageSpec, request_id: str) -> Generated:
    provider, now = deps.image_provider(), deps.clock.now()
    screen(deps, principal, [spec.prompt, spec.negative_prompt, spec.style], request_id)
    pending = _pending_assets(deps, principal, spec, request_id, now)
    charge = _charge(deps, principal.uid, pending, now)
    try:
        done = _produce(deps, pending, spec, provider)
    except BaseException:
        _refund(deps, charge, [a.id for a in pending])
        raise
    usage, done = _settle(deps, charge, pending, done)
    _log.info(
        "images generated",
        extra={
            "json_fields": {
                "uid": principal.uid,
                "assets": [a.id for a in done],
                "provider": provider.name,
                "prompt_sha256": hashlib.sha256(spec.prompt.encode()).hexdigest()[:16],
            }
        },
    )
    urls = deps.url_issuer().asset_urls(principal.token, request_id, [a.id for a in done])
    views = [asset_view(a) | ({"urls": urls[a.id]} if a.id in urls else {}) for a in done]
    return Generated({"assets": views, "usage": usage_view(usage, charge.limits, now)}, charge.rate)


def _micros(amount: Decimal) -> int:
    return int(amount * 1_000_000)


def _pending_assets(
    deps: Deps, principal: Principal, spec: ImageSpec, request_id: str, now: datetime
) -> list[AssetRecord]:
    uid, provider = principal.uid, deps.image_provider()
    params = {
        "negative_prompt": spec.negative_prompt,
        "aspect_ratio": spec.aspect_ratio,
        "seed": spec.seed,
        "style": spec.style,
        "model": spec.model,
        "provider": provider.name,
    }
    return [
        AssetRecord(
            id=deps.new_id(),
            owner_uid=uid,
            type="image",
            state="PENDING",
            prompt=spec.prompt,
            params=params,
            cost_micros=_micros(provider.cost_per_image),
            create_time=now,
            update_time=now,
            request_id=request_id,
            search_terms=search.terms(spec.prompt),
        )
        for _ in range(spec.count)
    ]


def _charge(deps: Deps, uid: str, assets: list[AssetRecord], now: datetime) -> quotas.Charge:
    """One transaction: take a rate-limit token, charge the quota, create the PENDING assets."""
    db, settings = deps.database, deps.settings

    def work(txn: Any) -> quotas.Charge:
        stored, user = db.usage.read_with_user(uid, txn)
        quotas.check_not_erasing(user)
        charge = quotas.charge_images(
            stored, quotas.limits_for(settings, user), quotas.bucket_for(settings),
            uid=uid, count=len(assets), cost_micros=sum(a.cost_micros for a in assets), now=now,
        )  # fmt: skip
        db.usage.put(txn, uid, charge.usage)
        for asset in assets:
            db.assets.create(txn, asset)
        return charge

    return db.run_transaction(work)


def _still_pending(txn: Any, deps: Deps, asset_ids: list[str]) -> list[str]:
    """Those of ``asset_ids`` still PENDING: the sweeper may have failed and refunded the
    others already (their instance looked dead), and nothing is settled twice."""
    found = deps.database.assets.get_many(asset_ids, txn)
    return [i for i in asset_ids if i in found and found[i].state == "PENDING"]


def _refund(deps: Deps, charge: quotas.Charge, asset_ids: list[str]) -> UsageRecord:
    """Give back ``asset_ids``' share of ``charge``, mark them FAILED; the usage as stored."""
    db, now = deps.database, deps.clock.now()

    def work(txn: Any) -> UsageRecord:
        pending = _still_pending(txn, deps, asset_ids)
        stored, _ = db.usage.read_with_user(charge.uid, txn)
        refunded = quotas.refund_images(stored, charge, len(pending))
        db.usage.put(txn, charge.uid, refunded)
        db.assets.mark_failed(txn, pending, now)
        return refunded

    return db.run_transaction(work)


def _call_provider(deps: Deps, provider: ImageProvider, spec: ImageSpec) -> list[bytes]:
    settings = deps.settings

    def attempt() -> list[bytes]:
        return [image.data for image in provider.generate(spec)]

    try:
        return deps.breakers.get(provider.name).call(
            lambda: retry_call(
                attempt,
                deadline_s=settings.retry_deadline_seconds,
                max_attempts=settings.retry_max_attempts,
                sleep=deps.clock.sleep,
                clock=deps.clock.monotonic,
                op=f"{provider.name}.generate",
            )
        )
    except ProviderError as exc:
        raise ProviderUnavailable(
            "The image provider failed; nothing was charged", retry_after=5
        ) from exc


def _store(
    deps: Deps, asset: AssetRecord, image: ProcessedImage, uploaded: list[str]
) -> AssetRecord:
    """Upload every variant create-only (recording each in ``uploaded``); the asset as it will
    be activated."""
    sizes = {
        "original": (image.width, image.height),
        "thumbnail": (image.thumb_width, image.thumb_height),
    }
    data = {"original": image.png, "thumbnail": image.thumbnail}
    objects = {}
    for variant, fmt in IMAGE_VARIANTS.items():
        path = bucket.object_path(asset.owner_uid, asset.id, variant, fmt.extension)
        deps.bucket.upload_create_only(path, data[variant], fmt.content_type)
        uploaded.append(path)
        objects[variant] = ObjectRef(path, fmt.content_type, len(data[variant]), *sizes[variant])
    done = deps.clock.now()
    return replace(asset, state="ACTIVE", sha256=image.sha256, objects=objects, update_time=done)


def _store_all(
    deps: Deps, assets: list[AssetRecord], images: list[ProcessedImage]
) -> list[AssetRecord]:
    """Upload every asset's objects, or none: a failure removes what this call uploaded."""
    uploaded: list[str] = []
    try:
        return [_store(deps, a, image, uploaded) for a, image in zip(assets, images, strict=False)]
    except BaseException:
        deps.bucket.delete_quietly(uploaded)
        raise


def _produce(
    deps: Deps, assets: list[AssetRecord], spec: ImageSpec, provider: ImageProvider
) -> list[AssetRecord]:
    images = _call_provider(deps, provider, spec)
    # Our local provider's sizes are exact; Imagen's native sizes only keep the aspect ratio.
    if provider.name == "local":
        check: dict[str, Any] = {"expected_size": dimensions_for(spec.aspect_ratio)}
    else:
        check = {"expected_aspect_ratio": spec.aspect_ratio}
    processor = deps.image_processor()
    processed: list[ProcessedImage] = []
    try:
        # Each provider image is let go once processed, so a request holds one of them at a
        # time beside the processed ones rather than all of both (count=4: ~4 fewer MB each).
        images.reverse()
        while images:
            processed.append(processor.process(images.pop(), **check))
    except ProviderError as exc:
        raise ProviderUnavailable(
            "The image provider returned an unusable image; nothing was charged", retry_after=5
        ) from exc
    # A provider may return fewer images than asked (some filtered); the rest is refunded.
    return _store_all(deps, assets, processed)


def _settle(
    deps: Deps, charge: quotas.Charge, pending: list[AssetRecord], done: list[AssetRecord]
) -> tuple[UsageRecord, list[AssetRecord]]:
    """Activate what was made, in one transaction with its precondition (still PENDING);
    refund what the provider did not return. The usage and the assets activated."""
    db = deps.database
    made = {a.id for a in done}

    def work(txn: Any) -> tuple[UsageRecord, list[AssetRecord]]:
        live = set(_still_pending(txn, deps, [a.id for a in pending]))
        activated = [a for a in done if a.id in live]
        missing = [a.id for a in pending if a.id in live and a.id not in made]
        usage = charge.usage
        if missing:  # read before any write
            stored, _ = db.usage.read_with_user(charge.uid, txn)
            usage = quotas.refund_images(stored, charge, len(missing))
            db.usage.put(txn, charge.uid, usage)
            db.assets.mark_failed(txn, missing, deps.clock.now())
        db.assets.activate(txn, activated)
        return usage, activated

    usage, activated = db.run_transaction(work)
    swept = [a for a in done if a not in activated]
    if swept:  # failed and refunded by the sweeper meanwhile: their objects are not an asset
        deps.bucket.delete_quietly([ref.path for a in swept for ref in a.objects.values()])
    return usage, activated
