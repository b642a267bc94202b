"""Quota arithmetic: limits, UTC periods, reset times and the caller's usage view."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from genmedia.formats import rfc3339
from genmedia.quotas import Limits, limits_for, periods, reset_times
from genmedia.services.views import usage_view
from genmedia.store.records import QuotaOverrides, UserRecord
from genmedia.store.records import UsageRecord as Usage
from tests.unit._helpers import make_settings

SETTINGS = make_settings(GENMEDIA_QUOTA_IMAGES_PER_DAY="50", GENMEDIA_QUOTA_VIDEOS_PER_MONTH="20")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (QuotaOverrides(), Limits(50, 20)),
        (QuotaOverrides(images_per_day=500), Limits(500, 20)),
        (QuotaOverrides(videos_per_month=3), Limits(50, 3)),
        (QuotaOverrides(0, 0), Limits(0, 0)),  # zero is an override (a suspended user)
    ],
)
def test_limits_are_the_defaults_unless_overridden(
    overrides: QuotaOverrides, expected: Limits
) -> None:
    assert limits_for(SETTINGS, UserRecord("u1", quota=overrides)) == expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2025, 3, 7, 15, 30), ("2025-03-07", "2025-03")),
        (utc(2025, 12, 31, 23, 59, 59), ("2025-12-31", "2025-12")),
        (utc(2026, 1, 1, 0, 0), ("2026-01-01", "2026-01")),
    ],
)
def test_periods_are_the_utc_day_and_month(now: datetime, expected: tuple[str, str]) -> None:
    assert periods(now) == expected


@pytest.mark.parametrize(
    ("now", "day_reset", "month_reset"),
    [
        (utc(2025, 3, 7, 15, 30), utc(2025, 3, 8), utc(2025, 4, 1)),
        (utc(2025, 1, 31, 23, 59, 59), utc(2025, 2, 1), utc(2025, 2, 1)),
        (utc(2024, 2, 28, 12), utc(2024, 2, 29), utc(2024, 3, 1)),  # leap year
        (utc(2025, 2, 28, 12), utc(2025, 3, 1), utc(2025, 3, 1)),
        (utc(2025, 11, 30, 8), utc(2025, 12, 1), utc(2025, 12, 1)),
        (utc(2025, 12, 15), utc(2025, 12, 16), utc(2026, 1, 1)),
        (utc(2025, 12, 31, 23, 59, 59), utc(2026, 1, 1), utc(2026, 1, 1)),
        (utc(2026, 1, 1, 0, 0), utc(2026, 1, 2), utc(2026, 2, 1)),
    ],
)
def test_reset_times_are_the_next_utc_day_and_month(
    now: datetime, day_reset: datetime, month_reset: datetime
) -> None:
    assert reset_times(now) == (day_reset, month_reset)


def test_rfc3339_is_utc_with_milliseconds_and_z() -> None:
    assert rfc3339(utc(2025, 3, 7, 15, 30, 1, 123456)) == "2025-03-07T15:30:01.123Z"


USAGE = Usage(day="2025-03-07", images=7, month="2025-03", videos=2, cost_micros=1_230_000)


def test_usage_view_in_the_current_periods() -> None:
    assert usage_view(USAGE, Limits(50, 20), utc(2025, 3, 7, 18)) == {
        "images": {"used": 7, "limit": 50, "reset_time": "2025-03-08T00:00:00.000Z"},
        "videos": {"used": 2, "limit": 20, "reset_time": "2025-04-01T00:00:00.000Z"},
        "cost_this_month": {"currency": "USD", "amount": "1.230000"},
    }


def test_usage_view_the_next_day_resets_images_only() -> None:
    view = usage_view(USAGE, Limits(50, 20), utc(2025, 3, 8, 0, 0, 1))
    assert (view["images"]["used"], view["videos"]["used"]) == (0, 2)
    assert view["cost_this_month"]["amount"] == "1.230000"


def test_usage_view_the_next_month_resets_everything() -> None:
    view = usage_view(USAGE, Limits(50, 20), utc(2025, 4, 1))
    assert (view["images"]["used"], view["videos"]["used"]) == (0, 0)
    assert view["cost_this_month"]["amount"] == "0.000000"
    assert view["videos"]["reset_time"] == "2025-05-01T00:00:00.000Z"


BUCKET_AT = utc(2025, 3, 31, 23, 59)
LATE_MARCH = Usage("2025-03-31", 9, "2025-03", 4, 500, bucket_tokens=1.5, bucket_time=BUCKET_AT)


@pytest.mark.parametrize(
    ("day", "month", "expected"),
    [
        ("2025-03-31", "2025-03", LATE_MARCH),
        # Next day, same month: images restart, videos and cost carry on.
        ("2025-04-01", "2025-03", Usage("2025-04-01", 0, "2025-03", 4, 500, 1.5, BUCKET_AT)),
        # Next month: every counter restarts.
        ("2025-04-01", "2025-04", Usage("2025-04-01", 0, "2025-04", 0, 0, 1.5, BUCKET_AT)),
    ],
)
def test_current_rolls_counters_over_but_keeps_the_rate_limit_bucket(
    day: str, month: str, expected: Usage
) -> None:
    assert LATE_MARCH.current(day, month) == expected


def test_current_of_a_new_user_is_all_zero() -> None:
    assert Usage().current("2025-03-07", "2025-03") == Usage("2025-03-07", 0, "2025-03", 0, 0)
