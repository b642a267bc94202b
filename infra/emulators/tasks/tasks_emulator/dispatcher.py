"""The dispatch loop: one thread that starts due attempts, and one thread per request.

The loop reads time only through the Clock and does all its work in `step`, so a test
can drive it with a fake clock and a fake Sender; `spawn` decides how requests run.
"""

import threading
from collections.abc import Callable

from . import scheduler
from .attempts import Attempts, Launch, Result
from .clock import Clock
from .delivery import Sender
from .state import State

SWEEP_INTERVAL_S = 10.0
Spawn = Callable[[Callable[[], None]], None]


def _thread(target: Callable[[], None]) -> None:
    threading.Thread(target=target, name="tasks-attempt", daemon=True).start()


class Dispatcher:
    def __init__(
        self, state: State, attempts: Attempts, clock: Clock, sender: Sender, spawn: Spawn = _thread
    ) -> None:
        self.state = state
        self.attempts = attempts
        self.clock = clock
        self.sender = sender
        self.spawn = spawn
        self._stopped = False
        self._next_sweep = 0.0
        self._thread = threading.Thread(target=self._loop, name="tasks-dispatcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self.state.cond:
            self._stopped = True
            self.state.cond.notify_all()
        self._thread.join(2.0)

    def step(self, now: float) -> float:
        """Conclude expired attempts, start due ones; returns when to step again.

        Call with `state.cond` held.
        """
        for launch in scheduler.due_launches(self.state, self.attempts, now):
            self.launch(launch)
        if now >= self._next_sweep:
            self.state.sweep_tombstones(now)
            self._next_sweep = now + SWEEP_INTERVAL_S
        return scheduler.next_wake(self.state, now)

    def launch(self, launch: Launch) -> None:
        self.spawn(lambda: self._send(launch))

    def complete(self, launch: Launch, result: Result, now: float) -> None:
        """Apply a request's result. Call with `state.cond` held."""
        live = launch.live
        if live is None:  # an injected duplicate: recorded, nothing else
            launch.record.status, launch.record.error = result.status, result.error
            launch.record.response_time = now if result.status is not None else None
            return
        if live.injected is not None and live.injected.kind == "status":
            result = Result(live.injected.status)
        if live.attempt_id not in self.state.live:
            self.attempts.late(live, result)
            return
        duplicate = self.attempts.conclude(live, result, now)
        if duplicate is not None:
            self.launch(duplicate)
        self.state.cond.notify_all()

    def _send(self, launch: Launch) -> None:
        result = self.sender.send(launch.request, launch.timeout)
        with self.state.cond:
            self.complete(launch, result, self.clock.now())

    def _loop(self) -> None:
        with self.state.cond:
            while not self._stopped:
                now = self.clock.now()
                wake = self.step(now)
                # Capped so that a wall-clock jump is noticed within a second.
                self.state.cond.wait(min(max(wake - now, 0.001), scheduler.IDLE_WAKE_S))
