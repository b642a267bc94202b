"""How times and money are written in the API (one formatter each)."""

from __future__ import annotations

from datetime import UTC, datetime


def rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def money(micros: int) -> dict[str, str]:
    return {"currency": "USD", "amount": f"{micros / 1e6:.6f}"}
