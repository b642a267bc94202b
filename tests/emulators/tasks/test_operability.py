"""Operability of the emulator process: ready line, health, ports, signals, reset, startup
queues, and the flags the session emulator does not use (tombstone window, deadlines).

Each test starts its own emulator subprocess, so a reset or a flag here affects no other test.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from google.api_core import exceptions

from tests.emulators.tasks.helpers import Receiver, Reply, from_now, wait_until
from tests.emulators.tasks.process import TasksEmulatorProcess as EmulatorProcess

READY = re.compile(r"^tasks-emulator ready grpc=127\.0\.0\.1:(\d+) http=127\.0\.0\.1:(\d+)$")
QUEUE = "projects/ops/locations/us-central1/queues/startup"
Launcher = Callable[..., EmulatorProcess]


def test_ready_line_and_health(emulator_launcher: Launcher) -> None:
    emulator = emulator_launcher()
    match = READY.match(emulator.ready_line)
    assert match, emulator.ready_line
    assert (int(match.group(1)), int(match.group(2))) == (emulator.port, emulator.http_port)
    url = f"http://127.0.0.1:{emulator.http_port}/"
    with urllib.request.urlopen(url, timeout=10) as response:
        assert (response.status, response.read()) == (200, b"Ok")
    assert emulator.admin().call("GET", "/emulator/v1/health") == (
        200,
        {"status": "ok", "queues": 0, "tasks": 0},
    )


@pytest.mark.parametrize("which", ["grpc", "http"])
def test_taken_port_exits_2_naming_the_port(emulator_cmd: Callable[..., Any], which: str) -> None:
    with socket.socket() as taken, socket.socket() as spare:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        spare.bind(("127.0.0.1", 0))
        busy, free = taken.getsockname()[1], spare.getsockname()[1]
        spare.close()
        grpc_port, http_port = (busy, free) if which == "grpc" else (free, busy)
        cmd, env = emulator_cmd("--port", str(grpc_port), "--http-port", str(http_port))
        started = time.monotonic()
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert time.monotonic() - started < 10
    assert str(busy) in result.stderr and which.upper() in result.stderr.upper()
    assert "ready" not in result.stdout


def test_default_http_port_is_grpc_port_plus_one(emulator_cmd: Callable[..., Any]) -> None:
    port = _free_pair()
    cmd, env = emulator_cmd("--port", str(port))
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert f"http=127.0.0.1:{port + 1}" in proc.stdout.readline()
        with urllib.request.urlopen(f"http://127.0.0.1:{port + 1}/", timeout=10) as response:
            assert response.status == 200
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_restart_on_the_same_ports_serves_at_once(emulator_cmd: Callable[..., Any]) -> None:
    """The local stack restarts a stopped emulator on its ports: connections the last run
    closed (TIME_WAIT) must not keep it from binding its admin port again."""
    port = _free_pair()
    cmd, env = emulator_cmd("--port", str(port), "--http-port", str(port + 1))
    for _ in range(2):
        proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            assert proc.stdout is not None and proc.stderr is not None
            if "ready" not in proc.stdout.readline():
                proc.wait(10)
                pytest.fail(f"the emulator did not start: {proc.stderr.read()}")
            for _ in range(3):
                assert _closed_by_the_server(port + 1).startswith(b"HTTP/1.1 200 ")
        finally:
            proc.terminate()
            code = proc.wait(10)
        assert code == 0


def _closed_by_the_server(port: int) -> bytes:
    """One request on a connection the server closes first, which leaves it in TIME_WAIT
    on the server's port (a client closing first would hold the TIME_WAIT instead)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: emulator\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := conn.recv(4096):  # until the server's FIN
            answer += chunk
    return answer


