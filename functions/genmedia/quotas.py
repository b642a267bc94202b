"""Per-user quotas (images per UTC day, videos per UTC month) and the generation rate limit.

Pure policy: limits, periods and the charge/refund arithmetic on a usage record. The service
applies them inside the Firestore transaction that also creates the charged assets, so either
all of a charge is recorded or none of it; a generation that fails after charging is refunded
in a second transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from genmedia import ratelimit
from genmedia.config import Settings
from genmedia.errors import AccountErasing, QuotaExceeded, RateLimited
from genmedia.formats import rfc3339
from genmedia.store.records import AssetRecord, UsageRecord, UserRecord


@dataclass(frozen=True)
class Limits:
    images_per_day: int
    videos_per_month: int


@dataclass(frozen=True)
class Charge:
    uid: str
    images: int
    cost_micros: int
    usage: UsageRecord  # after the charge
    limits: Limits
    rate: ratelimit.RateLimitState


def check_not_erasing(user: UserRecord) -> None:
    """Every charge reads the user's document in its transaction: an erasure that has begun
    is seen there, so no new work is charged to (or started for) the account."""
    if user.erasure_time is not None:
        raise AccountErasing("This account is being erased; it cannot start new work")


def limits_for(settings: Settings, user: UserRecord) -> Limits:
    overrides = user.quota
    return Limits(
        settings.quota_images_per_day
        if overrides.images_per_day is None
        else overrides.images_per_day,
        settings.quota_videos_per_month
        if overrides.videos_per_month is None
        else overrides.videos_per_month,
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


def _take_token(
    usage: UsageRecord, bucket: ratelimit.Bucket, now: datetime
) -> ratelimit.RateLimitState:
    decision = ratelimit.take(bucket, usage.bucket_tokens, usage.bucket_time, now)
    rate = ratelimit.RateLimitState(bucket, decision)
    if not decision.allowed:
        raise RateLimited(
            f"Generation rate limit reached; retry in {decision.retry_after}s", rate_limit=rate
        )
    return rate


def charge_images(
    stored: UsageRecord,
    limits: Limits,
    bucket: ratelimit.Bucket,
    *,
    uid: str,
    count: int,
    cost_micros: int,
    now: datetime,
) -> Charge:
    """Take a rate-limit token and charge ``count`` images, or raise RateLimited/QuotaExceeded."""
    usage = stored.current(*periods(now))
    rate = _take_token(usage, bucket, now)
    if usage.images + count > limits.images_per_day:
        raise _quota_exceeded(usage, limits, count, now)
    charged = replace(
        usage,
        images=usage.images + count,
        cost_micros=usage.cost_micros + cost_micros,
        bucket_tokens=rate.decision.tokens,
        bucket_time=now,
    )
    return Charge(uid, count, cost_micros, charged, limits, rate)


def charge_video(
    stored: UsageRecord,
    limits: Limits,
    bucket: ratelimit.Bucket,
    *,
    cost_micros: int,
    now: datetime,
) -> tuple[UsageRecord, ratelimit.RateLimitState]:
    """Take a rate-limit token and charge one video this month, or raise."""
    usage = stored.current(*periods(now))
    rate = _take_token(usage, bucket, now)
    if usage.videos + 1 > limits.videos_per_month:
        _, reset = reset_times(now)
        raise QuotaExceeded(
            f"Monthly video quota of {limits.videos_per_month} reached; "
            f"it resets at {rfc3339(reset)}",
            retry_after=max(1, int((reset - now).total_seconds())),
            extra={
                "reset_time": rfc3339(reset),
                "limit": limits.videos_per_month,
                "used": usage.videos,
            },
        )
    charged = replace(
        usage,
        videos=usage.videos + 1,
        cost_micros=usage.cost_micros + cost_micros,
        bucket_tokens=rate.decision.tokens,
        bucket_time=now,
    )
    return charged, rate


def refund_video(stored: UsageRecord, month: str, cost_micros: int) -> UsageRecord:
    """``stored`` with one video charged in ``month`` given back (nothing once it has ended)."""
    if stored.month != month:
        return stored
    return replace(
        stored,
        videos=max(0, stored.videos - 1),
        cost_micros=max(0, stored.cost_micros - cost_micros),
    )


def _quota_exceeded(usage: UsageRecord, limits: Limits, count: int, now: datetime) -> QuotaExceeded:
    reset, _ = reset_times(now)
    left = max(0, limits.images_per_day - usage.images)
    return QuotaExceeded(
        f"Daily image quota of {limits.images_per_day} reached ({left} left, {count} requested); "
        f"it resets at {rfc3339(reset)}",
        retry_after=max(1, int((reset - now).total_seconds())),
        extra={"reset_time": rfc3339(reset), "limit": limits.images_per_day, "used": usage.images},
    )


def refund_images(stored: UsageRecord, charge: Charge, images: int) -> UsageRecord:
    """``stored`` with ``images`` of ``charge`` given back (its share of the cost too).

    A refund after the period rolled over has nothing to give back in that counter.
    """
    cost = charge.cost_micros * images // max(1, charge.images)
    return replace(
        stored,
        images=max(0, stored.images - images) if stored.day == charge.usage.day else stored.images,
        cost_micros=max(0, stored.cost_micros - cost)
        if stored.month == charge.usage.month
        else stored.cost_micros,
    )


def refund_asset(stored: UsageRecord, asset: AssetRecord) -> UsageRecord:
    """``stored`` with one image of ``asset`` given back, in the periods it was charged in."""
    day, month = periods(asset.create_time)
    return replace(
        stored,
        images=max(0, stored.images - 1) if stored.day == day else stored.images,
        cost_micros=max(0, stored.cost_micros - asset.cost_micros)
        if stored.month == month
        else stored.cost_micros,
    )
