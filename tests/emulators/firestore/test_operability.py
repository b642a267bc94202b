"""Operability of this project's emulator (not conformance): ready line, reset endpoint,
--data-dir persistence, port conflicts, signals, Listen streams' lifecycle, unimplemented
streaming methods.

Each test starts its own emulator subprocess, independent of FIRESTORE_EMULATOR_HOST.
"""

from __future__ import annotations

import queue
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.api_core import exceptions
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.services.firestore import FirestoreClient
from google.cloud.firestore_v1.services.firestore.transports import FirestoreGrpcTransport
from google.cloud.firestore_v1.types import firestore as firestore_types

READY = re.compile(r"^firestore-emulator ready grpc=127\.0\.0\.1:(\d+) http=127\.0\.0\.1:(\d+)$")
Launcher = Callable[..., Any]


def _client(monkeypatch: pytest.MonkeyPatch, emulator: Any, **kwargs: Any) -> firestore.Client:
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", emulator.host)
    return firestore.Client(**{"project": "ops", **kwargs})


def _http(method: str, emulator: Any, path: str) -> tuple[int, str]:
    url = f"http://127.0.0.1:{emulator.http_port}{path}"
    request = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read().decode()


def test_ready_line_and_health_check(emulator_launcher: Launcher) -> None:
    emulator = emulator_launcher()
    match = READY.match(emulator.ready_line)
    assert match, emulator.ready_line
    assert (int(match.group(1)), int(match.group(2))) == (emulator.port, emulator.http_port)
    assert _http("GET", emulator, "/") == (200, "Ok")


