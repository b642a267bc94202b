"""The local stack's contract: stack.json, health through the gateway, readiness, clean shutdown."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from infra.local import seed
from infra.local.ports import free_port
from infra.local.routes import load_routes
from infra.local.stack import DEFAULT_PORTS, ROOT, Stack

STACK_KEYS = {
    "project_id", "gateway", "auth_emulator", "firestore_emulator", "storage_emulator",
    "tasks_emulator", "functions",
}  # fmt: skip


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (read from /proc, so no extra dependency)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


class Launcher:
    """`python -m infra.local` as `make dev` runs it, on free ports and a private state dir."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        names = sorted(load_routes().functions)
        ports = {name: free_port() for name in DEFAULT_PORTS} | {
            f"fn_{n}": free_port() for n in names
        }
        env = {k: v for k, v in os.environ.items() if not k.endswith("_EMULATOR_HOST")}
        env.update({f"GENMEDIA_PORT_{k.upper()}": str(v) for k, v in ports.items()})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "infra.local", "--state-dir", str(state_dir),
             "--scheduler-interval", "0"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.ports = ports

    def wait_ready(self, timeout: float = 120) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        path = self.state_dir / "stack.json"
        while not path.exists():
            assert self.proc.poll() is None, self.proc.communicate()
            assert time.monotonic() < deadline, "stack.json never written"
            time.sleep(0.2)
        info: dict[str, object] = json.loads(path.read_text())
        return info

    def stop(self) -> None:
        # Ctrl-C, as a developer stops it, so its children go too; SIGKILL would orphan them.
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc.communicate()


@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[Launcher]:
    proc = Launcher(tmp_path)
    try:
        yield proc
    finally:
        proc.stop()


def test_launcher_serves_health_and_stops_cleanly_on_sigint(launcher: Launcher) -> None:
    info = launcher.wait_ready()
    assert info.keys() >= STACK_KEYS
    assert info["gateway"] == f"http://127.0.0.1:{launcher.ports['gateway']}"
    assert info["firestore_emulator"] == f"127.0.0.1:{launcher.ports['firestore']}"
    assert set(info["functions"]) == set(load_routes().functions)  # type: ignore[arg-type]
    gateway = str(info["gateway"])
    assert requests.get(gateway + "/v1/healthz", timeout=10).json() == {"status": "ok"}
    ready = requests.get(gateway + "/v1/readyz", timeout=10)
    assert ready.status_code == 200, ready.text
    assert {d["status"] for d in ready.json()["dependencies"].values()} == {"ok"}
    kinds = {name: spec["kind"] for name, spec in load_routes().functions.items()}
    for name, url in info["functions"].items():  # type: ignore[attr-defined]
        # An event function takes CloudEvents only (POST); it is up when it answers at all.
        expected = 200 if kinds[name] == "http" else 405
        assert requests.get(url + "/healthz", timeout=10).status_code == expected, name
    children = _descendants(launcher.proc.pid)
    assert len(children) >= 4 + len(info["functions"])  # type: ignore[arg-type]

    launcher.proc.send_signal(signal.SIGINT)
    launcher.proc.wait(timeout=10)
    assert launcher.proc.returncode == 0
    assert _alive(children) == set(), "processes left behind after Ctrl-C"
    assert not (launcher.state_dir / "stack.json").exists(), "stale stack.json after stop"


def test_launcher_reports_a_dead_child_by_name_and_exits_non_zero(launcher: Launcher) -> None:
    launcher.wait_ready()
    children = _descendants(launcher.proc.pid)
    storage = [p for p in children if b"fake-gcs-server" in Path(f"/proc/{p}/cmdline").read_bytes()]
    assert storage, "storage emulator process not found"
    os.kill(storage[0], signal.SIGKILL)
    _, stderr = launcher.proc.communicate(timeout=20)
    assert launcher.proc.returncode != 0
    assert "storage exited unexpectedly" in stderr
    assert _alive(children) == set()


def test_a_taken_port_fails_fast_naming_it(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = dict(os.environ, GENMEDIA_PORT_GATEWAY=str(port))
        result = subprocess.run(
            [sys.executable, "-m", "infra.local", "--state-dir", str(tmp_path)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert result.returncode != 0
    assert f"{port} (gateway, GENMEDIA_PORT_GATEWAY)" in result.stderr
    assert not (tmp_path / "stack.json").exists()


def test_readyz_turns_503_while_storage_is_down(controllable_stack: Stack) -> None:
    gateway = str(controllable_stack.info()["gateway"])
    assert requests.get(gateway + "/v1/readyz", timeout=10).status_code == 200
    controllable_stack.stop_service("storage")
    try:
        down = requests.get(gateway + "/v1/readyz", timeout=15)
        assert down.status_code == 503
        body = down.json()
        assert body["dependencies"]["storage"]["status"] == "error"
        assert body["dependencies"]["firestore"]["status"] == "ok"
        assert down.headers["Retry-After"]
    finally:
        controllable_stack.start_service("storage")
        seed.seed(controllable_stack)  # the in-memory storage emulator restarts empty
    assert requests.get(gateway + "/v1/readyz", timeout=10).status_code == 200


def test_gateway_routes_only_public_paths(stack_info: dict[str, object]) -> None:
    gateway = str(stack_info["gateway"])
    missing = requests.get(gateway + "/healthz", timeout=10)
    assert missing.status_code == 404
    assert missing.headers["Content-Type"] == "application/problem+json"
    assert missing.json()["code"] == "NOT_FOUND"
    assert requests.get(gateway + "/v1/nothing-here", timeout=10).status_code == 404


def test_the_declared_queues_exist_with_their_retry_and_rate_settings(
    stack_info: dict[str, Any],
) -> None:
    import grpc
    from google.cloud import tasks_v2
    from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

    from infra.local.queues import LOCATION, load_queues

    channel = grpc.insecure_channel(stack_info["tasks_emulator"])
    client = tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=channel))
    parent = f"projects/{stack_info['project_id']}/locations/{LOCATION}"
    try:
        found = {q.name.rsplit("/", 1)[1]: q for q in client.list_queues(parent=parent)}
    finally:
        channel.close()
    declared = load_queues()
    assert set(found) == set(declared)
    for name, spec in declared.items():
        retry, rates = found[name].retry_config, found[name].rate_limits
        assert retry.max_attempts == spec["retry_config"]["max_attempts"]
        assert retry.min_backoff.total_seconds() == float(spec["retry_config"]["min_backoff"][:-1])
        assert retry.max_doublings == spec["retry_config"]["max_doublings"]
        limit = spec["rate_limits"]["max_concurrent_dispatches"]
        assert rates.max_concurrent_dispatches == limit
