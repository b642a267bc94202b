"""Conversions between float seconds (the clock's unit) and protobuf Timestamp/Duration."""

import datetime

from . import pb


def timestamp(seconds: float, *, resolution_ns: int = 1000) -> pb.Timestamp:
    """A Timestamp, truncated to `resolution_ns` (production truncates to the microsecond)."""
    out = pb.Timestamp()
    out.FromNanoseconds(int(seconds * 1e9) // resolution_ns * resolution_ns)
    return out


def seconds_of(value: pb.Timestamp | pb.Duration) -> float:
    return value.ToNanoseconds() / 1e9


def set_duration(target: pb.Duration, seconds: float) -> None:
    target.FromNanoseconds(round(seconds * 1e9))


def rfc3339(seconds: float) -> str:
    moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")
