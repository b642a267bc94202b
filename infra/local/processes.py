"""Child processes of the local stack: one process group each, output kept in a log file."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path


class Child:
    """A long-running service process (emulator or function) owned by the stack launcher."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        *,
        env: dict[str, str],
        cwd: Path,
        log: Path,
        echo: bool = False,
    ) -> None:
        self.name, self.argv, self.env, self.cwd, self.log = name, argv, env, cwd, log
        self.echo = echo
        self.proc: subprocess.Popen[bytes] | None = None
        self.expected_exit = False
        self._pump: threading.Thread | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.expected_exit = False
        # A new session puts the child and everything it spawns (gunicorn workers, node helpers)
        # in one process group, so stop() can take the whole tree down.
        self.proc = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._pump = threading.Thread(
            target=self._copy_output, name=f"log-{self.name}", daemon=True
        )
        self._pump.start()

    def _copy_output(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        with self.log.open("ab") as sink:
            for line in iter(self.proc.stdout.readline, b""):
                sink.write(line)
                sink.flush()
                if self.echo:
                    sys.stdout.write(f"[{self.name}] {line.decode(errors='replace')}")
                    sys.stdout.flush()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal_group(self, sig: signal.Signals) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)

    def wait_stopped(self, deadline: float) -> None:
        """Wait until the group leader exits; SIGKILL the group if it outlives the deadline."""
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.signal_group(signal.SIGKILL)
            self.proc.wait(timeout=5)
        # Members of the group (e.g. a gunicorn worker) may outlive the leader by a moment.
        self.signal_group(signal.SIGKILL)
        if self._pump is not None:
            self._pump.join(timeout=2)

    def stop(self, timeout: float = 8.0) -> None:
        self.expected_exit = True
        self.signal_group(signal.SIGTERM)
        self.wait_stopped(time.monotonic() + timeout)


def stop_all(children: list[Child], timeout: float = 8.0) -> None:
    """Stop every child in parallel so the whole stack is down within ``timeout`` seconds."""
    for child in children:
        child.expected_exit = True
        child.signal_group(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for child in children:
        child.wait_stopped(deadline)
