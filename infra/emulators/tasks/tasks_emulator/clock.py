"""Time source. The dispatcher only reads time through a Clock, so tests can drive it."""

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch (wall clock: schedule times are wall-clock times)."""


class SystemClock:
    def now(self) -> float:
        return time.time()
