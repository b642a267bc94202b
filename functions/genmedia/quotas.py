"""Per-user quotas (images per UTC day, videos per UTC month), charged atomically with the assets.

A generation is charged in the same Firestore transaction that creates its PENDING asset records
and takes its rate-limit token: either all of it is recorded or none of it. A generation that
fails after charging is refunded, and its assets marked FAILED, in a second transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from genmedia import ratelimit
from genmedia.config import Settings
from genmedia.errors import QuotaExceeded, RateLimited
from genmedia.store.assets import AssetRepository
from genmedia.store.records import Asset, Usage, UserRecord
from genmedia.store.usage import UsageRepository

if TYPE_CHECKING:
    from google.cloud import firestore


@dataclass(frozen=True)
class Limits:
    images_per_day: int
    videos_per_month: int


@dataclass(frozen=True)
class Charge:
    uid: str
    images: int
    cost_micros: int
    usage: Usage  # after the charge
    limits: Limits
    rate: ratelimit.Decision


def limits_for(settings: Settings, user: UserRecord) -> Limits:
    return Limits(
        user.quota.images_per_day
        if user.quota.images_per_day is not None
        else settings.quota_images_per_day,
        user.quota.videos_per_month
        if user.quota.videos_per_month is not None
        else settings.quota_videos_per_month,
    )


def bucket_for(settings: Settings) -> ratelimit.Bucket:
    return ratelimit.Bucket(settings.rate_limit_burst, settings.rate_limit_per_minute)


def periods(now: datetime) -> tuple[str, str]:
    return now.strftime("%Y-%m-%d"), now.strftime("%Y-%m")


def reset_times(now: datetime) -> tuple[datetime, datetime]:
    """Start of the next UTC day and of the next UTC month."""
    day = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
    month = datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=UTC)
    return day, month


def rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def money(micros: int) -> dict[str, str]:
    return {"currency": "USD", "amount": f"{micros / 1e6:.6f}"}


def usage_view(usage: Usage, limits: Limits, now: datetime) -> dict[str, Any]:
    """The caller's view of their usage in the current periods."""
    current = usage.current(*periods(now))
    day_reset, month_reset = reset_times(now)
    return {
        "images": {
            "used": current.images,
            "limit": limits.images_per_day,
            "reset_time": rfc3339(day_reset),
        },
        "videos": {
            "used": current.videos,
            "limit": limits.videos_per_month,
            "reset_time": rfc3339(month_reset),
        },
        "cost_this_month": money(current.cost_micros),
    }


def charge_images(
    db: firestore.Client,
    settings: Settings,
    uid: str,
    *,
    assets: list[Asset],
    cost_micros: int,
    now: datetime,
) -> Charge:
    """Take a rate-limit token, check the daily quota, charge, and create the PENDING assets."""
    from google.cloud import firestore

    usage_repo, asset_repo = UsageRepository(db), AssetRepository(db)
    bucket, count = bucket_for(settings), len(assets)

    @firestore.transactional
    def run(txn: firestore.Transaction) -> Charge:
        stored, user = usage_repo.read_in(txn, uid)
        usage = stored.current(*periods(now))
        limits = limits_for(settings, user)
        decision = ratelimit.take(bucket, usage.bucket_tokens, usage.bucket_time, now)
        if not decision.allowed:
            raise RateLimited(
                f"Generation rate limit reached; retry in {decision.retry_after}s",
                headers=ratelimit.headers(bucket, decision),
            )
        if usage.images + count > limits.images_per_day:
            raise _quota_exceeded(usage, limits, count, now)
        charged = replace(
            usage,
            images=usage.images + count,
            cost_micros=usage.cost_micros + cost_micros,
            bucket_tokens=decision.tokens,
            bucket_time=now,
        )
        usage_repo.write_in(txn, uid, charged)
        for asset in assets:
            asset_repo.create_in(txn, asset)
        return Charge(uid, count, cost_micros, charged, limits, decision)

    result: Charge = run(db.transaction())
    return result


def _quota_exceeded(usage: Usage, limits: Limits, count: int, now: datetime) -> QuotaExceeded:
    reset, _ = reset_times(now)
    left = max(0, limits.images_per_day - usage.images)
    return QuotaExceeded(
        f"Daily image quota of {limits.images_per_day} reached ({left} left, {count} requested); "
        f"it resets at {rfc3339(reset)}",
        headers={"Retry-After": str(max(1, int((reset - now).total_seconds())))},
        extra={"reset_time": rfc3339(reset), "limit": limits.images_per_day, "used": usage.images},
    )


def refund_images(
    db: firestore.Client, charge: Charge, asset_ids: list[str], now: datetime
) -> Usage:
    """Give back the charge for ``asset_ids`` (all or part of ``charge``), mark them FAILED,
    and return the usage as stored afterwards."""
    from google.cloud import firestore

    usage_repo, asset_repo = UsageRepository(db), AssetRepository(db)
    images = len(asset_ids)
    cost = charge.cost_micros * images // max(1, charge.images)

    @firestore.transactional
    def run(txn: firestore.Transaction) -> Usage:
        stored, _ = usage_repo.read_in(txn, charge.uid)
        # A refund after the period rolled over has nothing to give back in that counter.
        refunded = replace(
            stored,
            images=max(0, stored.images - images)
            if stored.day == charge.usage.day
            else stored.images,
            cost_micros=max(0, stored.cost_micros - cost)
            if stored.month == charge.usage.month
            else stored.cost_micros,
        )
        usage_repo.write_in(txn, charge.uid, refunded)
        for asset_id in asset_ids:
            txn.update(asset_repo.ref(asset_id), {"state": "FAILED", "update_time": now})
        return refunded

    result: Usage = run(db.transaction())
    return result
