"""Queue resources: production defaults, validation, and UpdateQueue's field mask."""

import math

from . import names, pb, retry
from .errors import invalid, unimplemented

DEFAULT_MAX_DISPATCHES_PER_SECOND = 500.0
DEFAULT_MAX_CONCURRENT_DISPATCHES = 1000
MAX_DISPATCHES_PER_SECOND = 500.0
MAX_CONCURRENT_DISPATCHES = 5000
MAX_BURST_SIZE = 100
# UpdateQueue ignores these, as production does ("output only fields cannot be modified").
OUTPUT_ONLY = {"name", "state", "purge_time", "rate_limits.max_burst_size"}


def burst_size(rate: float) -> int:
    """max_burst_size is output only and production's formula is unpublished. This gives
    production's 100 at the default 500/s, and at low rates lets no more than `rate`
    dispatches through in the first second."""
    return max(1, min(MAX_BURST_SIZE, math.ceil(rate)))


def created(parent: str, requested: pb.Queue) -> pb.Queue:
    """The queue CreateQueue stores: validated, defaults filled, RUNNING."""
    names.location(parent)
    name = names.queue(requested.name)
    if name.location != parent:
        raise invalid(f"Queue {requested.name!r} is not in location {parent!r}")
    queue = pb.Queue()
    queue.CopyFrom(requested)
    queue.state = pb.STATE_RUNNING
    queue.ClearField("purge_time")
    normalize(queue)
    return queue


def updated(stored: pb.Queue | None, patch: pb.Queue, mask: pb.FieldMask) -> pb.Queue:
    """UpdateQueue's result; with no stored queue it creates one, as production does."""
    if stored is None:
        return created(names.queue(patch.name).location, patch)
    result = pb.Queue()
    result.CopyFrom(stored)
    if mask.paths:
        if not mask.IsValidForDescriptor(pb.Queue.DESCRIPTOR):
            raise invalid(f"Invalid update_mask {list(mask.paths)} for a Queue")
        editable = pb.FieldMask(paths=[p for p in mask.paths if p not in OUTPUT_ONLY])
        editable.MergeMessage(patch, result, True, True)
    else:
        result.CopyFrom(patch)
        result.name = stored.name
        result.state = stored.state
        result.ClearField("purge_time")
        if stored.HasField("purge_time"):
            result.purge_time.CopyFrom(stored.purge_time)
    normalize(result)
    return result


def normalize(queue: pb.Queue) -> None:
    if queue.HasField("http_target"):
        raise unimplemented(
            "Queue.http_target (queue-level URI and header overrides) is not supported by "
            "this emulator; set the URL and headers on each task"
        )
    ratio = queue.stackdriver_logging_config.sampling_ratio
    if not 0.0 <= ratio <= 1.0:
        raise invalid("stackdriver_logging_config.sampling_ratio must be in [0, 1]")
    _normalize_rate_limits(queue.rate_limits)
    retry.normalize(queue.retry_config, retry.defaults())


def _normalize_rate_limits(limits: pb.RateLimits) -> None:
    rate = limits.max_dispatches_per_second
    if not 0.0 <= rate <= MAX_DISPATCHES_PER_SECOND or math.isnan(rate):
        raise invalid(
            f"rate_limits.max_dispatches_per_second must be in (0, {MAX_DISPATCHES_PER_SECOND}]"
        )
    concurrent = limits.max_concurrent_dispatches
    if not 0 <= concurrent <= MAX_CONCURRENT_DISPATCHES:
        raise invalid(
            f"rate_limits.max_concurrent_dispatches must be in [1, {MAX_CONCURRENT_DISPATCHES}]"
        )
    limits.max_dispatches_per_second = rate or DEFAULT_MAX_DISPATCHES_PER_SECOND
    limits.max_concurrent_dispatches = concurrent or DEFAULT_MAX_CONCURRENT_DISPATCHES
    limits.max_burst_size = burst_size(limits.max_dispatches_per_second)


def is_paused(queue: pb.Queue) -> bool:
    return queue.state == pb.STATE_PAUSED


def matches_filter(queue: pb.Queue, expression: str) -> bool:
    """ListQueues' filter; only `state: X` / `state = X` is supported."""
    if not expression.strip():
        return True
    key, sep, value = expression.replace("=", ":").partition(":")
    if not sep or key.strip() != "state":
        raise invalid(
            f"Unsupported filter {expression!r}: this emulator supports only 'state: STATE'"
        )
    wanted = value.strip().upper()
    state = {pb.STATE_RUNNING: "RUNNING", pb.STATE_PAUSED: "PAUSED"}.get(queue.state, "")
    return state == wanted
