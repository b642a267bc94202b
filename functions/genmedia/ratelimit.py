"""Per-user token bucket for generation, stored in the usage document.

The bucket lives in the document the quota transaction already reads and writes, so limiting
costs no extra round trip. Per-IP limits belong to the edge (Cloud Armor rate-based rules).
The HTTP layer writes them as the IETF RateLimit header fields (``http/headers.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

POLICY = "gen"


@dataclass(frozen=True)
class Bucket:
    capacity: int
    refill_per_minute: int

    @property
    def refill_per_second(self) -> float:
        return self.refill_per_minute / 60.0

    @property
    def window_seconds(self) -> int:
        """Time for an empty bucket to fill: the draft's policy window."""
        return math.ceil(self.capacity / self.refill_per_second)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    tokens: float  # after this request
    retry_after: int  # seconds until one token is available (0 when allowed)


def take(bucket: Bucket, tokens: float | None, last: datetime | None, now: datetime) -> Decision:
    """Refill for the time elapsed since ``last``, then take one token if there is one."""
    level = float(bucket.capacity) if tokens is None or last is None else tokens
    if last is not None:
        elapsed = max(0.0, (now - last).total_seconds())
        level = min(float(bucket.capacity), level + elapsed * bucket.refill_per_second)
    if level >= 1.0:
        return Decision(True, level - 1.0, 0)
    wait = math.ceil((1.0 - level) / bucket.refill_per_second)
    return Decision(False, level, max(1, wait))


@dataclass(frozen=True)
class RateLimitState:
    """A bucket and the decision just taken on it: what RateLimit headers describe."""

    bucket: Bucket
    decision: Decision