def test_reset_clears_one_database_and_its_transactions(
    emulator_launcher: Launcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator = emulator_launcher()
    default = _client(monkeypatch, emulator)
    named = _client(monkeypatch, emulator, database="keep")
    default.document("c/d").set({"v": 1})
    named.document("c/d").set({"v": 2})
    gapic = FirestoreClient(transport=FirestoreGrpcTransport(channel=_channel(emulator)))
    database = default._database_string
    tid = gapic.begin_transaction(request={"database": database}).transaction
    list(
        gapic.batch_get_documents(
            request={
                "database": database,
                "documents": [default.document("c/d")._document_path],
                "transaction": tid,
            }
        )
    )
    status, _ = _http("DELETE", emulator, "/emulator/v1/projects/ops/databases/(default)/documents")
    assert status == 200
    assert not default.document("c/d").get().exists
    assert named.document("c/d").get().get("v") == 2
    started = time.monotonic()
    default.document("c/d").set({"v": 3})  # would wait for the lock had reset not released it
    assert time.monotonic() - started < 2
    with pytest.raises(exceptions.InvalidArgument):
        gapic.commit(request={"database": database, "transaction": tid})


def _channel(emulator: Any) -> grpc.Channel:
    return grpc.insecure_channel(emulator.host)


def test_data_dir_persists_across_restart(
    emulator_launcher: Launcher, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    data_dir = str(tmp_path / "state")
    first = emulator_launcher("--data-dir", data_dir)
    client = _client(monkeypatch, first)
    ref = client.document("persist/doc")
    ref.set({"v": 1, "nested": {"at": firestore.SERVER_TIMESTAMP}})
    before = ref.get()
    client.document("persist/gone").set({"v": 0})
    client.document("persist/gone").delete()
    _client(monkeypatch, first, database="second").document("x/y").set({"v": 2})
    first.proc.send_signal(signal.SIGTERM)
    assert first.proc.wait(10) == 0
    assert any(Path(data_dir).iterdir())

    second = emulator_launcher("--data-dir", data_dir)
    client = _client(monkeypatch, second)
    after = client.document("persist/doc").get()
    assert after.to_dict() == before.to_dict()
    assert after.update_time == before.update_time
    assert after.create_time == before.create_time
    assert not client.document("persist/gone").get().exists
    assert _client(monkeypatch, second, database="second").document("x/y").get().get("v") == 2
    client.document("persist/doc").update({"v": 5})
    assert client.document("persist/doc").get().update_time > before.update_time


def test_equality_queries_after_restart_and_reset(
    emulator_launcher: Launcher, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The `==` indexes are rebuilt from the loaded state and start empty after a reset."""
    data_dir = str(tmp_path / "state")
    first = emulator_launcher("--data-dir", data_dir)
    owned = lambda c: sorted(  # noqa: E731
        d.id for d in c.collection("a").where(filter=FieldFilter("o", "==", "me")).stream()
    )
    client = _client(monkeypatch, first)
    for i in range(3):
        client.document(f"a/{i}").set({"o": "me"})
    assert owned(client) == ["0", "1", "2"]  # builds the index
    client.document("a/1").update({"o": "you"})
    first.proc.send_signal(signal.SIGTERM)
    assert first.proc.wait(10) == 0

    second = emulator_launcher("--data-dir", data_dir)
    client = _client(monkeypatch, second)
    assert owned(client) == ["0", "2"]
    status, _ = _http("DELETE", second, "/emulator/v1/projects/ops/databases/(default)/documents")
    assert status == 200
    assert owned(client) == []
    client.document("a/9").set({"o": "me"})
    assert owned(client) == ["9"]


@pytest.mark.parametrize("which", ["grpc", "http"])
def test_taken_port_fails_fast(
    emulator_cmd: Callable[..., Any], which: str, tmp_path: Path
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as spare:
            spare.bind(("127.0.0.1", 0))
            free = spare.getsockname()[1]
        grpc_port, http_port = (busy, free) if which == "grpc" else (free, busy)
        cmd, env = emulator_cmd("--port", str(grpc_port), "--http-port", str(http_port))
        started = time.monotonic()
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert time.monotonic() - started < 10
    assert str(busy) in result.stderr
    assert "ready" not in result.stdout


def test_default_http_port_is_grpc_port_plus_one(
    emulator_cmd: Callable[..., Any], tmp_path: Path
) -> None:
    port = _free_pair()
    cmd, env = emulator_cmd("--port", str(port))
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert f"http=127.0.0.1:{port + 1}" in line
        with urllib.request.urlopen(f"http://127.0.0.1:{port + 1}/", timeout=10) as response:
            assert response.status == 200
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_restart_on_the_same_ports_serves_at_once(
    emulator_cmd: Callable[..., Any], tmp_path: Path
) -> None:
    """The local stack restarts a stopped emulator on its ports: connections the last run
    closed (TIME_WAIT) must not keep it from binding them."""
    port = _free_pair()
    cmd, env = emulator_cmd("--port", str(port), "--data-dir", str(tmp_path / "state"))
    for _ in range(2):
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None
            assert "ready" in proc.stdout.readline()
            for _ in range(3):  # the server closes these: TIME_WAIT on its port
                with urllib.request.urlopen(f"http://127.0.0.1:{port + 1}/", timeout=10) as resp:
                    assert resp.status == 200
        finally:
            proc.terminate()
            assert proc.wait(10) == 0


def _free_pair() -> int:
    for _ in range(50):
        with socket.socket() as a, socket.socket() as b:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
            try:
                b.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return int(port)
    raise RuntimeError("no free port pair")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signals_stop_promptly_even_with_waiting_transactions(
    emulator_launcher: Launcher, monkeypatch: pytest.MonkeyPatch, sig: int
) -> None:
    emulator = emulator_launcher("--lock-timeout", "30")
    client = _client(monkeypatch, emulator)
    ref = client.document("sig/doc")
    ref.set({"n": 0})
    holder = client.transaction()
    holder._begin()
    list(holder.get(ref))
    # A plain write now waits for the holder's lock inside the server.
    waiter = threading.Thread(target=lambda: _ignore_errors(lambda: ref.set({"n": 1})))
    waiter.start()
    time.sleep(0.3)
    started = time.monotonic()
    emulator.proc.send_signal(sig)
    assert emulator.proc.wait(10) == 0
    assert time.monotonic() - started < 3
    waiter.join(30)


def _ignore_errors(fn: Callable[[], Any]) -> None:
    try:
        fn()
    except Exception:
        return


def test_streaming_and_partition_methods_are_unimplemented(emulator_launcher: Launcher) -> None:
    emulator = emulator_launcher()
    gapic = FirestoreClient(transport=FirestoreGrpcTransport(channel=_channel(emulator)))
    database = "projects/ops/databases/(default)"
    with pytest.raises(exceptions.MethodNotImplemented, match="Write"):
        list(gapic.write(iter([firestore_types.WriteRequest(database=database)])))
    with pytest.raises(exceptions.MethodNotImplemented, match="PartitionQuery"):
        gapic.partition_query(request={"parent": f"{database}/documents"})


def _snapshot_queue(ref: Any) -> tuple[Any, queue.Queue[dict[str, Any]]]:
    seen: queue.Queue[dict[str, Any]] = queue.Queue()
    watch = ref.on_snapshot(
        lambda docs, changes, read_time: seen.put({d.id: d.to_dict() for d in docs})
    )
    return watch, seen


def test_closed_listen_streams_release_their_threads(
    emulator_launcher: Launcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each open stream holds a gRPC worker; with 4 workers, leaked streams would block the
    # fifth listener and the final get.
    emulator = emulator_launcher("--workers", "4")
    client = _client(monkeypatch, emulator)
    client.document("c/d").set({"v": 1})
    for i in range(12):
        watch, seen = _snapshot_queue(client.document("c/d"))
        assert seen.get(timeout=10) == {"d": {"v": 1}}, i
        watch.unsubscribe()
    assert client.document("c/d").get(timeout=10).get("v") == 1


def test_listener_recovers_from_reset(
    emulator_launcher: Launcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator = emulator_launcher()
    client = _client(monkeypatch, emulator)
    client.document("c/d").set({"v": 1})
    watch, seen = _snapshot_queue(client.collection("c"))
    try:
        assert seen.get(timeout=10) == {"d": {"v": 1}}
        _http("DELETE", emulator, "/emulator/v1/projects/ops/databases/(default)/documents")
        # The stream ends with ABORTED; the client listens again with its resume token,
        # which belongs to the old database, so it is told to reset and sees it empty.
        assert seen.get(timeout=10) == {}
        client.document("c/e").set({"v": 2})
        assert seen.get(timeout=10) == {"e": {"v": 2}}
    finally:
        watch.unsubscribe()
