"""Starting the emulator as a subprocess, as the local stack does, and talking to it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import grpc
from google.cloud import tasks_v2
from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

from tests.emulators.tasks.helpers import Admin

REPO_ROOT = Path(__file__).resolve().parents[3]
EMULATOR_PATH = REPO_ROOT / "infra" / "emulators" / "tasks"
READY_TIMEOUT_S = 20.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class EmulatorProcess:
    proc: subprocess.Popen[str]
    port: int
    http_port: int
    ready_line: str

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def client(self) -> tasks_v2.CloudTasksClient:
        channel = grpc.insecure_channel(self.host)
        return tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=channel))

    def admin(self) -> Admin:
        return Admin(self.http_port)

    def stop(self, timeout: float = 10.0) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def emulator_command(*args: str) -> tuple[list[str], dict[str, str]]:
    """argv and environment that run this project's emulator, as the stack launcher would."""
    env = dict(os.environ, PYTHONPATH=str(EMULATOR_PATH), PYTHONUNBUFFERED="1")
    return [sys.executable, "-m", "tasks_emulator", *args], env


def launch_emulator(*extra: str) -> EmulatorProcess:
    port, http_port = free_port(), free_port()
    cmd, env = emulator_command(
        "--host", "127.0.0.1", "--port", str(port), "--http-port", str(http_port), *extra
    )
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO_ROOT
    )
    return EmulatorProcess(proc, port, http_port, _await_ready(proc))


def _await_ready(proc: subprocess.Popen[str]) -> str:
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
        raise RuntimeError(f"Cloud Tasks emulator did not become ready: {found} {err}")
    return found[0].strip()