def _free_pair() -> int:
    for _ in range(50):
        with socket.socket() as a, socket.socket() as b:
            a.bind(("127.0.0.1", 0))
            port = int(a.getsockname()[1])
            try:
                b.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port pair")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signals_stop_promptly_even_with_a_request_in_flight(
    emulator_launcher: Launcher, receiver: Receiver, sig: int
) -> None:
    emulator = emulator_launcher("--queue", QUEUE)
    path = receiver.new_path(Reply(200, delay=10.0))
    task = {"http_request": {"url": receiver.url(path)}}
    emulator.client().create_task(parent=QUEUE, task=task)
    receiver.wait_hits(path, 1)
    started = time.monotonic()
    emulator.proc.send_signal(sig)
    assert emulator.proc.wait(10) == 0
    assert time.monotonic() - started < 2.0  # "within a second", with slack for a busy host


def test_startup_queues_and_reset(emulator_launcher: Launcher, receiver: Receiver) -> None:
    emulator = emulator_launcher("--queue", QUEUE)
    client, admin = emulator.client(), emulator.admin()
    assert client.get_queue(name=QUEUE).state == 1  # RUNNING
    path = receiver.new_path()
    task = {"http_request": {"url": receiver.url(path)}, "schedule_time": from_now(1.0)}
    created = client.create_task(parent=QUEUE, task=task)
    other = f"{QUEUE}-other"
    client.create_queue(parent=QUEUE.split("/queues/")[0], queue={"name": other})
    client.pause_queue(name=QUEUE)
    assert admin.call("POST", "/emulator/v1/reset") == (200, {})
    assert [q.name for q in client.list_queues(parent=QUEUE.split("/queues/")[0])] == [QUEUE]
    assert client.get_queue(name=QUEUE).state == 1  # back to its state at start
    assert list(client.list_tasks(parent=QUEUE)) == []
    assert admin.call("GET", f"/emulator/v1/attempts?task={created.name}")[0] == 404
    with pytest.raises(AssertionError):
        receiver.wait_hits(path, 1, timeout=1.5)  # the task from before the reset never runs


def test_names_are_free_again_after_the_tombstone_window(
    emulator_launcher: Launcher, receiver: Receiver
) -> None:
    emulator = emulator_launcher("--queue", QUEUE, "--tombstone-seconds", "1")
    client, admin = emulator.client(), emulator.admin()
    path = receiver.new_path()
    done = {"name": f"{QUEUE}/tasks/done", "http_request": {"url": receiver.url(path)}}
    client.create_task(parent=QUEUE, task=done)
    admin.wait_outcome(done["name"], "succeeded")
    deleted = {**done, "name": f"{QUEUE}/tasks/deleted", "schedule_time": from_now(60)}
    client.create_task(parent=QUEUE, task=deleted)
    client.delete_task(name=deleted["name"])
    for spec in (done, deleted):
        with pytest.raises(exceptions.AlreadyExists):
            client.create_task(parent=QUEUE, task=spec)
    wait_until(lambda: _created(client, done), timeout=5, interval=0.2, what="tombstone expiry")
    wait_until(lambda: _created(client, deleted), timeout=5, interval=0.2, what="expiry")


def _created(client: Any, task: dict[str, Any]) -> bool:
    try:
        client.create_task(parent=QUEUE, task=task)
    except exceptions.AlreadyExists:
        return False
    return True


def test_production_dispatch_deadline_bounds_by_default(emulator_launcher: Launcher) -> None:
    emulator = emulator_launcher("--queue", QUEUE)
    client = emulator.client()
    url = "http://127.0.0.1:9/never-dispatched"
    task = {"http_request": {"url": url}, "schedule_time": from_now(600)}
    for seconds in (14, 1801):
        with pytest.raises(exceptions.InvalidArgument, match="dispatch_deadline"):
            client.create_task(
                parent=QUEUE, task={**task, "dispatch_deadline": timedelta(seconds=seconds)}
            )
    for seconds in (15, 1800):
        created = client.create_task(
            parent=QUEUE, task={**task, "dispatch_deadline": timedelta(seconds=seconds)}
        )
        assert created.dispatch_deadline == timedelta(seconds=seconds)
