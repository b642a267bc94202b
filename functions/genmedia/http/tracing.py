"""Request ids and trace context from incoming headers.

W3C ``traceparent`` wins over Google's legacy ``X-Cloud-Trace-Context``; anything malformed is
ignored rather than rejected, because tracing must never fail a request.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._-]{1,128}")
_TRACEPARENT_RE = re.compile(
    r"(?P<version>[0-9a-f]{2})-(?P<trace>[0-9a-f]{32})-(?P<span>[0-9a-f]{16})-(?P<flags>[0-9a-f]{2})"
    r"(?P<rest>-.*)?"
)
_CLOUD_TRACE_RE = re.compile(r"(?P<trace>[0-9a-fA-F]{32})(?:/(?P<span>\d{1,20}))?(?:;o=(?P<o>\d))?")
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16


@dataclass(frozen=True, slots=True)
class Trace:
    trace_id: str  # 32 lowercase hex
    span_id: str | None  # 16 lowercase hex, as Cloud Logging's spanId expects
    sampled: bool


def request_id_from(header: str | None) -> str:
    """The caller's X-Request-ID when it is a safe token, otherwise a fresh random id."""
    if header is not None and _REQUEST_ID_RE.fullmatch(header):
        return header
    return secrets.token_hex(16)


def parse_traceparent(value: str) -> Trace | None:
    match = _TRACEPARENT_RE.fullmatch(value.strip())
    if match is None:
        return None
    version, trace, span = match["version"], match["trace"], match["span"]
    # Version ff is forbidden; only future versions may append fields after the flags.
    if version == "ff" or (version == "00" and match["rest"] is not None):
        return None
    if trace == _ZERO_TRACE or span == _ZERO_SPAN:
        return None
    return Trace(trace, span, bool(int(match["flags"], 16) & 1))


def parse_cloud_trace_context(value: str) -> Trace | None:
    match = _CLOUD_TRACE_RE.fullmatch(value.strip())
    if match is None:
        return None
    trace = match["trace"].lower()
    if trace == _ZERO_TRACE:
        return None
    span_id = None
    if match["span"] is not None:
        span = int(match["span"])
        if not 0 < span < 2**64:
            return None
        span_id = f"{span:016x}"
    return Trace(trace, span_id, match["o"] == "1")


def trace_from(traceparent: str | None, cloud_trace: str | None) -> Trace | None:
    trace = parse_traceparent(traceparent) if traceparent else None
    if trace is None and cloud_trace:
        trace = parse_cloud_trace_context(cloud_trace)
    return trace
