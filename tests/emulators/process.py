"""Our emulators as subprocesses, started the way the local stack starts them: on free ports,
with their own directory on PYTHONPATH, ready once they print their one ready line."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from infra.local.ports import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 20.0


@dataclass
class EmulatorProcess:
    proc: subprocess.Popen[str]
    port: int
    http_port: int
    ready_line: str

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self, timeout: float = 10.0) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


P = TypeVar("P", bound=EmulatorProcess)


@dataclass(frozen=True)
class Emulator:
    """One of our emulators: its package, the directory it runs from, a name for errors."""

    package: str
    path: Path
    label: str

    def command(self, *args: str) -> tuple[list[str], dict[str, str]]:
        """argv and environment that run it, as the stack launcher does."""
        env = dict(os.environ, PYTHONPATH=str(self.path), PYTHONUNBUFFERED="1")
        return [sys.executable, "-m", self.package, *args], env

    def launch(
        self,
        *extra: str,
        port: int | None = None,
        kind: type[P] = EmulatorProcess,  # type: ignore[assignment]
    ) -> P:
        """Start it on free ports (or ``port``) and wait for its ready line."""
        port = port or free_port()
        http_port = free_port()
        cmd, env = self.command(
            "--host", "127.0.0.1", "--port", str(port), "--http-port", str(http_port), *extra
        )
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO_ROOT
        )
        return kind(proc, port, http_port, self._await_ready(proc))

    def _await_ready(self, proc: subprocess.Popen[str]) -> str:
        found: list[str] = []

        def read() -> None:
            assert proc.stdout is not None
            found.append(proc.stdout.readline())

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(READY_TIMEOUT_S)
        if not found or "ready" not in found[0]:
            proc.kill()
            _, err = proc.communicate(timeout=5)
            raise RuntimeError(f"{self.label} did not become ready: {found} {err}")
        return found[0].strip()


FIRESTORE = Emulator(
    "firestore_emulator", REPO_ROOT / "infra" / "emulators" / "firestore", "Firestore emulator"
)
TASKS = Emulator("tasks_emulator", REPO_ROOT / "infra" / "emulators" / "tasks", "Tasks emulator")
