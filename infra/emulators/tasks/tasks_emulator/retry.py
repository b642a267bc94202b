"""RetryConfig: production defaults, validation, and the backoff schedule.

The schedule is the one RetryConfig.max_doublings documents: the interval starts at
min_backoff, doubles max_doublings times, then grows linearly by the last doubled
interval, and is capped at max_backoff (10s/300s/3 doublings: 10, 20, 40, 80, 160, 240,
300, 300, ...).
"""

from dataclasses import dataclass

from . import pb
from .errors import invalid
from .timeutil import seconds_of, set_duration

DEFAULT_MAX_ATTEMPTS = 100
DEFAULT_MIN_BACKOFF_S = 0.1
DEFAULT_MAX_BACKOFF_S = 3600.0
DEFAULT_MAX_DOUBLINGS = 16
# 2.0**n overflows a float near n=1024; max_backoff caps any interval long before 2**64.
_DOUBLING_CAP = 64


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int  # -1: unlimited
    max_retry_duration: float  # 0: unlimited
    min_backoff: float
    max_backoff: float
    max_doublings: int

    def backoff(self, retry_index: int) -> float:
        """Delay before retry number `retry_index` (0 = the first retry)."""
        doublings = min(retry_index, self.max_doublings, _DOUBLING_CAP)
        interval = self.min_backoff * 2.0**doublings
        linear_steps = max(0, retry_index - self.max_doublings)
        return min(self.max_backoff, interval * (1 + linear_steps))

    def gives_up(self, attempts: int, since_first_attempt: float) -> bool:
        """Whether no attempt follows `attempts` failed ones.

        Production stops only when both limits are reached; an unlimited one (-1 attempts,
        0 duration) is never reached, unless it is the only limit set, as in queue.yaml.
        """
        by_count = self.max_attempts != -1 and attempts >= self.max_attempts
        by_age = self.max_retry_duration > 0 and since_first_attempt >= self.max_retry_duration
        if self.max_attempts == -1:
            return by_age
        if self.max_retry_duration <= 0:
            return by_count
        return by_count and by_age


def defaults() -> pb.RetryConfig:
    config = pb.RetryConfig(max_attempts=DEFAULT_MAX_ATTEMPTS, max_doublings=DEFAULT_MAX_DOUBLINGS)
    set_duration(config.min_backoff, DEFAULT_MIN_BACKOFF_S)
    set_duration(config.max_backoff, DEFAULT_MAX_BACKOFF_S)
    return config


def normalize(config: pb.RetryConfig, base: pb.RetryConfig) -> None:
    """Validate `config` in place and fill what it leaves unset from `base`."""
    if config.max_attempts < -1:
        raise invalid("retry_config.max_attempts must be -1 (unlimited) or more")
    if config.max_doublings < 0:
        raise invalid("retry_config.max_doublings must not be negative")
    for field, value in (
        ("min_backoff", config.min_backoff),
        ("max_backoff", config.max_backoff),
        ("max_retry_duration", config.max_retry_duration),
    ):
        if value.ToNanoseconds() < 0:
            raise invalid(f"retry_config.{field} must not be negative")
    # Proto3 cannot tell 0 from unset for these ints, so 0 means "the default" here too.
    config.max_attempts = config.max_attempts or base.max_attempts
    config.max_doublings = config.max_doublings or base.max_doublings
    if not config.HasField("min_backoff"):
        config.min_backoff.CopyFrom(base.min_backoff)
    if not config.HasField("max_backoff"):
        config.max_backoff.CopyFrom(base.max_backoff)
    if not config.HasField("max_retry_duration") and base.HasField("max_retry_duration"):
        config.max_retry_duration.CopyFrom(base.max_retry_duration)
    if seconds_of(config.min_backoff) > seconds_of(config.max_backoff):
        raise invalid("retry_config.min_backoff must not exceed retry_config.max_backoff")


def policy(config: pb.RetryConfig) -> RetryPolicy:
    """The policy of a normalized config."""
    return RetryPolicy(
        max_attempts=config.max_attempts,
        max_retry_duration=seconds_of(config.max_retry_duration),
        min_backoff=seconds_of(config.min_backoff),
        max_backoff=seconds_of(config.max_backoff),
        max_doublings=config.max_doublings,
    )
