"""One fake clock for every test tier: wall time and monotonic time move only when told to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FakeClock:
    """Implements ``genmedia.clock.Clock``; also callable as a monotonic ``() -> float``."""

    def __init__(self, start: datetime | None = None) -> None:
        self.wall = start or datetime.now(UTC)
        self.mono = 1000.0
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def __call__(self) -> float:
        return self.mono

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += timedelta(seconds=seconds)
