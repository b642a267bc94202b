"""The floor: a hello-world functions-framework function, served as the stack serves ours.

Same interpreter, same ``python -m functions_framework`` server and settings, its own process
group, on a free port; what it costs per request is what the framework alone costs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests
from _common import free_port

from infra.local.ports import HOST

HELLO = """import functions_framework


@functions_framework.http
def hello(request):
    return "ok"
"""


@dataclass(frozen=True)
class Floor:
    url: str
    pgid: int


@contextlib.contextmanager
def hello_world() -> Iterator[Floor]:
    with tempfile.TemporaryDirectory(prefix="genmedia-floor-") as tmp:
        source = Path(tmp) / "main.py"
        source.write_text(HELLO)
        port = free_port()
        argv = [sys.executable, "-m", "functions_framework", "--source", str(source)]
        argv += ["--target", "hello", "--host", HOST, "--port", str(port)]
        proc = subprocess.Popen(
            argv,
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        url = f"http://{HOST}:{port}/"
        try:
            deadline = time.monotonic() + 30
            while True:
                with contextlib.suppress(requests.ConnectionError):
                    if requests.get(url, timeout=2).status_code == 200:
                        break
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the hello-world function did not start")
                time.sleep(0.1)
            yield Floor(url, proc.pid)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
